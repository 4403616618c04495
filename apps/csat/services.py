"""Customer satisfaction (CSAT): after each resolution the customer is asked once, on their own
channel, to rate the help 1..5 on a public page; the answer lands in the conversation's history.

The inbox never imports this app: `events_committed` (connected in apps.py to the committed live
events) hears a conversation.updated that changed the status to resolved and queues
`csat_survey_for_resolution`, a thin task over `survey_for_resolution` below.

survey_for_resolution, in one transaction, with the conversation and then the customer locked,
for a conversation whose channel account has CSAT turned on (ChannelAccount.csat_enabled, an
admin's opt-in per channel, off by default; CSAT_ENABLED=0 turns every survey off):
- one survey per resolution: the survey keys on the "status -> resolved" event (unique), so an
  event heard twice or a retried task finds it made and does nothing;
- asked or skipped, a row is kept with the reason when skipped: never in public (a tweet thread,
  a Facebook comment), never to a machine (the conversation's last inbound message was an
  auto-reply, a bounce, a list mail, as the email parser flags them in metadata["automated"]) or
  to a no-reply / system address, at most once per customer in CSAT_MIN_DAYS days, and only when
  the channel can send now (its composer rules: Messenger's windows);
- sent through the inbox's own outbound path: a reply of no author (the desk shows the channel's
  name) in the resolved conversation, delivered like any reply (queued -> sent / failed, retried);
  a phone call or a web form has no outbound channel of its own: the survey goes by email (an
  enabled email account, the conversation's team's first) to the customer's address, in a new
  conversation started with conversation_start and resolved at once (`carrier`); no address,
  no survey (skipped, reason no_address).

survey_answer: the link (a random token, expiring CSAT_LINK_DAYS after sending) takes one answer;
the score and comment become the conversation's "rated" event and a line in its thread (the
inbox's conversation_rating_record, published live); a score at or under CSAT_LOW_SCORE notifies
the supervisors (the inbox's notifications) and, with CSAT_REOPEN_ON_LOW, reopens the conversation.
"""
import logging
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.core.errors import ApplicationError
from apps.crm.models import Customer, Identity
from apps.inbox.channels import PRIVATE, composer_rules
from apps.inbox.models import Conversation, ConversationEvent, Message, Notification
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.feedback import COMMENT_MAX_CHARS, conversation_rating_record
from apps.inbox.services.notifications import notify_about_conversation
from apps.inbox.services.outbound import conversation_start
from apps.inbox.services.replies import reply_create

from .models import Survey

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "es")
# Threads that are public by nature: X's tweet threads and Facebook's comment threads.
PUBLIC_THREADS = ("tweet:", "post:")
# Addresses nobody reads (RFC 2142 and common practice): no-reply, mailer-daemon, postmaster, bounces.
NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)([+._-].*)?$", re.IGNORECASE)
# Channels whose conversations are asked by email (they send nothing themselves).
BY_EMAIL = (ChannelKind.PHONE, ChannelKind.WEBFORM)


class SurveyError(ApplicationError):
    """An answer refused: code is unknown, expired, answered or invalid."""

    def __init__(self, message: str, *, code: str, status_code: int = 400):
        super().__init__(message, extra={"code": code}, status_code=status_code)
        self.code = code


