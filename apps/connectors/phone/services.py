"""Phone writes: calls logged by hand, Master.csv uploads. Both go through messages_ingest."""
import uuid
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.connectors.drain import payloads_import
from apps.connectors.models import ChannelAccount, ChannelKind, InboundPayload
from apps.connectors.services import DRAIN_TASK, ImportCounts
from apps.core.errors import ApplicationError
from apps.crm.identities import InvalidIdentity
from apps.crm.models import Customer, Identity, IdentityKind
from apps.crm.selectors import customers_visible
from apps.inbox.inbound import ParseError, SenderIdentity
from apps.inbox.models import IN_QUEUE, Conversation, Message
from apps.inbox.services.ingest import messages_ingest

from .parse import call_message, phone_e164, split_asterisk

MANUAL_ACCOUNT_NAME = "Manual call log"


def call_log_create(
    *,
    customer: Customer,
    user,
    direction: str,
    status: str,
    duration_seconds: int = 0,
    notes: str = "",
    phone: str = "",
    started_at: datetime | None = None,
    conversation: Conversation | None = None,
) -> Message:
    """A call taken on any phone system, logged by an agent: it threads like any call.

    The account: the given conversation's; else the customer's open phone conversation's
    (so a logged call-back answers the missed call); else PHONE_MANUAL_ACCOUNT_ID; else the
    first enabled phone account; else a "Manual call log" phone account made on first use.
    """
    number = _number_for(customer, phone, user=user)
    if conversation is not None and conversation.customer_id != customer.id:
        raise ApplicationError(_("That conversation belongs to another customer"), extra={"conversation_id": conversation.id})
    account = conversation.channel_account if conversation is not None else _account_for(customer)
    our_side = account.settings.get("phone_number", "") if account.kind == ChannelKind.PHONE else ""
    try:
        message = call_message(
            account_id=account.id,
            external_id=f"manual:{uuid.uuid4()}",
            direction=direction,
            status=status,
            started_at=started_at or timezone.now(),
            duration_seconds=duration_seconds,
            from_number=number if direction == "inbound" else our_side,
            to_number=our_side if direction == "inbound" else number,
            source="manual",
            notes=notes,
            logged_by=user.id,
        )
    except ParseError as exc:
        raise ApplicationError(str(exc)) from exc
    # One identity the customer already has rides along: a new number then joins this customer.
    anchor = Identity.objects.filter(customer=customer).order_by("id").values_list("kind", "value").first()
    if anchor and anchor != (IdentityKind.PHONE, number):
        message.senders.append(SenderIdentity(*anchor))
    if conversation is not None:
        if conversation.thread_key:
            message.thread_key = conversation.thread_key
        else:
            last = (
                Message.objects.filter(conversation=conversation, channel_account=account, external_id__isnull=False)
                .order_by("-sent_at", "-id").values_list("external_id", flat=True).first()
            )
            message.references = [last] if last else []
    result = messages_ingest(messages=[message])
    return Message.objects.select_related("author").prefetch_related("attachments").get(pk=result.message_ids[0])


def _number_for(customer: Customer, phone: str, *, user) -> str:
    if phone:
        try:
            number = phone_e164(phone)
        except InvalidIdentity as exc:
            raise ApplicationError(str(exc), extra={"phone": phone}) from exc
        owner = Identity.objects.filter(kind=IdentityKind.PHONE, value=number).values_list("customer_id", flat=True).first()
        if owner is not None and owner != customer.id:
            if not customers_visible(user=user).filter(pk=owner).exists():
                # Refused all the same, but a customer the user may not see is not named, nor said to exist.
                raise ApplicationError(
                    _("This number cannot be logged for this customer: ask a supervisor to log the call"),
                    extra={"phone": number},
                )
            raise ApplicationError(
                _("This number belongs to another customer: merge the two or log the call there"),
                extra={"phone": number, "customer_id": owner},
            )
        return number
    number = (
        Identity.objects.filter(customer=customer, kind=IdentityKind.PHONE).order_by("-id").values_list("value", flat=True).first()
    )
    if not number:
        raise ApplicationError(_("This customer has no phone number: give the number called"), extra={"phone": ""})
    return number


def _account_for(customer: Customer) -> ChannelAccount:
    open_call = (
        Conversation.objects.filter(customer=customer, channel_account__kind=ChannelKind.PHONE, status__in=IN_QUEUE)
        .order_by("-last_activity_at").select_related("channel_account").first()
    )
    if open_call is not None:
        return open_call.channel_account
    phone_accounts = ChannelAccount.objects.filter(kind=ChannelKind.PHONE)
    if settings.PHONE_MANUAL_ACCOUNT_ID:
        account = phone_accounts.filter(pk=settings.PHONE_MANUAL_ACCOUNT_ID).first()
        if account is None:
            raise ApplicationError("PHONE_MANUAL_ACCOUNT_ID is not a phone channel account", status_code=500)
        return account
    account = phone_accounts.filter(enabled=True).order_by("id").first()
    if account is None:
        with transaction.atomic():
            account, _ = ChannelAccount.objects.get_or_create(
                kind=ChannelKind.PHONE, name=MANUAL_ACCOUNT_NAME, defaults={"settings": {"manual": True}}
            )
    return account


def asterisk_file_import(*, account: ChannelAccount, name: str, raw: bytes) -> ImportCounts:
    """An uploaded Master.csv: refused as a whole when it is another layout (ParseError), else imported row by row."""
    return payloads_import(kind="asterisk", account=account, payloads=_asterisk_rows(account, name, raw))


def asterisk_file_stage(*, account: ChannelAccount, name: str, raw: bytes) -> int:
    """A large Master.csv: its rows are staged for the worker's drain (as webhooks stage), not imported in the request.

    Returns the number of rows staged; failures end up as dead letters, duplicates are dropped by ingest.
    """
    rows = _asterisk_rows(account, name, raw)
    with transaction.atomic():
        InboundPayload.objects.bulk_create(
            [InboundPayload(channel_account=account, kind="asterisk", raw=row, source="import") for _, row in rows],
            batch_size=2000,
        )
        transaction.on_commit(current_app.signature(DRAIN_TASK).delay)
    return len(rows)


def _asterisk_rows(account: ChannelAccount, name: str, raw: bytes) -> list[tuple[str, bytes]]:
    if account.kind != ChannelKind.PHONE:
        raise ApplicationError(_("Master.csv files are imported into a phone channel account"))
    return list(split_asterisk(name, raw))  # the layout check runs on the first row, before anything is stored
