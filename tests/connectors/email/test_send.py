"""Replies over SMTP (a real aiosmtpd server) and the whole round trip with Dovecot.

customer mail -> IMAP -> poll -> conversation -> agent reply -> deliver task -> SMTP (captured)
-> the customer's answer to it -> IMAP -> poll -> the same conversation.
"""
import email
import os
import ssl
import time
from email import policy

import pytest

from apps.connectors.email import services, tasks
from apps.connectors.email.send import reply_subject, send
from apps.connectors.models import ChannelAccount
from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.replies import reply_create
from tests.celery_routing import start_test_worker, tasks_routed_to

from .conftest import DESK_ADDRESS, fixture_bytes
from .servers import SmtpCapture, free_port

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_MAIL = (
    "From: =?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.com>\r\n"
    f"To: Soporte Tienda <{DESK_ADDRESS}>\r\n"
    "Subject: =?utf-8?q?=C2=BFD=C3=B3nde_est=C3=A1_mi_pedido=3F?=\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
    "Message-ID: <pedido-5512@example.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Hola, mi pedido 5512 no ha llegado.\r\n¿Podéis mirarlo?\r\n"
).encode()


def answer(sent: email.message.EmailMessage, text: str, *, threading_headers=True) -> bytes:
    """The customer's mail client answering the captured reply (to its Reply-To address)."""
    headers = (
        f"From: =?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.com>\r\n"
        f"To: {sent['Reply-To']}\r\n"
        f"Subject: Re: {sent['Subject']}\r\n".encode()
        + b"Date: Mon, 23 Nov 2026 12:00:00 +0100\r\n"
        + f"Message-ID: <answer-{abs(hash(text))}@example.com>\r\n".encode()
    )
    if threading_headers:
        headers += f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['References']} {sent['Message-ID']}\r\n".encode()
    return headers + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode() + b"\r\n"


@pytest.fixture
def desk(email_account, smtp_settings, make_user, eager_celery):
    """The email account with SMTP set up, and an agent."""
    ChannelAccount.objects.filter(pk=email_account.pk).update(
        settings={**email_account.settings, **smtp_settings},
        secrets={**email_account.secrets, "smtp_username": "smtp-user", "smtp_password": "smtp-clave"},
    )
    email_account.refresh_from_db()
    return email_account, make_user()


def captured(smtp_server, index=-1) -> email.message.EmailMessage:
    return email.message_from_bytes(smtp_server.received[index]["data"], policy=policy.default)


def test_the_round_trip_threads_in_both_directions(desk, customer_box, smtp_server):
    account, agent = desk
    # given: the customer's mail arrives through the poller
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    conversation = Conversation.objects.get()
    # when: the agent replies (the deliver task sends it once the reply commits)
    reply = reply_create(conversation=conversation, author=agent, text="Hola Lucía, ya lo estamos mirando.")
    # then: sent, over STARTTLS with login, from the account to the customer
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error) == (Message.Delivery.SENT, "")
    (envelope,) = smtp_server.received
    assert (envelope["mail_from"], envelope["rcpt_tos"], envelope["tls"]) == (DESK_ADDRESS, ["lucia@example.com"], True)
    assert smtp_server.logins == ["smtp-user:ok"]
    sent = captured(smtp_server)
    assert sent["Message-ID"] == f"<{reply.external_id}>"
    assert reply.external_id.startswith(f"c{conversation.id}.m{reply.id}.") and reply.external_id.endswith("@tienda.example")
    assert sent["From"] == f"Soporte Tienda <{DESK_ADDRESS}>"
    assert sent["To"] == "Lucía Fernández <lucia@example.com>"
    assert sent["Subject"] == f"Re: ¿Dónde está mi pedido? [#{conversation.id}]"
    assert sent["In-Reply-To"] == "<pedido-5512@example.com>"
    assert sent["References"] == "<pedido-5512@example.com>"
    assert sent["Reply-To"] == f"Soporte Tienda <soporte+{reply.external_id.split('@')[0]}@tienda.example>"
    assert sent.get_content().replace("\r\n", "\n") == (
        "Hola Lucía, ya lo estamos mirando.\n\n"
        "On Mon, 23 Nov 2026 09:00 +0000, Lucía Fernández <lucia@example.com> wrote:\n"
        "> Hola, mi pedido 5512 no ha llegado.\n> ¿Podéis mirarlo?\n"
    )

    # given: the conversation is resolved
    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)
    # when: the customer answers the reply from her mail client
    customer_box.deliver(answer(sent, "Sigue sin llegar, ¿me llamáis?"))
    services.email_account_poll(account_id=account.id)
    # then: same conversation, reopened
    conversation.refresh_from_db()
    latest = conversation.messages.get(text="Sigue sin llegar, ¿me llamáis?")
    assert (conversation.status, conversation.message_count) == (Conversation.Status.OPEN, 3)
    assert ConversationEvent.objects.filter(conversation=conversation, kind=ConversationEvent.Kind.REOPENED).exists()
    assert Conversation.objects.count() == 1

    # when: the agent replies again, the References chain grows
    reply_create(conversation=conversation, author=agent, text="Os llamamos en 5 minutos.")
    again = captured(smtp_server)
    assert again["In-Reply-To"] == f"<{latest.external_id}>"
    assert again["References"].split() == ["<pedido-5512@example.com>", f"<{reply.external_id}>", f"<{latest.external_id}>"]
    assert again["Subject"] == f"Re: ¿Dónde está mi pedido? [#{conversation.id}]"


