"""IMAP polling against a real Dovecot: cursor, restarts, flag/move after commit, health, backoff."""
import socket
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.connectors import services as connector_services  # the one ingest-with-fallback the poll uses
from apps.connectors.email import services, tasks
from apps.connectors.models import ChannelAccount, ChannelKind, DeadLetter
from apps.inbox.models import Conversation, Message

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def mail(n: int, *, sender="ana@example.com", subject=None, extra=b"") -> bytes:
    return (
        f"From: Ana García <{sender}>\r\nTo: soporte@tienda.example\r\nSubject: {subject or f'Consulta {n}'}\r\n"
        f"Date: Mon, 23 Nov 2026 10:{n:02d}:00 +0100\r\nMessage-ID: <consulta-{n}@example.com>\r\n"
    ).encode() + extra + f"\r\nTexto de la consulta {n}, con acentos: ñandú.\r\n".encode()


def poll(account) -> services.PollResult:
    return services.email_account_poll(account_id=account.id)


def test_a_customer_mail_arrives_in_the_desk_through_the_poll_task(email_account, customer_box):
    # given: a customer's mail in the support mailbox
    customer_box.deliver(fixture_bytes("latin1_qp.eml"))
    # when: the beat-scheduled task runs for the account
    summary = tasks.email_account_poll(email_account.id)
    # then
    assert summary == "fetched 1 · ingested 1 · duplicates 0 · failed 0 · marked 1"
    message = Message.objects.select_related("conversation", "customer").get()
    assert message.external_id == "5f0c2a1e-77aa-4b1e-9c1d-2b9a4e1f0001@correo.example.es"
    assert message.customer.display_name == "José Pérez Muñoz"
    assert "la cafetera está rota" in message.text
    assert message.conversation.status == Conversation.Status.OPEN
    # and the server knows it was processed; the cursor and health are stored
    assert customer_box.flags() == {1: {"\\Seen"}}
    email_account.refresh_from_db()
    assert email_account.cursor["last_uid"] == 1 and email_account.cursor["uidvalidity"] > 0
    assert email_account.last_success_at is not None and email_account.consecutive_failures == 0


def test_a_restarted_poller_fetches_nothing_twice(email_account, customer_box):
    # given: two mails polled by one poller
    customer_box.deliver(mail(1))
    customer_box.deliver(mail(2))
    assert poll(email_account).fetched_uids == [1, 2]
    # when: a third arrives and a new poller (new connection, cursor read from the database) runs
    customer_box.deliver(mail(3))
    account = ChannelAccount.objects.get(pk=email_account.pk)
    second = poll(account)
    third = poll(account)
    # then
    assert (second.fetched_uids, second.ingested, second.duplicates) == ([3], 1, 0)
    assert (third.fetched, third.ingested) == (0, 0)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == [f"consulta-{n}@example.com" for n in (1, 2, 3)]


def test_mail_is_flagged_only_after_its_transaction_commits(email_account, customer_box, monkeypatch):
    # given: a look at the server from inside the ingest transaction
    seen_during_ingest = []
    real_ingest = connector_services.messages_ingest

    def ingest_and_look(**kwargs):
        result = real_ingest(**kwargs)
        seen_during_ingest.append((connection.in_atomic_block, customer_box.flags()))
        return result

    monkeypatch.setattr(connector_services, "messages_ingest", ingest_and_look)
    customer_box.deliver(mail(1))
    # when
    poll(email_account)
    # then: unflagged while the transaction was open, flagged once it committed
    assert seen_during_ingest == [(True, {1: set()})]
    assert customer_box.flags() == {1: {"\\Seen"}}


def test_a_worker_dying_mid_transaction_leaves_the_mail_unflagged_and_the_cursor_unmoved(email_account, customer_box, monkeypatch):
    # given: the worker is killed after ingest, before the transaction commits
    real_ingest = connector_services.messages_ingest

    def ingest_then_die(**kwargs):
        real_ingest(**kwargs)
        raise SystemExit("worker killed")

    monkeypatch.setattr(connector_services, "messages_ingest", ingest_then_die)
    customer_box.deliver(mail(1))
    # when
    with pytest.raises(SystemExit):
        poll(email_account)
    # then: nothing stored, nothing marked, cursor where it was
    assert Message.objects.count() == 0
    assert customer_box.flags() == {1: set()}
    email_account.refresh_from_db()
    assert email_account.cursor == {}
    # and the next poll stores it once
    monkeypatch.setattr(connector_services, "messages_ingest", real_ingest)
    assert poll(email_account).ingested == 1
    assert customer_box.flags() == {1: {"\\Seen"}}


