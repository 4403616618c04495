"""Email: IMAP polling in, SMTP out, threaded by Message-ID / References and a reply token."""
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
        Field("address", "Address", "The support address customers write to.", required=True, type="email"),
        Field("display_name", "Display name", "Shown as the sender of replies."),
        Field("imap_host", "IMAP host", "e.g. imap.example.com", required=True, type="host"),
        Field("imap_port", "IMAP port", "Default 993 (ssl) or 143 (starttls).", type="int", min=1, max=65535),
        Field("imap_security", "IMAP security", "ssl (default), starttls or none.", type="choice", choices=("ssl", "starttls", "none")),
        Field("imap_folder", "IMAP folder", "Default INBOX."),
        Field("processed_action", "After fetching", "flag (default) or move.", type="choice", choices=("flag", "move")),
        Field("processed_folder", "Processed folder", "With processed_action=move."),
        Field("smtp_host", "SMTP host", "e.g. smtp.example.com", required=True, type="host"),
        Field("smtp_port", "SMTP port", "Default 465 (ssl) or 587 (starttls).", type="int", min=1, max=65535),
        Field("smtp_security", "SMTP security", "ssl (default), starttls or none.", type="choice", choices=("ssl", "starttls", "none")),
        Field("plus_addressing", "Plus addressing", "Reply-To carries a conversation token (default on).", type="bool"),
        Field("tls_ca_file", "Private CA file", "Certificates are always verified; this adds a CA (a path on the server).", type="file"),
    ),
    secrets=(
        Field("imap_username", "IMAP user", "Default: the address."),
        Field("imap_password", "IMAP password", required=True),
        Field("smtp_username", "SMTP user", "Default: the IMAP user."),
        Field("smtp_password", "SMTP password", "Default: the IMAP password."),
    ),
    probe=probe,
    reaches=reaches,
)