def test_an_answer_without_threading_headers_still_finds_its_conversation_by_the_reply_to_token(
    desk, customer_box, smtp_server
):
    account, agent = desk
    # given: a conversation the desk answered, then resolved
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    conversation = Conversation.objects.get()
    reply_create(conversation=conversation, author=agent, text="¿Nos confirmas la dirección?")
    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)
    # when: her client drops In-Reply-To and References but writes to the Reply-To address
    customer_box.deliver(answer(captured(smtp_server), "Calle Mayor 1, Madrid", threading_headers=False))
    services.email_account_poll(account_id=account.id)
    # then
    assert Conversation.objects.count() == 1
    conversation.refresh_from_db()
    assert (conversation.status, conversation.message_count) == (Conversation.Status.OPEN, 3)


def test_a_bounce_of_a_reply_lands_in_its_conversation_and_the_next_reply_still_goes_to_the_person(
    desk, customer_box, smtp_server
):
    account, agent = desk
    # given: a reply was sent, the conversation resolved
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    conversation = Conversation.objects.get()
    reply = reply_create(conversation=conversation, author=agent, text="Enviado.")
    reply.refresh_from_db()
    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)
    # when: the customer's server bounces it back (the DSN carries the reply's headers)
    dsn = fixture_bytes("bounce_dsn.eml").replace(b"c7.m9.0a1b2c3d4e@tienda.example", reply.external_id.encode())
    customer_box.deliver(dsn)
    services.email_account_poll(account_id=account.id)
    # then: kept in that conversation, which does not reopen
    bounce = Message.objects.get(metadata__automated="bounce")
    conversation.refresh_from_db()
    assert bounce.conversation_id == conversation.id
    assert conversation.status == Conversation.Status.RESOLVED
    # and the reply it returns is marked failed, with the server's reason, for the agent to see
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert reply.delivery_error.startswith("Returned by the mail server: smtp; 550")
    # and the next reply goes to Lucía, answering her mail, not to the mailer daemon
    reply_create(conversation=conversation, author=agent, text="¿Tienes otra dirección?")
    last = captured(smtp_server)
    assert (last["To"].addresses[0].addr_spec, last["In-Reply-To"]) == ("lucia@example.com", "<pedido-5512@example.com>")


