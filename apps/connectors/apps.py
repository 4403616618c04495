from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "apps.connectors"
    label = "connectors"

    def ready(self):
        # The inbox asks for a channel's composer rules and sender through its own contract
        # (apps/inbox/channels.py); the registry answers it. Imported here, once every app is loaded.
        from apps.inbox.channels import channels_connect

        from .registry import channel_for_inbox

        channels_connect(channel_for_inbox)
