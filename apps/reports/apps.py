from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"

    def ready(self):
        # The wallboard hears every published event and presence change (apps/core/realtime.py).
        from apps.core.realtime import publish_listen

        from .services import wallboard_changed

        publish_listen(wallboard_changed)
