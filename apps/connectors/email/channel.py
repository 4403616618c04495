"""Email: IMAP polling in, SMTP out, threaded by Message-ID / References and a reply token."""
from django.utils.translation import gettext_lazy as _

from apps.connectors.channel import POLL_TICK_SECONDS, Beat, Channel, Field, PayloadKind

from . import parse, send
from .client import Mailbox, smtp_connect


def probe(account) -> str:
    """Log in to IMAP (select the folder, list the folders), then EHLO and log in to SMTP: what the
    poller and sender will do."""
    settings, secrets = account.settings or {}, account.secrets or {}
    with Mailbox(settings=settings, secrets=secrets) as box:
        folder, folders = box.folder, box.folder_names()
    smtp_connect(settings=settings, secrets=secrets).quit()
    return (
        f"IMAP {settings.get('imap_host')} accepted the login and listed {len(folders)} folder(s) ({folder} selected); "
        f"SMTP {settings.get('smtp_host')} answered EHLO and accepted the login"
    )


def reaches(account, identity) -> str | None:
    """Any email address; the customer's answer threads by In-Reply-To to our mail (no key)."""
    return "" if identity.kind == "email" else None


CHANNEL = Channel(
    kind="email",
    package=__package__,
    payloads=(PayloadKind("email", parse.parse, parse.split, statuses=parse.statuses),),  # .eml files and mbox archives
    send=send.send,
    # The fan-out ticks every POLL_TICK_SECONDS and polls each account once its own interval has passed.
    beat=(Beat("email-poll-all", "email_poll_all", POLL_TICK_SECONDS),),
    poll_interval=60,
    settings=(
        Field("address", _("Address"), _("The support address customers write to."), required=True, type="email"),
        Field("display_name", _("Display name"), _("Shown as the sender of replies.")),
        Field("imap_host", _("IMAP host"), _("e.g. imap.example.com"), required=True, type="host"),
        Field("imap_port", _("IMAP port"), _("Default 993 (ssl) or 143 (starttls)."), type="int", min=1, max=65535),
        Field("imap_security", _("IMAP security"), _("ssl (default), starttls or none."), type="choice", choices=("ssl", "starttls", "none")),
        Field("imap_folder", _("IMAP folder"), _("Default INBOX.")),
        Field("processed_action", _("After fetching"), _("flag (default) or move."), type="choice", choices=("flag", "move")),
        Field("processed_folder", _("Processed folder"), _("With processed_action=move.")),
        Field("smtp_host", _("SMTP host"), _("e.g. smtp.example.com"), required=True, type="host"),
        Field("smtp_port", _("SMTP port"), _("Default 465 (ssl) or 587 (starttls)."), type="int", min=1, max=65535),
        Field("smtp_security", _("SMTP security"), _("ssl (default), starttls or none."), type="choice", choices=("ssl", "starttls", "none")),
        Field("plus_addressing", _("Plus addressing"), _("Reply-To carries a conversation token (default on)."), type="bool"),
        Field("tls_ca_file", _("Private CA file"), _("Certificates are always verified; this adds a CA (a path on the server)."), type="file"),
    ),
    secrets=(
        Field("imap_username", _("IMAP user"), _("Default: the address.")),
        Field("imap_password", _("IMAP password"), required=True),
        Field("smtp_username", _("SMTP user"), _("Default: the IMAP user.")),
        Field("smtp_password", _("SMTP password"), _("Default: the IMAP password.")),
    ),
    probe=probe,
    reaches=reaches,
)
