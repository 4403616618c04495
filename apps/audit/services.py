"""The one writer of the audit log. Every app above accounts may import it (it imports nothing above
core/accounts); accounts reaches it through its audit hook (apps/accounts/hooks.py)."""
import ipaddress

from django.db import models

from .models import AuditEntry


def audit_record(*, actor, action: str, target=None, before: dict | None = None, after: dict | None = None,
                 ip: str | None = None, target_type: str = "", target_id: str | int = "", target_label: str = "") -> AuditEntry:
    """Record one change: `actor` (a User or None for the system), a dotted `action`, the `target`
    (a model instance, or target_type / target_id / target_label given explicitly), what the
    changed fields were `before` and are `after` (JSON-able values only; never a secret or
    personal data the change is about to erase), and the client `ip`.

    Written in the caller's transaction: a change that rolls back leaves no entry.
    """
    if isinstance(target, models.Model):
        target_type = target_type or target._meta.model_name
        target_id = target_id or target.pk
        target_label = target_label or str(target)[:200]
    return AuditEntry.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=(actor.get_username() if actor is not None and getattr(actor, "pk", None) else "")[:150],
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        target_label=target_label[:200],
        before=before or {},
        after=after or {},
        ip=_address(ip),
    )


def _address(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:  # e.g. a unix socket's peer: nothing to record
        return None
