"""Email: IMAP polling in, SMTP out, threaded by Message-ID / References and a reply token."""
from apps.connectors.channel import Beat, Channel, Field, PayloadKind

from . import parse, send
from .client import Mailbox, smtp_connect


def probe(account) -> str:
    """Log in to IMAP (and select the folder), then to SMTP: what the poller and sender will do."""
    settings, secrets = account.settings or {}, account.secrets or {}
    with Mailbox(settings=settings, secrets=secrets) as box:
        folder = box.folder
    smtp_connect(settings=settings, secrets=secrets).quit()
    return f"IMAP {settings.get('imap_host')} ({folder}) and SMTP {settings.get('smtp_host')} answered and accepted the login"


CHANNEL = Channel(
    kind="email",
    package=__package__,
    payloads=(PayloadKind("email", parse.parse, parse.split, statuses=parse.statuses),),  # .eml files and mbox archives
    send=send.send,
    beat=(Beat("email-poll-all", "email_poll_all", 60.0),),  # one IMAP poll per enabled account
    settings=(
        Field("address", "Address", "The support address customers write to.", required=True),
        Field("display_name", "Display name", "Shown as the sender of replies."),
        Field("imap_host", "IMAP host", required=True),
        Field("imap_port", "IMAP port", "Default 993 (ssl) or 143 (starttls)."),
        Field("imap_security", "IMAP security", "ssl, starttls or none."),
        Field("imap_folder", "IMAP folder", "Default INBOX."),
        Field("processed_action", "After fetching", "flag (default), move or delete."),
        Field("processed_folder", "Processed folder", "With processed_action=move."),
        Field("smtp_host", "SMTP host", required=True),
        Field("smtp_port", "SMTP port", "Default 465 (ssl) or 587 (starttls)."),
        Field("smtp_security", "SMTP security", "ssl, starttls or none."),
        Field("plus_addressing", "Plus addressing", "Reply-To carries a conversation token (default on)."),
        Field("tls_ca_file", "Private CA file", "Certificates are always verified; this adds a CA."),
    ),
    secrets=(
        Field("imap_username", "IMAP user", "Default: the address."),
        Field("imap_password", "IMAP password", required=True),
        Field("smtp_username", "SMTP user", "Default: the IMAP user."),
        Field("smtp_password", "SMTP password", "Default: the IMAP password."),
    ),
    probe=probe,
)
