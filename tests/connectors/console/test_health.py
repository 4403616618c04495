"""Health that tells the truth: a failing connector shows its error on the health page, tells the
admins once per outage (live notification; email for those who asked), and its dead letters
replay after the fix; successes of webhooks and sends count."""
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.email.services import email_account_poll
from apps.connectors.models import ChannelAccount, ChannelAuditEvent, DeadLetter
from apps.connectors.services import channel_account_record_failure, channel_accounts_due, payload_stage
from apps.inbox.models import Message, Notification
from tests.builders import client_for

from .conftest import closed_port

pytestmark = pytest.mark.django_db
PHONE_FIXTURES = Path(__file__).parent.parent / "phone" / "fixtures"


@pytest.fixture
def mailbox(make_account, email_settings, mailbox_user):
    return make_account(kind="email", name="Soporte", settings={**email_settings, "smtp_host": "127.0.0.1"},
                        secrets={"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]})


def test_a_failing_mailbox_shows_its_error_notifies_admins_once_and_recovers(
    mailbox, admin, admin_client, make_user, eager_celery, django_capture_on_commit_callbacks
):
    # given two admins (one asked for email alerts), and an agent
    other_admin = make_user(role=Role.ADMIN, email="luis@aurorahome.example")
    agent = make_user(role=Role.AGENT, email="sara@aurorahome.example")
    assert admin_client.put("/api/channel-alerts/", {"email": True}, format="json").json() == {"email": True}
    good_port = mailbox.settings["imap_port"]
    mailbox.settings = {**mailbox.settings, "imap_port": closed_port()}
    mailbox.save(update_fields=["settings"])
    # when the poller fails three times in a row
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert email_account_poll(account_id=mailbox.id).error
    # then the health page says so, with the error and its time
    health = admin_client.get(f"/api/channel-accounts/{mailbox.id}/health/").json()
    assert health["state"] == "failing" and health["consecutive_failures"] == 3
    assert "Connection refused" in health["last_error"] and len(health["errors"]) == 3
    page = admin_client.get(f"/console/channels/{mailbox.id}/health/").content.decode()
    assert ">Failing<" in page and "(3 failures in a row)" in page and "Connection refused" in page
    # and the admins were told once (not per failure): a notification each, an email to the one who asked
    notified = Notification.objects.filter(kind="channel_failing")
    assert sorted(notified.values_list("user_id", flat=True)) == sorted([admin.id, other_admin.id])
    assert not notified.filter(user=agent).exists()
    assert notified.first().link == f"/console/channels/{mailbox.id}/health/"
    assert "Email: Soporte started failing: " in notified.first().text
    assert [m.to for m in mail.outbox] == [["ana@aurorahome.example"]]
    assert f"/console/channels/{mailbox.id}/health/" in mail.outbox[0].body
    # the notification is in the admins' own list (the desk's bell reads it)
    listed = client_for(other_admin).get("/api/notifications/?unread=1").json()["results"]
    assert [(n["kind"], n["link"]) for n in listed] == [("channel_failing", f"/console/channels/{mailbox.id}/health/")]
    # when the admin fixes the port and the next poll goes through
    admin_client.patch(f"/api/channel-accounts/{mailbox.id}/", {"settings": {**mailbox.settings, "imap_port": good_port}},
                       format="json")
    with django_capture_on_commit_callbacks(execute=True):
        assert not email_account_poll(account_id=mailbox.id).error
    # then it reads OK again; a later outage is a new one, told again
    assert admin_client.get(f"/api/channel-accounts/{mailbox.id}/").json()["health"].startswith("OK, last success")
    with django_capture_on_commit_callbacks(execute=True):
        channel_account_record_failure(account=mailbox, error="IMAP: server went away")
    assert Notification.objects.filter(kind="channel_failing").count() == 4


def test_dead_letters_replay_after_the_fix_one_or_all_and_discard_is_audited(admin_client, make_account, settings):
    from apps.connectors.phone.services import asterisk_file_import

    # given a PBX whose time zone was mistyped in the deployment: every row is a dead letter
    phone = make_account(kind="phone", settings={"source": "asterisk"})
    settings.PHONE_DEFAULT_REGION = "ES"
    settings.ASTERISK_TIMEZONE = "Europe/Madird"
    counts = asterisk_file_import(account=phone, name="Master.csv", raw=(PHONE_FIXTURES / "Master.csv").read_bytes())
    assert counts.failed >= 3
    letters = list(DeadLetter.objects.filter(channel_account=phone).order_by("id"))
    page = admin_client.get(f"/console/channels/{phone.id}/health/").content.decode()
    assert "Europe/Madird" in page and page.count("data-dead-letter=") == len(letters)
    # when the time zone is fixed, one is replayed alone, one discarded, then the rest all at once
    settings.ASTERISK_TIMEZONE = "Europe/Madrid"
    one = admin_client.post(f"/api/dead-letters/{letters[0].id}/replay/").json()
    assert one["resolved"] is True and one["summary"].startswith("ingested 1")
    assert admin_client.post(f"/console/channels/{phone.id}/dead-letters/{letters[1].id}/discard/").status_code == 302
    rest = admin_client.post(f"/console/channels/{phone.id}/dead-letters/replay/")
    assert rest.status_code == 302
    # then every one is resolved; the discarded one was kept, not ingested, and the discard is in the trail
    assert not DeadLetter.objects.filter(channel_account=phone, resolved=False).exists()
    assert DeadLetter.objects.get(pk=letters[1].id).replayed_at is None
    assert Message.objects.filter(channel_account=phone).count() == counts.ingested + len(letters) - 1
    discard = ChannelAuditEvent.objects.get(account_id=phone.id, action="discarded")
    assert discard.actor.username == "ana" and discard.detail.startswith(f"#{letters[1].id}: ")
    page = admin_client.get(f"/console/channels/{phone.id}/health/").content.decode()
    assert "went in, 0 still failing" in page and "None waiting." in page


def test_a_webhook_counts_as_a_success_so_the_api_channel_is_not_blank(make_account):
    account = make_account(kind="api", inbound_token_hash="x")
    for i in range(100):
        payload_stage(account=account, kind="api", raw=b'{"external_id": "%d"}' % i)
    account.refresh_from_db()
    assert account.last_success_at is not None
    assert account.health.startswith("OK, last success")


def test_a_success_rewrites_the_row_at_most_every_30_seconds_unless_a_failure_came_after(make_account):
    from apps.connectors.services import channel_account_touch_success

    account = make_account(kind="api", inbound_token_hash="x")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        channel_account_touch_success(account_id=account.id)
        first = ChannelAccount.objects.get(pk=account.id).last_success_at
        clock.shift(timedelta(seconds=10))
        channel_account_touch_success(account_id=account.id)
        assert ChannelAccount.objects.get(pk=account.id).last_success_at == first
        channel_account_record_failure(account=account, error="HTTP 500 from the CRM")
        clock.shift(timedelta(seconds=1))
        channel_account_touch_success(account_id=account.id)
        assert ChannelAccount.objects.get(pk=account.id).health.startswith("OK")


def test_replies_that_fail_make_the_account_failing(make_account, inbound, make_user):
    from apps.inbox.services.ingest import messages_ingest
    from apps.inbox.services.replies import message_deliver, reply_create

    # given an API channel whose receiver is down
    account = make_account(kind="api", inbound_token_hash="x", settings={"outbound_url": f"http://127.0.0.1:{closed_port()}/"},
                           secrets={"outbound_secret": "firma"})
    ids = messages_ingest(messages=[inbound(account, email="eva@example.com")]).message_ids
    conversation = Message.objects.get(pk=ids[0]).conversation
    # when an agent replies and the reply is delivered (its last attempt)
    message = reply_create(conversation=conversation, author=make_user(role=Role.AGENT), text="Hola Eva")
    message_deliver(message_id=message.id, final_attempt=True)
    # then the account reads Failing with the reason
    account.refresh_from_db()
    assert account.health_state == "failing", account.health
    assert "reply to http://127.0.0.1" in account.last_error


def test_the_poll_interval_is_read_at_every_tick(make_account):
    account = make_account(kind="email", settings={"address": "a@b.example", "imap_host": "h", "smtp_host": "h"},
                           secrets={"imap_password": "x"}, poll_interval=120)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        ChannelAccount.objects.filter(pk=account.id).update(last_poll_at=timezone.now())
        clock.shift(timedelta(seconds=60))
        assert account.id not in channel_accounts_due(kind="email")
        # the admin shortens it: due at the next tick, no restart
        ChannelAccount.objects.filter(pk=account.id).update(poll_interval=60)
        assert account.id in channel_accounts_due(kind="email")
        ChannelAccount.objects.filter(pk=account.id).update(poll_interval=300)
        clock.shift(timedelta(seconds=200))
        assert account.id not in channel_accounts_due(kind="email")
        clock.shift(timedelta(seconds=40))
        assert account.id in channel_accounts_due(kind="email")


def test_a_reply_that_goes_through_counts_as_a_success(make_account, inbound, make_user):
    from http.server import BaseHTTPRequestHandler

    from apps.inbox.services.ingest import messages_ingest
    from apps.inbox.services.replies import message_deliver, reply_create
    from tests.loopback import LoopbackServer

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"external_id": "crm-1"}')

        def log_message(self, *args):
            pass

    server = LoopbackServer(Receiver).start()
    try:
        account = make_account(kind="api", inbound_token_hash="x", settings={"outbound_url": f"http://127.0.0.1:{server.port}/"},
                               secrets={"outbound_secret": "firma"})
        ids = messages_ingest(messages=[inbound(account, email="eva@example.com")]).message_ids
        conversation = Message.objects.get(pk=ids[0]).conversation
        message = reply_create(conversation=conversation, author=make_user(role=Role.AGENT), text="Hola Eva")
        assert ChannelAccount.objects.get(pk=account.id).last_success_at is None
        message_deliver(message_id=message.id, final_attempt=True)
    finally:
        server.stop()
    account.refresh_from_db()
    assert Message.objects.get(pk=message.id).delivery_status == "sent"
    assert account.last_success_at is not None and account.health.startswith("OK, last success")


def test_a_webhook_storm_checks_the_account_row_once_every_few_seconds_per_process(make_account, django_assert_num_queries):
    from apps.connectors.services import SUCCESS_CHECK_EVERY, channel_account_touch_success

    account = make_account(kind="api", inbound_token_hash="x")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        channel_account_touch_success(account_id=account.id)
        # when a hundred more successes come within the check interval: no statement at all
        with django_assert_num_queries(0):
            for _ in range(100):
                channel_account_touch_success(account_id=account.id)
        # and once it has passed, the next success checks the row again (one UPDATE)
        clock.shift(SUCCESS_CHECK_EVERY)
        with django_assert_num_queries(1):
            channel_account_touch_success(account_id=account.id)
