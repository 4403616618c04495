from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"

    def ready(self):
        # Outgoing webhooks hear every committed live event (apps/core/realtime.py); the inbox and
        # the SLA code publish as they always do and never import this app.
        from apps.core.realtime import publish_listen

        from .hooks import events_committed

        publish_listen(events_committed)

        # A customer's erasure and the retention sweep reach the payloads kept in the delivery log.
        from apps.inbox.services.redaction import on_conversations_redacted

        from .services import deliveries_redact

        on_conversations_redacted(deliveries_redact)
