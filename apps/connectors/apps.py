from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "apps.connectors"
    label = "connectors"

    def ready(self):
        # The inbox asks for a channel's composer rules and sender through its own contract
        # (apps/inbox/channels.py); the registry answers it. Imported here, once every app is loaded.
        from apps.inbox.channels import channels_connect, kinds_connect

        from .health import account_health
        from .models import ChannelAccount, ChannelKind, health_rule_connect
        from .registry import channel_for_inbox
        from .selectors import account_kinds

        channels_connect(channel_for_inbox)
        health_rule_connect(account_health)  # the model's health line needs the channel declarations
        kinds_connect(choices=ChannelKind.choices, account_kinds=account_kinds, accounts=ChannelAccount.objects.in_bulk)