def test_processed_mail_can_be_moved_to_a_folder_instead(make_account, email_settings, mailbox_user, customer_box):
    # given
    account = make_account(
        kind=ChannelKind.EMAIL,
        settings={**email_settings, "processed_action": "move", "processed_folder": "Atendidos"},
        secrets={"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]},
    )
    customer_box.deliver(mail(1))
    customer_box.deliver(mail(2))
    # when
    result = poll(account)
    customer_box.deliver(mail(3))
    later = poll(account)
    # then
    assert (result.ingested, result.marked, later.fetched_uids) == (2, 2, [3])
    assert len(customer_box.flags("Atendidos")) == 3
    assert list(customer_box.flags("INBOX")) == []


def test_a_new_uidvalidity_resets_the_cursor_and_dedupe_drops_what_is_known(
    make_account, email_settings, mailbox_user, customer_box
):
    # given: a folder polled once
    with customer_box.session() as box:
        box.folder.create("Soporte")
    account = make_account(
        kind=ChannelKind.EMAIL,
        settings={**email_settings, "imap_folder": "Soporte"},
        secrets={"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]},
    )
    customer_box.deliver(mail(1), folder="Soporte")
    poll(account)
    account.refresh_from_db()
    old_validity = account.cursor["uidvalidity"]
    # when: the folder is rebuilt (restored from a backup, migrated) with the old mail and a new one
    with customer_box.session() as box:
        box.folder.delete("Soporte")
        box.folder.create("Soporte")
    customer_box.deliver(mail(1), folder="Soporte")
    customer_box.deliver(mail(2), folder="Soporte")
    result = poll(account)
    # then
    account.refresh_from_db()
    assert account.cursor["uidvalidity"] != old_validity
    assert (result.uidvalidity_reset, result.fetched, result.ingested, result.duplicates) == (True, 2, 1, 1)
    assert Message.objects.count() == 2


def test_mail_that_cannot_be_parsed_becomes_a_dead_letter_and_the_rest_goes_through(email_account, customer_box):
    # given
    customer_box.deliver(fixture_bytes("not_a_mail.eml"))
    customer_box.deliver(mail(2))
    # when
    result = poll(email_account)
    # then
    assert (result.fetched, result.ingested, result.failed, result.marked) == (2, 1, 1, 2)
    dead = DeadLetter.objects.get()
    assert (dead.kind, dead.source, dead.channel_account_id) == ("email", "poll", email_account.id)
    assert dead.error.startswith("IMAP UID 1: not a mail")
    assert bytes(dead.raw).rstrip() == fixture_bytes("not_a_mail.eml").rstrip()
    assert Message.objects.get().external_id == "consulta-2@example.com"


def test_a_mail_over_the_size_limit_stays_in_the_box_and_is_noted(email_account, customer_box, monkeypatch):
    # given
    monkeypatch.setattr(services, "MAX_MAIL_BYTES", 500)
    customer_box.deliver(mail(1, extra=b"X-Padding: " + b"x" * 600 + b"\r\n"))
    customer_box.deliver(mail(2))
    # when
    result = poll(email_account)
    # then: the big one is a dead letter with its headers, left unflagged; the cursor moved past both
    assert (result.fetched, result.ingested, result.failed) == (1, 1, 1)
    dead = DeadLetter.objects.get()
    assert "over the 500 byte limit" in dead.error and bytes(dead.raw).startswith(b"From: Ana")
    assert customer_box.flags() == {1: set(), 2: {"\\Seen"}}
    assert poll(email_account).fetched == 0


def test_queries_per_poll_do_not_grow_with_the_number_of_mails(email_account, customer_box):
    # given a first poll done (a process reads the SLA policies and account kinds once: apps/sla/book.py)
    customer_box.deliver(mail(20, sender="primero@example.com"))
    poll(email_account)
    customer_box.deliver(mail(1, sender="uno@example.com"))
    with CaptureQueriesContext(connection) as one_mail:
        poll(email_account)
    for n in range(2, 12):
        customer_box.deliver(mail(n, sender=f"persona{n}@example.com"))
    # when
    with CaptureQueriesContext(connection) as ten_mails:
        result = poll(email_account)
    # then: one batch, one transaction, the same statements
    assert result.ingested == 10
    assert len(ten_mails) == len(one_mail)


def test_imaps_works_too(make_account, email_settings, mailbox_user, customer_box, dovecot):
    # given
    account = make_account(
        kind=ChannelKind.EMAIL,
        settings={**email_settings, "imap_security": "ssl", "imap_port": dovecot.imaps_port},
        secrets={"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]},
    )
    customer_box.deliver(mail(1))
    # when / then
    assert poll(account).ingested == 1


def test_an_untrusted_certificate_is_a_failure_not_a_silent_downgrade(email_account, customer_box):
    # given: the account does not trust the server's private CA
    settings = {**email_account.settings}
    settings.pop("tls_ca_file")
    ChannelAccount.objects.filter(pk=email_account.pk).update(settings=settings)
    customer_box.deliver(mail(1))
    # when
    result = poll(email_account)
    # then
    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert Message.objects.count() == 0


def test_a_wrong_password_shows_in_the_account_health_and_backs_off(email_account, customer_box):
    # given
    ChannelAccount.objects.filter(pk=email_account.pk).update(secrets={"imap_username": "nadie", "imap_password": "mal"})
    # when
    result = poll(email_account)
    # then
    email_account.refresh_from_db()
    assert "Authentication failed" in result.error
    assert email_account.consecutive_failures == 1
    assert email_account.last_error.startswith("IMAP 127.0.0.1:")
    assert not email_account.is_healthy
    # and the fan-out leaves it alone until its backoff has passed
    assert email_account.id not in services.email_accounts_due()
    later = email_account.last_error_at + timedelta(seconds=services.backoff_seconds(1) + 1)
    assert email_account.id in services.email_accounts_due(now=later)


def test_backoff_doubles_with_each_failure_up_to_an_hour():
    assert [services.backoff_seconds(n) for n in (1, 2, 3, 6, 7, 20)] == [60, 120, 240, 1920, 3600, 3600]


def test_an_unreachable_server_shows_in_the_account_health(make_account, email_settings):
    # given: nothing listens on that port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    account = make_account(kind=ChannelKind.EMAIL, settings={**email_settings, "imap_port": port})
    # when
    result = poll(account)
    # then
    account.refresh_from_db()
    assert "ConnectionRefusedError" in result.error
    assert account.consecutive_failures == 1 and "ConnectionRefusedError" in account.last_error


def test_a_server_that_hangs_times_out_and_shows_in_the_account_health(make_account, email_settings):
    # given: a server that accepts connections and never says a word
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    account = make_account(
        kind=ChannelKind.EMAIL, settings={**email_settings, "imap_port": listener.getsockname()[1], "timeout": 1}
    )
    try:
        # when
        result = poll(account)
    finally:
        listener.close()
    # then
    assert "timed out" in result.error
    account.refresh_from_db()
    assert account.consecutive_failures == 1


def test_one_poll_per_account_at_a_time(email_account, customer_box):
    # given: another worker is polling this account
    customer_box.deliver(mail(1))
    cache.add(f"centralita:poll:email:{email_account.id}", 1, timeout=60)
    try:
        # when / then
        assert poll(email_account) is None
    finally:
        cache.delete(f"centralita:poll:email:{email_account.id}")
    assert poll(email_account).ingested == 1


def test_the_beat_fan_out_polls_each_enabled_email_account_that_is_due(
    make_account, email_settings, mailbox_user, customer_box, eager_celery
):
    # given: a due account with mail, a disabled one, one backing off, and a non-email account
    secrets = {"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]}
    due = make_account(kind=ChannelKind.EMAIL, settings=email_settings, secrets=secrets)
    make_account(kind=ChannelKind.EMAIL, settings=email_settings, secrets=secrets, enabled=False)
    make_account(kind=ChannelKind.EMAIL, settings=email_settings, secrets=secrets,
                 consecutive_failures=3, last_error_at=timezone.now())
    make_account(kind=ChannelKind.PUSH)
    customer_box.deliver(mail(1))
    # when
    with CaptureQueriesContext(connection) as choosing:
        due_ids = services.email_accounts_due()
    fanned_out = tasks.email_poll_all()
    # then: one query to choose, one poll run, by the due account
    assert len(choosing) == 1
    assert due_ids == [due.id] and fanned_out == 1
    assert Message.objects.get().channel_account_id == due.id
