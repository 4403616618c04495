"""Sign-ins into the audit log (Django's auth signals), with the client's address."""
from apps.core.net import client_ip

from .services import audit_record


def record_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="auth.login", target=user, ip=client_ip(request) if request else None)


def record_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried (never the password: Django already masks it in `credentials`).
    username = str((credentials or {}).get("username", ""))[:150]
    audit_record(
        actor=None, action="auth.login_failed", target_type="user", target_label=username,
        after={"username": username}, ip=client_ip(request) if request else None,
    )
