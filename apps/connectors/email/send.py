"""Agent replies by email over SMTP, threaded so they sit in the customer's own mail thread.

The reply goes From the account's address To the sender of the customer's latest mail written by
a person (never to an auto-reply, a bounce or a postmaster), with
    Message-ID   <token@domain>, the token naming conversation and message (tokens.py);
                 returned, so the deliver task stores it as the reply's external_id
    In-Reply-To  that latest mail's Message-ID;  References: its References + its Message-ID
    Reply-To     address+token@domain (turn off with settings["plus_addressing"] = false)
    Subject      "Re: <conversation subject> [#<conversation id>]"
    body         the reply, then "On <date>, <name> wrote:" and the quoted mail, plain text.
The Message-ID is the same on every attempt, so a retry after an unclear failure cannot
show up twice in the customer's client.
"""
import re
import smtplib
import ssl
from email import policy
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage

from django.conf import settings as django_settings
from django.utils import timezone

from apps.connectors.services import channel_account_record_failure
from apps.crm.models import Identity
from apps.inbox.channels import PermanentSendError, TemporarySendError

from .client import MailServerError, smtp_connect
from .parse import SYSTEM_SENDERS
from .tokens import plus_address, reply_token, token_message_id

MAX_REFERENCES = 20
MAX_QUOTED_CHARS = 20_000
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|rv|res|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_TAG = re.compile(r"\s*\[#\d+\]")


class _IdListHeader(UnstructuredHeader):
    """References / In-Reply-To: one id per line. The default folder RFC 2047-encodes an id longer
    than a line (Outlook's often are), and an encoded id no longer threads anywhere."""

    def fold(self, *, policy):
        ids = str(self).split()
        return policy.linesep.join([f"{self.name}: {ids[0] if ids else ''}", *(f" {i}" for i in ids[1:])]) + policy.linesep


_registry = HeaderRegistry()
_registry.map_to_type("references", _IdListHeader)
_registry.map_to_type("in-reply-to", _IdListHeader)
SMTP_POLICY = policy.SMTP.clone(header_factory=_registry)


def send(*, message, account) -> str:
    """Send the reply; returns its Message-ID (without <>)."""
    settings, secrets = account.settings or {}, account.secrets or {}
    address = (settings.get("address") or "").strip()
    if "@" not in address:
        raise PermanentSendError("this email account has no address to send from (settings: address)")
    conversation = message.conversation
    answered = _latest_mail_from_a_person(conversation)
    to_name, to_address = _recipient(conversation, answered)

    token = reply_token(conversation_id=conversation.id, message_id=message.id, secret=django_settings.SECRET_KEY)
    message_id = token_message_id(token=token, address=address)
    try:
        mail = _compose(message, conversation, answered, settings, address, to_name, to_address, token, message_id)
    except (ValueError, TypeError) as exc:  # an address the email library refuses
        raise PermanentSendError(f"cannot write this mail: {exc}") from exc
    smtp_deliver(mail, account, settings, secrets, address, to_address)
    return message_id


def _latest_mail_from_a_person(conversation):
    """The newest inbound mail not sent by a machine (auto-reply, bounce, list)."""
    recent = conversation.messages.filter(direction="in").select_related("sender_identity").order_by("-sent_at", "-id")
    for inbound in recent[:50]:
        if not inbound.metadata.get("automated"):
            return inbound
    return None


def _recipient(conversation, answered) -> tuple[str, str]:
    identity = answered.sender_identity if answered is not None else None
    if identity is None or identity.kind != "email":
        identity = Identity.objects.filter(customer_id=conversation.customer_id, kind="email").order_by("-id").first()
    if identity is None:
        raise PermanentSendError("the customer has no email address to reply to")
    if identity.value.split("@")[0] in SYSTEM_SENDERS:
        raise PermanentSendError(f"not replying to a mail system address ({identity.value})")
    name = identity.display_name or (answered.customer.display_name if answered is not None else "")
    return name, identity.value


