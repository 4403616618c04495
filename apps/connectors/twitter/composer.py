"""What an agent may send on an X conversation (shown by the composer, enforced by reply_create).

A tweet thread ("tweet:<conversation_id>") takes a public reply in the thread (default: a
public complaint is answered where it was made) or a private one (a DM to the author). A DM
thread ("dm:…") has no tweet to reply to: private only, up to X's 10,000 characters a DM.
In a tweet thread 280 characters (whichever the agent picks), counted roughly as X does:
every link counts as 23 (t.co), everything else one per character — X counts emoji and CJK
as two, so a reply near the limit may still be refused by X, and the agent sees X's reason.
"""
from django.utils.translation import gettext as _

from apps.inbox.channels import PRIVATE, PUBLIC, ComposerRules

MAX_CHARS = 280
DM_MAX_CHARS = 10_000
URL_CHARS = 23


def rules(conversation) -> ComposerRules:
    username = (conversation.channel_account.settings or {}).get("username") or ""
    handle = f"@{username}" if username else _("the brand's account")
    if (conversation.thread_key or "").startswith("dm:"):
        return ComposerRules(
            visibilities=[PRIVATE], default_visibility=PRIVATE, max_chars=DM_MAX_CHARS,
            notice=_("Direct message from %(handle)s") % {"handle": handle},
        )
    return ComposerRules(
        visibilities=[PUBLIC, PRIVATE], default_visibility=PUBLIC, max_chars=MAX_CHARS, url_chars=URL_CHARS,
        notice=_("Public reply as %(handle)s in the thread — everyone can see it; choose private for a direct message") % {"handle": handle},
    )