class _Skip(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, str(detail)[:300]


# --- asking ---------------------------------------------------------------------------------------


def survey_for_resolution(*, conversation_id: int, now: datetime | None = None) -> Survey | None:
    """The survey of the conversation's latest resolution: made (sent or skipped) once, then found.
    None when there is nothing to ask about (reopened since, CSAT off globally or for the
    conversation's channel account, a carrier of a survey)."""
    if not settings.CSAT_ENABLED:
        return None
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _survey_for_resolution(conversation_id, now)
    except IntegrityError:  # another worker made it between our check and insert (the unique key held)
        return Survey.objects.filter(conversation_id=conversation_id).order_by("-id").first()


def _survey_for_resolution(conversation_id: int, now: datetime) -> Survey | None:
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("channel_account")
        .filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.status != Conversation.Status.RESOLVED:
        return None
    if not conversation.channel_account.csat_enabled:
        return None  # the channel's opt-in (an admin's setting, off by default): nothing asked, no row
    resolution = (
        ConversationEvent.objects.filter(conversation=conversation, kind=ConversationEvent.Kind.STATUS,
                                         data__to=Conversation.Status.RESOLVED)
        .order_by("-id").first()
    )
    if resolution is None:
        return None
    made = Survey.objects.filter(resolution=resolution).first()
    if made is not None:
        return made
    if Survey.objects.filter(carrier=conversation).exists():
        return None  # the email that carried another conversation's survey, resolved as it left
    # Lock order: conversation, then customer. Two resolutions of one customer decide one at a time,
    # so "at most once in N days" holds under concurrency.
    Customer.objects.select_for_update().filter(pk=conversation.customer_id).first()
    survey = Survey(
        resolution=resolution, conversation=conversation, customer_id=conversation.customer_id,
        channel_kind=conversation.channel_account.kind, team_id=conversation.team_id,
        agent_id=conversation.assignee_id or resolution.actor_id, language=conversation_language(conversation),
        created_at=now,
    )
    try:
        _check(conversation, now)
        survey.token = secrets.token_urlsafe(32)
        survey.expires_at = now + timedelta(days=settings.CSAT_LINK_DAYS)
        with transaction.atomic():  # a savepoint: a send the channel refuses leaves nothing behind
            survey.message, survey.carrier = _send(survey, conversation)
    except _Skip as skip:
        survey.token = survey.expires_at = survey.message = survey.carrier = None
        survey.status, survey.skip_reason, survey.skip_detail = Survey.Status.SKIPPED, skip.reason, skip.detail
        survey.save()
        logger.info("CSAT not sent for conversation %s: %s %s", conversation.id, skip.reason, skip.detail)
        return survey
    survey.status = Survey.Status.SENT
    survey.save()
    return survey


def _check(conversation: Conversation, now: datetime) -> None:
    """Raise _Skip when this customer must not be asked now."""
    if conversation.is_public or (conversation.thread_key or "").startswith(PUBLIC_THREADS):
        raise _Skip(Survey.Skip.PUBLIC)
    latest = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN)
        .order_by("-sent_at", "-id").select_related("sender_identity").first()
    )
    if latest is not None and latest.metadata.get("automated"):
        raise _Skip(Survey.Skip.AUTOMATED, f"{latest.metadata['automated']}: {latest.metadata.get('automated_reason', '')}")
    identity = latest.sender_identity if latest is not None else None
    if identity is not None and identity.kind == "email" and NO_REPLY.match(identity.value.split("@")[0]):
        raise _Skip(Survey.Skip.NO_REPLY, identity.value)
    if settings.CSAT_MIN_DAYS > 0:
        since = now - timedelta(days=settings.CSAT_MIN_DAYS)
        last = (
            Survey.objects.filter(customer_id=conversation.customer_id, status__in=(Survey.Status.SENT, Survey.Status.ANSWERED),
                                  created_at__gt=since)
            .order_by("-created_at").values_list("id", flat=True).first()
        )
        if last is not None:
            raise _Skip(Survey.Skip.RECENT, f"survey #{last}")


def _send(survey: Survey, conversation: Conversation) -> tuple[Message, Conversation | None]:
    """Hand the survey to the inbox's outbound path; the queued message (and the carrier conversation)."""
    with translation.override(survey.language):
        text = survey_text(survey)
        subject = _("How did we do?")
    if conversation.channel_account.kind in BY_EMAIL:
        identity, account = _email_route(conversation)
        try:
            message = conversation_start(author=None, customer=conversation.customer, identity=identity, account=account,
                                         subject=subject, text=text)
        except ApplicationError as exc:
            raise _Skip(Survey.Skip.CHANNEL, exc.message) from exc
        carrier = message.conversation
        # Nothing for an agent to do there: resolved at once (a customer's answer to it reopens it).
        conversation_update(conversation=carrier, actor=None, status=Conversation.Status.RESOLVED,
                            audit={"by": "csat", "survey_of": conversation.id})
        return message, carrier
    rules = composer_rules(conversation)
    if not rules.can_reply:
        raise _Skip(Survey.Skip.CHANNEL, rules.notice)
    if rules.visibilities and PRIVATE not in rules.visibilities:
        raise _Skip(Survey.Skip.PUBLIC)
    try:
        message = reply_create(conversation=conversation, author=None, text=text, is_public=False)
    except ApplicationError as exc:  # the channel's rules refused it (length, visibility...)
        raise _Skip(Survey.Skip.CHANNEL, exc.message) from exc
    return message, None


def _email_route(conversation: Conversation) -> tuple[Identity, ChannelAccount]:
    identity = next(
        (i for i in Identity.objects.filter(customer_id=conversation.customer_id, kind="email").order_by("-id")
         if not NO_REPLY.match(i.value.split("@")[0])),
        None,
    )
    if identity is None:
        raise _Skip(Survey.Skip.NO_ADDRESS, "the customer has no email address")
    accounts = list(ChannelAccount.objects.filter(kind=ChannelKind.EMAIL, enabled=True).order_by("id"))
    account = next((a for a in accounts if a.team_id == conversation.team_id), accounts[0] if accounts else None)
    if account is None:
        raise _Skip(Survey.Skip.NO_ADDRESS, "no enabled email account to send from")
    return identity, account


