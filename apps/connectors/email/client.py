"""The mail servers through their libraries: IMAP with imap-tools, SMTP with smtplib.

An email ChannelAccount holds
    settings: imap_host, imap_port, imap_security (ssl | starttls | none), imap_folder,
              processed_action (flag | move), processed_flag, processed_folder,
              smtp_host, smtp_port, smtp_security (ssl | starttls | none), address, display_name,
              tls_ca_file (optional: a private CA to trust, e.g. an internal mail server),
              timeout (seconds per network operation, default 30), plus_addressing (default true)
    secrets:  imap_username, imap_password, smtp_username, smtp_password
              (SMTP falls back to the IMAP credentials; IMAP's username to the address)
    cursor:   uidvalidity, last_uid (written by services.email_account_poll)
"""
import base64
import imaplib
import re
import smtplib
import ssl
from dataclasses import dataclass

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, UnexpectedCommandStatusError
from imap_tools.message import MailMessage
from imap_tools.utils import check_command_status

TIMEOUT = 30  # seconds per network operation: a hung server shows as a failure, not a stuck worker
SECURITY = ("ssl", "starttls", "none")
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
DEFAULT_PROCESSED_FLAG = "\\Seen"
DEFAULT_PROCESSED_FOLDER = "Processed"


class MailServerError(Exception):
    """Connection, TLS, login or protocol failure talking to a mail server."""


def tls_context(settings: dict) -> ssl.SSLContext:
    """Certificates are always verified; tls_ca_file adds a private CA instead of turning that off."""
    return ssl.create_default_context(cafile=settings.get("tls_ca_file") or None)


def _security(settings: dict, key: str) -> str:
    value = (settings.get(key) or "ssl").lower()
    if value not in SECURITY:
        raise MailServerError(f"{key} must be one of {', '.join(SECURITY)}, not {value!r}")
    return value


# --- IMAP ----------------------------------------------------------------------------------


@dataclass
class FetchedMail:
    uid: int
    raw: bytes


class _RawMessage(MailMessage):
    """Keeps the exact bytes for parse(); imap-tools' own compat32 parsing is not needed."""

    def __init__(self, fetch_data: list):
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)


_FETCH_ITEM = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