def _compose(message, conversation, answered, settings, address, to_name, to_address, token, message_id) -> EmailMessage:
    display_name = settings.get("display_name") or ""
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["Message-ID"] = f"<{message_id}>"
    mail["Date"] = message.sent_at or timezone.now()
    mail["From"] = Address(display_name, addr_spec=address)
    mail["To"] = Address(to_name, addr_spec=to_address)
    if settings.get("plus_addressing", True):
        mail["Reply-To"] = Address(display_name, addr_spec=plus_address(address=address, token=token))
    # The desk's first word in a conversation it started is no reply: no "Re:".
    mail["Subject"] = reply_subject(conversation.subject or (answered.subject if answered else ""), conversation.id,
                                    first=answered is None and message.subject == conversation.subject)
    in_reply_to, references = _thread_ids(answered)
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    mail["Auto-Submitted"] = "no"  # a person wrote it: auto-responders may answer (RFC 3834)
    # Quoted-printable keeps every line short and 7-bit, whatever the server accepts.
    mail.set_content(_body(message.text, answered), cte="quoted-printable")
    _attach(mail, message)
    return mail


def _attach(mail: EmailMessage, message) -> None:
    """Files the agent attached to the reply (stored, size-bounded by the reply API)."""
    for attachment in message.attachments.all():
        if not attachment.file:
            continue
        with attachment.file.open("rb") as f:
            data = f.read()
        maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        mail.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                            filename=attachment.filename)


def reply_subject(subject: str, conversation_id: int, *, first: bool = False) -> str:
    base = _TAG.sub("", _REPLY_PREFIX.sub("", subject or "")).strip() or "Your request"
    return f"{'' if first else 'Re: '}{base} [#{conversation_id}]"


def _thread_ids(answered) -> tuple[str | None, list[str]]:
    if answered is None:
        return None, []
    email_meta = answered.metadata.get("email") or {}
    answered_id = email_meta.get("message_id")
    if not answered_id and answered.external_id and not answered.external_id.startswith("sha256:"):
        answered_id = answered.external_id
    chain = [r for r in email_meta.get("references") or [] if r != answered_id]
    if answered_id:
        chain.append(answered_id)
    if len(chain) > MAX_REFERENCES:  # RFC 5322: keep the first (the thread's root) and the latest
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return answered_id, chain


def _body(text: str, answered) -> str:
    if answered is None or not answered.text:
        return text
    who = answered.metadata.get("email", {}).get("from") or (
        answered.sender_identity.value if answered.sender_identity else answered.customer.display_name
    )
    when = timezone.localtime(answered.sent_at).strftime("%a, %d %b %Y %H:%M %z")
    quoted = "\n".join(">" + line if line.startswith(">") else ("> " + line if line else ">")
                       for line in answered.text[:MAX_QUOTED_CHARS].splitlines())
    return f"{text}\n\nOn {when}, {who} wrote:\n{quoted}\n"


def smtp_deliver(mail, account, settings, secrets, address, to_address) -> None:
    try:
        smtp = smtp_connect(settings=settings, secrets=secrets)
        try:
            smtp.send_message(mail, from_addr=address, to_addrs=[to_address])
        finally:
            _close(smtp)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _by_code(code, f"{to_address} refused: {code} {_text(reply)}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        _unhealthy(account, f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        raise _by_code(exc.smtp_code, f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPResponseException as exc:  # sender or data refused, greeting refused
        raise _by_code(exc.smtp_code, f"SMTP server said {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS / AUTH / SMTPUTF8 where we need it
        _unhealthy(account, f"SMTP: {exc}")
        raise PermanentSendError(f"SMTP server does not support what this account needs: {exc}") from exc
    except ssl.SSLCertVerificationError as exc:
        _unhealthy(account, f"SMTP TLS: {exc}")
        raise PermanentSendError(f"SMTP server certificate not trusted: {exc.verify_message}") from exc
    except MailServerError as exc:  # settings missing or invalid
        raise PermanentSendError(str(exc)) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, disconnected, TLS handshake
        _unhealthy(account, f"SMTP {settings.get('smtp_host')}: {exc.__class__.__name__}: {exc}")
        raise TemporarySendError(f"SMTP {settings.get('smtp_host')}: {exc.__class__.__name__}: {exc}") from exc


def _by_code(code: int, text: str):
    if 400 <= code < 500:
        return TemporarySendError(text)
    if 500 <= code < 600:
        return PermanentSendError(text)
    return TemporarySendError(text)  # no proper reply code: the connection broke


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _unhealthy(account, error: str) -> None:
    channel_account_record_failure(account=account, error=error)


def _close(smtp) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