def test_a_read_receipt_marks_the_reply_read(desk, customer_box, smtp_server):
    account, agent = desk
    # given: a reply was sent
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    reply = reply_create(conversation=Conversation.objects.get(), author=agent, text="Enviado.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    # when: her mail program sends a read receipt (RFC 8098 MDN)
    mdn = (
        "From: lucia@example.com\r\nTo: soporte@tienda.example\r\nSubject: Leído: Re: Pedido 5512\r\n"
        "Message-ID: <mdn-1@example.com>\r\nDate: Tue, 01 Dec 2026 12:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"\r\n\r\n'
        "--R\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSu mensaje ha sido leído.\r\n"
        "--R\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Reporting-UA: mail.example.com; Thunderbird\r\nFinal-Recipient: rfc822;lucia@example.com\r\n"
        f"Original-Message-ID: <{reply.external_id}>\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n--R--\r\n"
    ).encode()
    customer_box.deliver(mdn)
    services.email_account_poll(account_id=account.id)
    # then: the reply reads "read"; the receipt is kept as automated mail, not a customer message
    reply.refresh_from_db()
    assert reply.delivery_status == "read"
    assert Message.objects.get(external_id="mdn-1@example.com").metadata["automated"] == "receipt"


def test_long_outlook_message_ids_are_folded_not_encoded(desk, customer_box, smtp_server):
    account, agent = desk
    # given: a mail from Outlook (an 86-character Message-ID)
    customer_box.deliver(fixture_bytes("windows1252.eml"))
    services.email_account_poll(account_id=account.id)
    # when
    reply_create(conversation=Conversation.objects.get(), author=agent, text="Revisado: solo hay un cargo.")
    # then: the ids travel verbatim (an RFC 2047-encoded id threads nowhere)
    raw = smtp_server.received[0]["data"]
    outlook_id = b"<AM0PR07MB44190A1B2C3D4E5F6A7B8C9DA0B1@AM0PR07MB4419.eurprd07.prod.outlook.example>"
    assert b"In-Reply-To: " + outlook_id + b"\r\n" in raw
    assert b"References: <c3.m5.0a1b2c3d4e@tienda.example>\r\n " + outlook_id + b"\r\n" in raw
    header_lines = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    threading = [line for line in header_lines if line.startswith((b"In-Reply-To:", b"References:", b" <"))]
    assert len(threading) == 3 and not any(b"=?" in line for line in threading)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_a_permanent_refusal_is_shown_to_the_agent_on_the_message(desk, customer_box, smtp_server):
    account, agent = desk
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    smtp_server.refuse_rcpt = "550 5.1.1 <lucia@example.com>: Recipient address rejected: User unknown"
    # when
    reply = reply_create(conversation=Conversation.objects.get(), author=agent, text="Hola")
    # then
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert reply.delivery_error.startswith("lucia@example.com refused: 550 5.1.1")


def message_to_send(account, agent) -> Message:
    conversation = Conversation.objects.get()
    return Message.objects.create(
        conversation=conversation, customer_id=conversation.customer_id, channel_account=account,
        direction="out", author=agent, text="Hola", sent_at=conversation.last_activity_at,
        delivery_status=Message.Delivery.QUEUED,
    )


@pytest.fixture
def queued_reply(desk, customer_box):
    """An outbound message as the reply service makes it, not yet handed to any task."""
    account, agent = desk
    customer_box.deliver(FIRST_MAIL)
    services.email_account_poll(account_id=account.id)
    return message_to_send(account, agent)


def test_a_temporary_refusal_asks_for_a_retry(queued_reply, smtp_server):
    smtp_server.refuse_rcpt = "451 4.3.0 Try again later"
    with pytest.raises(TemporarySendError, match="451 4.3.0"):
        send(message=queued_reply, account=queued_reply.channel_account)
    # and the retry sends the same Message-ID (the customer's client cannot show it twice)
    smtp_server.refuse_rcpt = None
    first = send(message=queued_reply, account=queued_reply.channel_account)
    assert first == send(message=queued_reply, account=queued_reply.channel_account)
    assert {captured(smtp_server, i)["Message-ID"] for i in (0, 1)} == {f"<{first}>"}


def test_a_refused_login_is_permanent_and_shows_in_the_account_health(queued_reply, smtp_server):
    account = queued_reply.channel_account
    ChannelAccount.objects.filter(pk=account.pk).update(secrets={**account.secrets, "smtp_password": "mala"})
    account.refresh_from_db()
    with pytest.raises(PermanentSendError, match="SMTP login refused: 535"):
        send(message=queued_reply, account=account)
    account.refresh_from_db()
    assert account.last_error.startswith("SMTP login refused: 535") and account.consecutive_failures == 1


def test_an_unreachable_smtp_server_is_temporary(queued_reply):
    account = queued_reply.channel_account
    account.settings["smtp_port"] = free_port()
    with pytest.raises(TemporarySendError, match="ConnectionRefusedError"):
        send(message=queued_reply, account=account)


def test_an_untrusted_smtp_certificate_is_permanent(queued_reply):
    account = queued_reply.channel_account
    account.settings.pop("tls_ca_file")
    with pytest.raises(PermanentSendError, match="certificate not trusted"):
        send(message=queued_reply, account=account)


# aiosmtpd warns of AUTH without STARTTLS: it does not count implicit TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_and_a_utf8_password(queued_reply, dovecot):
    # given: an SMTPS server (port 465 style) whose password is not ASCII
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(dovecot.cert, dovecot.key)
    server = SmtpCapture(tls_context=context, implicit_tls=True, username="buzón", password="contraseña-ñ").start()
    account = queued_reply.channel_account
    account.settings.update(smtp_security="ssl", smtp_port=server.port)
    account.secrets.update(smtp_username="buzón", smtp_password="contraseña-ñ")
    try:
        # when
        message_id = send(message=queued_reply, account=account)
    finally:
        server.stop()
    # then
    assert server.logins == ["buzón:ok"]
    assert email.message_from_bytes(server.received[0]["data"], policy=policy.default)["Message-ID"] == f"<{message_id}>"


def test_no_reply_to_a_conversation_whose_only_sender_is_a_mail_system(desk, customer_box):
    account, agent = desk
    customer_box.deliver(fixture_bytes("bounce_dsn.eml"))
    services.email_account_poll(account_id=account.id)
    with pytest.raises(PermanentSendError, match="not replying to a mail system address"):
        send(message=message_to_send(account, agent), account=account)


@pytest.mark.parametrize(
    "subject,expected",
    [
        ("¿Dónde está mi pedido?", "Re: ¿Dónde está mi pedido? [#12]"),
        ("RE: Re: Fwd: Pedido [#12]", "Re: Pedido [#12]"),
        ("AW: Lieferung [#9]", "Re: Lieferung [#12]"),
        ("", "Re: Your request [#12]"),
    ],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject, 12) == expected


# --- the real worker -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_polls_the_mailbox_and_sends_the_reply(email_account, smtp_settings, smtp_server, customer_box, make_user):
    # given: a Celery worker on the test database and Redis, on a queue of its own
    ChannelAccount.objects.filter(pk=email_account.pk).update(
        settings={**email_account.settings, **smtp_settings},
        secrets={**email_account.secrets, "smtp_username": "smtp-user", "smtp_password": "smtp-clave"},
    )
    customer_box.deliver(FIRST_MAIL)
    queue = f"test-email-{os.getpid()}-{email_account.id}"
    with tasks_routed_to(queue, "apps.inbox.tasks.message_deliver"):
        worker = start_test_worker(queue)
        try:
            # when: the poll task runs on the worker, then the agent replies
            tasks.email_account_poll.apply_async((email_account.id,), queue=queue)
            wait_until(lambda: Conversation.objects.exists())
            reply = reply_create(conversation=Conversation.objects.get(), author=make_user(), text="Recibido, gracias.")
            wait_until(lambda: Message.objects.get(pk=reply.pk).delivery_status != Message.Delivery.QUEUED)
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=30)
    # then
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT, errors.decode()[-2000:]
    assert captured(smtp_server)["In-Reply-To"] == "<pedido-5512@example.com>"
    assert customer_box.flags() == {1: {"\\Seen"}}


def wait_until(condition, seconds=60):
    """A bound on waiting for the worker, not an assertion on speed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
