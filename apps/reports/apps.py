from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"

    def ready(self):
        from apps.core import realtime

        from .services import wallboard_changed

        def on_changed(sender, *, events, **kwargs):
            wallboard_changed(events=events)

        self._on_changed = on_changed  # the signal holds receivers weakly
        realtime.changed.connect(on_changed, dispatch_uid="reports.wallboard")
