from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "apps.inbox"
    label = "inbox"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from .signals import close_sockets_of_session

        user_logged_out.connect(close_sockets_of_session, dispatch_uid="inbox-close-sockets-on-logout")

        # A deactivated user's open work goes back to the queue through the inbox's own service.
        from apps.accounts.hooks import on_user_deactivated

        from .services.conversations import conversations_release

        on_user_deactivated(conversations_release)

        from apps.accounts.hooks import on_user_access_changed

        from .signals import close_sockets_of_user

        on_user_access_changed(close_sockets_of_user)

        # The customer records (apps/crm, below the inbox) reach their conversations through their
        # hooks: visibility, merges, data-protection export and erasure, the retention sweep.
        from apps.crm.hooks import history_connect

        from .services import customers

        history_connect(customers)
