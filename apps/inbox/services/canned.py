"""Canned responses: saved replies with variables, managed by supervisors and admins.

Variables are substituted by a small fixed table, not by the template engine: a canned text
is data written by staff, and must not reach attributes or tags beyond these.
"""
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.crm.naming import is_placeholder

from ..models import CannedResponse, Conversation

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def canned_render(*, canned: CannedResponse, conversation: Conversation, agent) -> str:
    """The text with {{customer.name}}, {{customer.first_name}}, {{agent.name}} and
    {{conversation.id}} filled in; an unknown variable is left as written (the agent sees it)."""
    # "Hola Messenger user ·8600" reads worse than "Hola": a raw id or number is no name.
    stored = conversation.customer.display_name
    customer_name = "" if is_placeholder(stored) else stored.strip()
    values = {
        "customer.name": customer_name,
        "customer.first_name": customer_name.split()[0] if customer_name else "",
        "agent.name": agent.get_full_name() or agent.username,
        "agent.first_name": agent.first_name or agent.username,
        "conversation.id": str(conversation.id),
        "conversation.subject": conversation.subject,
    }
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), canned.text)


def canned_create(*, actor, shortcut: str, title: str, text: str) -> CannedResponse:
    try:
        with transaction.atomic():
            canned = CannedResponse.objects.create(shortcut=shortcut, title=title, text=text, created_by=actor)
            audit_record(actor=actor, action="canned.created", target=canned, after={"shortcut": shortcut, "title": title})
            return canned
    except IntegrityError:
        raise ApplicationError(_("This shortcut is taken"), extra={"shortcut": shortcut}, status_code=409) from None


def canned_update(*, canned: CannedResponse, actor=None, **changes) -> CannedResponse:
    before = {name: getattr(canned, name) for name in changes}
    for name, value in changes.items():
        setattr(canned, name, value)
    changed = [k for k in changes if before[k] != changes[k]]
    try:
        with transaction.atomic():
            canned.save()
            if changed:
                audit_record(actor=actor, action="canned.changed", target=canned,
                             before={k: before[k] for k in changed}, after={k: changes[k] for k in changed})
    except IntegrityError:
        raise ApplicationError(_("This shortcut is taken"), extra={"shortcut": canned.shortcut}, status_code=409) from None
    return canned


def canned_delete(*, canned: CannedResponse, actor=None) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="canned.deleted", target=canned, before={"shortcut": canned.shortcut, "title": canned.title})
        canned.delete()
