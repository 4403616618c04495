"""The demo's mail provider: an SMTP server (aiosmtpd) on loopback that receives the desk's mail,
and the customer's answer built the way a mail client builds it.

No TLS and no login: it listens on 127.0.0.1 only and exists for the demo (the email tests use a
STARTTLS + AUTH server, tests/connectors/email). `on_mail(mail_from, rcpt_tos, raw)` is called for
each message accepted, in the server's thread.

The customer's mailbox is not an IMAP server here: the simulator POSTs the answer to the desk's
demo mail drop (apps/demo/views.py), which puts it through the email channel's own import path
(parse -> ingest, as `manage.py ingest email` does), what an IMAP poll hands over too (docs/demo.md).
"""
import email
import email.policy
import email.utils
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class SmtpStandin:
    def __init__(self, *, port: int, host: str = "127.0.0.1", on_mail=None):
        self.on_mail = on_mail
        self.received: list[dict] = []
        self.controller = Controller(self, hostname=host, port=port, ready_timeout=10)
        self.port = port

    def start(self) -> "SmtpStandin":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope):
        self.received.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "data": envelope.content})
        if self.on_mail is not None:
            self.on_mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


def answer_mail(raw: bytes, *, text: str, sender_name: str = "") -> bytes:
    """The customer answers the desk's mail: to its Reply-To, threaded by In-Reply-To/References."""
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    customer = sent["To"].addresses[0]
    answer = EmailMessage()
    answer["From"] = email.utils.formataddr((sender_name or customer.display_name, customer.addr_spec))
    answer["To"] = str(sent["Reply-To"] or sent["From"])
    subject = str(sent["Subject"] or "")
    answer["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    answer["Date"] = email.utils.formatdate(localtime=True)
    answer["Message-ID"] = email.utils.make_msgid(domain=customer.domain or "example.com")
    answer["In-Reply-To"] = str(sent["Message-ID"])
    answer["References"] = " ".join(filter(None, [str(sent.get("References") or ""), str(sent["Message-ID"])]))
    answer.set_content(text)
    return answer.as_bytes()


def mail_text(raw: bytes) -> tuple[str, str]:
    """(the first recipient's address, the plain text) of the desk's mail."""
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    body = sent.get_body(preferencelist=("plain",))
    return sent["To"].addresses[0].addr_spec, body.get_content() if body is not None else ""
