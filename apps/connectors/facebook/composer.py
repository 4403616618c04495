"""What an agent may send on a Facebook conversation (shown by the composer, enforced by reply_create).

Messenger ("psid:<psid>" threads) follows Meta's messaging windows, counted from the
customer's last message: within 24 h a standard reply (messaging_type RESPONSE); from 24 h to
7 days only a human agent's reply (MESSAGE_TAG + tag HUMAN_AGENT); after 7 days nothing can be
sent until the customer writes again. Comment threads ("post:...") take a public reply under
the comment or a private reply (a Messenger message to the commenter).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.inbox.channels import PRIVATE, PUBLIC, ComposerRules
from apps.inbox.models import Message

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MESSENGER_MAX_CHARS = 2000
COMMENT_MAX_CHARS = 8000


@dataclass(frozen=True)
class Window:
    messaging_type: str | None  # "RESPONSE", "MESSAGE_TAG", or None: closed
    tag: str | None
    notice: str


def is_comment_thread(conversation) -> bool:
    return (conversation.thread_key or "").startswith("post:")


def last_inbound_at(conversation) -> datetime | None:
    if conversation.pk is None:  # a conversation the desk would start: nobody has written in it
        return None
    return (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN)
        .order_by("-sent_at").values_list("sent_at", flat=True).first()
    )


def messenger_window(last_in: datetime | None, *, now: datetime | None = None) -> Window:
    now = now or timezone.now()
    if last_in is None:
        return Window(None, None, _("The customer has not written on Messenger yet: the Page cannot start the conversation."))
    elapsed = now - last_in
    if elapsed < STANDARD_WINDOW:
        return Window("RESPONSE", None, _("Standard 24-hour window: open for %(span)s more") % {"span": _span(STANDARD_WINDOW - elapsed)})
    if elapsed < HUMAN_AGENT_WINDOW:
        return Window(
            "MESSAGE_TAG", "HUMAN_AGENT",
            _("24-hour window closed %(span)s ago: replies go out with the HUMAN_AGENT tag until %(date)s")
            % {"span": _span(elapsed - STANDARD_WINDOW), "date": _date(last_in + HUMAN_AGENT_WINDOW)},
        )
    return Window(
        None, None,
        _("The 7-day human-agent window closed on %(date)s: you cannot reply on Messenger until the customer writes again")
        % {"date": _date(last_in + HUMAN_AGENT_WINDOW)},
    )


def rules(conversation) -> ComposerRules:
    if is_comment_thread(conversation):
        return ComposerRules(
            visibilities=[PUBLIC, PRIVATE], default_visibility=PUBLIC, max_chars=COMMENT_MAX_CHARS,
            notice=_("Public: a reply under the comment, seen by everyone. Private: a Messenger message to the commenter "
                     "(one per comment, within 7 days)."),
        )
    window = messenger_window(last_inbound_at(conversation))
    extra = {"messaging_type": window.messaging_type, "tag": window.tag} if window.messaging_type else {}
    return ComposerRules(
        visibilities=[], default_visibility=PRIVATE, max_chars=MESSENGER_MAX_CHARS,
        can_reply=window.messaging_type is not None, notice=window.notice, extra=extra,
    )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(count)d min") % {"count": minutes}
    hours = minutes // 60
    return _("%(count)d h") % {"count": hours} if hours < 48 else _("%(count)d days") % {"count": hours // 24}


def _date(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M %Z")
