from django.apps import AppConfig


class CsatConfig(AppConfig):
    name = "apps.csat"
    label = "csat"

    def ready(self):
        # Surveys follow resolutions: this app hears the committed live events (apps/core/realtime.py);
        # the inbox publishes as it always does and never imports this app.
        from apps.core.realtime import publish_listen

        from .hooks import events_committed

        publish_listen(events_committed)
