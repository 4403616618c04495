from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self):
        # Sign-ins and failed sign-ins (the desk's /login/, the Django admin's, the API's session login).
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from .signals import record_login, record_login_failed

        user_logged_in.connect(record_login, dispatch_uid="audit-login")
        user_login_failed.connect(record_login_failed, dispatch_uid="audit-login-failed")

        # Changes to people and teams: accounts lives below this app and calls its audit hook.
        from apps.accounts.hooks import on_audit

        from .services import audit_record

        on_audit(audit_record)