def survey_url(survey: Survey) -> str:
    base = (settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("csat:survey", args=[survey.token])


def survey_text(survey: Survey) -> str:
    """The message that asks, in the active language."""
    until = formats.date_format(timezone.localtime(survey.expires_at), "DATE_FORMAT")
    return _(
        "Thank you for contacting us. How did we do? Please rate our help from 1 to 5 "
        "(it takes a few seconds): %(link)s\nThe link works until %(date)s."
    ) % {"link": survey_url(survey), "date": until}


# The customer's language: a web form records the page's; otherwise their words in the conversation.
_ES_WORDS = frozenset(
    "el la los las de del que y en un una por para con no mi es está estoy hola gracias pedido al lo se su muy pero como "
    "qué cuando tengo favor buenos buenas días sí ya también hoy ayer mañana quiero puedo".split()
)
_EN_WORDS = frozenset(
    "the and to of a my is in it for with not you your have this that hello hi thanks thank please order was are on can "
    "i my me we our yes today yesterday tomorrow want could would".split()
)
_WORD = re.compile(r"[a-záéíóúñü]+")


def conversation_language(conversation: Conversation) -> str:
    rows = list(
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN)
        .order_by("-sent_at", "-id").values_list("text", "metadata__form__language")[:5]
    )
    for _text, form_language in rows:
        if form_language:
            language = str(form_language).split("-")[0].lower()
            if language in LANGUAGES:
                return language
    words = _WORD.findall(" ".join(t or "" for t, _lang in rows).lower())
    spanish, english = sum(w in _ES_WORDS for w in words), sum(w in _EN_WORDS for w in words)
    if spanish != english:
        return "es" if spanish > english else "en"
    default = settings.LANGUAGE_CODE.split("-")[0]
    return default if default in LANGUAGES else "en"


# --- answering ------------------------------------------------------------------------------------


def survey_for_token(*, token: str) -> Survey | None:
    if not token or len(token) > 64:
        return None
    return Survey.objects.filter(token=token).first()


def survey_state(survey: Survey | None, *, now: datetime | None = None) -> str:
    """unknown, answered, expired or open."""
    now = now or timezone.now()
    if survey is None:
        return "unknown"
    if survey.status == Survey.Status.ANSWERED:
        return "answered"
    if survey.expires_at is None or survey.expires_at <= now:
        return "expired"
    return "open"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def survey_answer(*, token: str, score, comment: str = "", now: datetime | None = None) -> Survey:
    """Take the customer's one answer. SurveyError (unknown 400, expired 410, answered 409, invalid 400)."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(token=token).first() if token and len(token) <= 64 else None
        state = survey_state(survey, now=now)
        if state == "unknown":
            raise SurveyError(_("This link is not valid."), code="unknown", status_code=400)
        if state == "answered":
            raise SurveyError(_("This survey has already been answered. Thank you!"), code="answered", status_code=409)
        if state == "expired":
            raise SurveyError(_("This link has expired."), code="expired", status_code=410)
        score, comment = _valid_answer(score, comment)
        survey.score, survey.comment, survey.answered_at, survey.status = score, comment, now, Survey.Status.ANSWERED
        survey.save(update_fields=["score", "comment", "answered_at", "status"])
        conversation_rating_record(conversation=survey.conversation, score=score, comment=comment,
                                   data={"survey_id": survey.id})
        if score <= settings.CSAT_LOW_SCORE:
            _low_rating(survey)
    return survey


def _valid_answer(score, comment) -> tuple[int, str]:
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise SurveyError(_("Please choose a rating from 1 to 5."), code="invalid")
    comment = _CONTROL.sub("", comment if isinstance(comment, str) else "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise SurveyError(_("The comment is too long (at most %(max)d characters).") % {"max": COMMENT_MAX_CHARS}, code="invalid")
    return score, comment


def _low_rating(survey: Survey) -> None:
    conversation = survey.conversation
    # The supervisors whose figures it is (report_team_scope: a supervisor who belongs to teams reads
    # those teams' reports); on a desk without supervisors, its admins.
    memberships = {}
    for user_id, team_id in User.teams.through.objects.filter(user__role=Role.SUPERVISOR, user__is_active=True).values_list("user_id", "team_id"):
        memberships.setdefault(user_id, set()).add(team_id)
    everyone = list(User.objects.filter(role=Role.SUPERVISOR, is_active=True).values_list("id", flat=True))
    supervisors = [u for u in everyone if u not in memberships or conversation.team_id in memberships[u]]
    if not everyone:
        supervisors = list(User.objects.filter(role=Role.ADMIN, is_active=True).values_list("id", flat=True))

    def text():
        body = _("Conversation #%(id)s: the customer rated it %(score)d out of 5") % {"id": conversation.id, "score": survey.score}
        return body + (f": {survey.comment}" if survey.comment else "")

    notify_about_conversation(conversation=conversation, user_ids=supervisors, kind=Notification.Kind.LOW_RATING, text=text)
    if settings.CSAT_REOPEN_ON_LOW:
        current = Conversation.objects.filter(pk=conversation.pk).values_list("status", flat=True).first()
        if current == Conversation.Status.RESOLVED:
            conversation_update(conversation=conversation, actor=None, status=Conversation.Status.OPEN,
                                audit={"by": "csat", "score": survey.score, "survey_id": survey.id})
