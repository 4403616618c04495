from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "apps.sla"
    label = "sla"

    def ready(self):
        # The inbox asks for clock changes through its contract (apps/inbox/clocks.py); connect ours.
        from apps.inbox.clocks import clocks_connect

        from .clocks import clocks_start, clocks_sync, describe

        clocks_connect(sync=clocks_sync, start=clocks_start, describe=describe)