class Mailbox:
    """One IMAP session on the account's folder: `with Mailbox(...) as box:`."""

    def __init__(self, *, settings: dict, secrets: dict, timeout: float = TIMEOUT):
        self.settings, self.secrets = settings or {}, secrets or {}
        self.timeout = float(self.settings.get("timeout") or timeout)
        self.folder = self.settings.get("imap_folder") or "INBOX"
        self.action = self.settings.get("processed_action") or "flag"
        if self.action not in ("flag", "move"):
            raise MailServerError(f"processed_action must be flag or move, not {self.action!r}")
        self.box = None

    def __enter__(self) -> "Mailbox":
        host = self.settings.get("imap_host")
        if not host:
            raise MailServerError("imap_host is not set")
        security = _security(self.settings, "imap_security")
        port = int(self.settings.get("imap_port") or IMAP_PORTS[security])
        username = self.secrets.get("imap_username") or self.settings.get("address")
        password = self.secrets.get("imap_password") or ""
        with _imap_errors(f"IMAP {host}:{port}"):
            if security == "ssl":
                box = MailBox(host, port, timeout=self.timeout, ssl_context=tls_context(self.settings))
            elif security == "starttls":
                box = MailBoxStartTls(host, port, timeout=self.timeout, ssl_context=tls_context(self.settings))
            else:
                box = MailBoxUnencrypted(host, port, timeout=self.timeout)
            box.email_message_class = _RawMessage
            self.box = box
            if (username + password).isascii():
                box.login(username, password, initial_folder=None)
            else:  # LOGIN cannot carry UTF-8 (imaplib refuses): SASL PLAIN can
                box.login_utf8(username, password, initial_folder=None)
            box.folder.set(self.folder)
            # SELECT's untagged UIDVALIDITY; read before any other command replaces the responses.
            self.uidvalidity = int(box.client.untagged_responses.get("UIDVALIDITY", [b"0"])[-1])
            if not self.uidvalidity:
                self.uidvalidity = int(box.folder.status(self.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
            if self.action == "move":
                self.processed_folder = self.settings.get("processed_folder") or DEFAULT_PROCESSED_FOLDER
                if not box.folder.exists(self.processed_folder):
                    box.folder.create(self.processed_folder)
        return self

    def __exit__(self, *exc):
        if self.box is not None:
            try:
                self.box.logout()
            except (OSError, imaplib.IMAP4.error, ImapToolsError):
                pass  # the session is over either way

    def folder_names(self) -> list[str]:
        with _imap_errors("IMAP LIST"):
            return [f.name for f in self.box.folder.list()]

    def uids_after(self, last_uid: int) -> list[tuple[int, int]]:
        """(uid, size) of every mail with a UID above last_uid, ascending."""
        with _imap_errors("IMAP UID FETCH"):
            result = self.box.client.uid("FETCH", f"{last_uid + 1}:*", "(UID RFC822.SIZE)")
            check_command_status(result, UnexpectedCommandStatusError)
        found = {}
        for item in result[1]:
            line = item[0] if isinstance(item, tuple) else item
            if not line:
                continue
            uid = size = None
            for uid_match, size_match in _FETCH_ITEM.findall(line):
                uid = int(uid_match) if uid_match else uid
                size = int(size_match) if size_match else size
            # "N:*" always names the newest mail, even when its UID is below N.
            if uid is not None and uid > last_uid:
                found[uid] = size or 0
        return sorted(found.items())

    def fetch(self, uids: list[int]) -> list[FetchedMail]:
        """The exact bytes of these mails, without setting \\Seen (BODY.PEEK)."""
        with _imap_errors("IMAP FETCH"):
            messages = self.box.fetch(uid_list=[str(u) for u in uids], mark_seen=False, bulk=True)
            fetched = [FetchedMail(uid=int(m.uid), raw=m.raw) for m in messages]
        return sorted(fetched, key=lambda f: f.uid)

    def headers(self, uid: int) -> bytes:
        with _imap_errors("IMAP FETCH headers"):
            (message,) = self.box.fetch(uid_list=[str(uid)], mark_seen=False, headers_only=True, bulk=True)
        return message.raw

    def mark_processed(self, uids: list[int]) -> None:
        if not uids:
            return
        uid_set = ",".join(str(u) for u in uids)
        with _imap_errors(f"IMAP {self.action} processed mail"):
            if self.action == "move":
                self.box.move(uid_set, self.processed_folder)
            else:
                # Not imap-tools' flag(): it EXPUNGEs the folder afterwards, which would purge
                # mail someone else marked \Deleted. A plain STORE does only what we mean.
                flag = self.settings.get("processed_flag") or DEFAULT_PROCESSED_FLAG
                result = self.box.client.uid("STORE", uid_set, "+FLAGS.SILENT", f"({flag})")
                check_command_status(result, UnexpectedCommandStatusError)


class _imap_errors:
    """Library and socket errors become MailServerError naming what was being done."""

    def __init__(self, doing: str):
        self.doing = doing

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, (OSError, EOFError, ValueError, imaplib.IMAP4.error, ImapToolsError)):
            detail = str(exc) or exc.__class__.__name__
            raise MailServerError(f"{self.doing}: {exc.__class__.__name__}: {detail}"[:1000]) from exc
        return False


# --- SMTP ----------------------------------------------------------------------------------


def smtp_connect(*, settings: dict, secrets: dict, timeout: float = TIMEOUT) -> smtplib.SMTP:
    """A logged-in SMTP session (close it with .quit()); smtplib's exceptions pass through."""
    host = settings.get("smtp_host")
    if not host:
        raise MailServerError("smtp_host is not set")
    security = _security(settings, "smtp_security")
    port = int(settings.get("smtp_port") or SMTP_PORTS[security])
    timeout = float(settings.get("timeout") or timeout)
    # EHLO with the mail domain: smtplib's default, socket.getfqdn(), can stall on a DNS lookup.
    helo = settings.get("smtp_helo") or (settings.get("address") or "").rpartition("@")[2] or None
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, local_hostname=helo, timeout=timeout, context=tls_context(settings))
    else:
        smtp = smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout)
    try:
        smtp.ehlo()
        if security == "starttls":
            smtp.starttls(context=tls_context(settings))
            smtp.ehlo()
        username = secrets.get("smtp_username") or secrets.get("imap_username")
        password = secrets.get("smtp_password") or secrets.get("imap_password")
        if username:
            _smtp_login(smtp, username, password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _smtp_login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        smtp.login(username, password)
        return
    # smtplib encodes credentials as ASCII; RFC 4616 PLAIN carries UTF-8.
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)
