"""Outgoing webhooks against a real loopback HTTP receiver that checks the signature as a
customer's system would. Events enter through the real inbox services; the first attempt is the
Celery task queued on commit (run in-process: eager); retries wait on a controlled clock."""
import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Role
from apps.audit.models import AuditEntry
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.integrations import services, signing
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from tests.builders import client_for
from tests.loopback import LoopbackServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


class Receiver:
    """A customer's system: verifies each request's signature with the secret it was given and
    answers with the next status in `answers` (200 once they run out)."""

    def __init__(self):
        self.secret = ""
        self.answers: list[int] = []
        self.received: list[dict] = []
        self.server = LoopbackServer(self._handler()).start()
        self.url = f"http://127.0.0.1:{self.server.port}/hooks/centralita"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = signing.verify(secret=receiver.secret, timestamp=self.headers[signing.TIMESTAMP_HEADER],
                                       body=body, signature_header=self.headers[signing.SIGNATURE_HEADER])
                status = receiver.answers.pop(0) if receiver.answers else 200
                if not valid:
                    status = 401
                receiver.received.append({"valid": valid, "status": status, "event": self.headers[signing.EVENT_HEADER],
                                          "body": json.loads(body)})
                answer = json.dumps({"ok": status == 200, "status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ada")


@pytest.fixture
def subscribe(admin, receiver):
    def make(*event_types):
        response = client_for(admin).post("/api/webhooks/", {"name": "CRM", "url": receiver.url, "event_types": list(event_types)},
                                          format="json")
        assert response.status_code == 201
        receiver.secret = response.json()["signing_secret"]
        return WebhookEndpoint.objects.get(pk=response.json()["id"])

    return make


def test_a_new_conversation_and_its_message_are_delivered_signed(subscribe, receiver, account, inbound,
                                                                  django_capture_on_commit_callbacks):
    # given a CRM subscribed to new conversations and messages
    endpoint = subscribe("conversation.created", "message.created")
    # when a customer writes in
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="lucia@example.com", text="¿Dónde está mi pedido?")])
    # then the receiver got both events, each with a valid signature over timestamp and body
    assert [(r["event"], r["valid"]) for r in receiver.received] == [("conversation.created", True), ("message.created", True)]
    message = receiver.received[1]["body"]
    assert message["type"] == "message.created" and message["data"]["message"]["text"] == "¿Dónde está mi pedido?"
    # and each delivery is logged with the receiver's answer
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert {(d.status, d.attempts, d.response_status) for d in deliveries} == {("succeeded", 1, 200)}
    assert '"ok": true' in deliveries[0].response_excerpt


def test_a_signature_with_another_secret_or_an_old_timestamp_is_refused_by_the_receivers_check():
    body = b'{"id":"x"}'
    ts = 1_800_000_000
    good = signing.signature(secret="s3cret", timestamp=ts, body=body)
    assert signing.verify(secret="s3cret", timestamp=str(ts), body=body, signature_header=good, now=ts + 10)
    assert not signing.verify(secret="other", timestamp=str(ts), body=body, signature_header=good, now=ts + 10)
    assert not signing.verify(secret="s3cret", timestamp=str(ts), body=body + b" ", signature_header=good, now=ts + 10)
    # a captured request replayed later, even with its own timestamp: too old
    assert not signing.verify(secret="s3cret", timestamp=str(ts), body=body, signature_header=good, now=ts + 301)
    # a fresh timestamp on the old signature: does not match
    assert not signing.verify(secret="s3cret", timestamp=str(ts + 400), body=body, signature_header=good, now=ts + 401)


def test_assigned_and_resolved_are_told_apart_from_other_updates(subscribe, receiver, account, inbound, make_user,
                                                                 django_capture_on_commit_callbacks):
    endpoint = subscribe("conversation.assigned", "conversation.resolved")
    agent = make_user(username="luis")
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="marta@example.com")])
    conversation = account.conversations.get()
    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(conversation=conversation, actor=agent, priority=2)  # neither
        conversation_update(conversation=conversation, actor=agent, assignee=agent)
        conversation_update(conversation=conversation, actor=agent, status="pending")  # neither
        conversation_update(conversation=conversation, actor=agent, status="resolved")
    assert [r["event"] for r in receiver.received] == ["conversation.assigned", "conversation.resolved"]
    assert receiver.received[0]["body"]["data"]["conversation"]["assignee_id"] == agent.pk
    assert all(r["valid"] for r in receiver.received) and endpoint.deliveries.count() == 2


def test_a_500_is_retried_with_backoff_and_then_delivered(subscribe, receiver, account, inbound,
                                                         django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    endpoint = subscribe("message.created")
    receiver.answers = [500, 503]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        # when the receiver fails the first attempt
        with django_capture_on_commit_callbacks(execute=True):
            messages_ingest(messages=[inbound(account, email="nora@example.com")])
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        # then the delivery waits 30 s for its next try, with the answer logged
        assert (delivery.status, delivery.attempts, delivery.response_status) == ("retrying", 1, 500)
        assert delivery.next_attempt_at == start + timedelta(seconds=30)
        # and nothing is tried before it is due
        clock.shift(29)
        assert services.webhook_deliveries_retry_due() == 0
        # when it is due, the beat sweep tries again: 503, then twice the wait
        clock.shift(1)
        assert services.webhook_deliveries_retry_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_status) == ("retrying", 2, 503)
        assert delivery.next_attempt_at == start + timedelta(seconds=30 + 60)
        clock.shift(60)
        services.webhook_deliveries_retry_due()
    # then it is delivered on the third attempt, the same event each time, and the endpoint is healthy
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    assert [r["status"] for r in receiver.received] == [500, 503, 200]
    assert len({r["body"]["id"] for r in receiver.received}) == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.paused_at is None


def test_a_failing_endpoint_is_paused_not_retried_forever_and_is_resent_by_hand(
        admin, subscribe, receiver, account, inbound, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 3
    endpoint = subscribe("message.created")
    receiver.answers = [500] * 10
    # when three messages' deliveries fail in a row
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email=f"p{i}@example.com") for i in range(3)])
    # then the endpoint is paused, once, and nothing waits for a retry
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None and endpoint.consecutive_failures == 3
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {"failed"}
    assert AuditEntry.objects.filter(action="webhook.paused", target_id=str(endpoint.pk)).count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.webhook_deliveries_retry_due() == 0
    # and new events are not queued for it while paused
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="later@example.com")])
    assert endpoint.deliveries.count() == 3 and len(receiver.received) == 3

    # when the receiver is fixed and the admin re-sends one failed delivery by hand
    receiver.answers = []
    failed = endpoint.deliveries.order_by("id").first()
    api = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/webhook-deliveries/{failed.pk}/resend/")
    # then it is delivered, as the same event, and logged as a new delivery
    assert response.status_code == 202
    again = WebhookDelivery.objects.get(resent_from=failed)
    assert (again.status, again.response_status, again.event_id) == ("succeeded", 200, failed.event_id)
    assert receiver.received[-1]["body"]["id"] == failed.event_id and receiver.received[-1]["valid"]
    # and once resumed, new events flow again
    assert api.post(f"/api/webhooks/{endpoint.pk}/resume/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="after@example.com")])
    assert receiver.received[-1]["status"] == 200 and endpoint.deliveries.filter(status="succeeded").count() == 2


def test_an_unreachable_receiver_is_a_logged_failure(subscribe, receiver, account, inbound, django_capture_on_commit_callbacks):
    endpoint = subscribe("message.created")
    receiver.server.stop()  # nothing listens on the port any more
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="q@example.com")])
    delivery = endpoint.deliveries.get()
    assert delivery.status == "retrying" and delivery.response_status is None and "ConnectionError" in delivery.error


def test_the_secret_is_shown_once_and_changes_are_audited(admin, receiver):
    api = client_for(admin)
    created = api.post("/api/webhooks/", {"name": "BI", "url": receiver.url, "event_types": ["sla.breached"]}, format="json").json()
    secret = created["signing_secret"]
    assert len(secret) > 30
    for url in ("/api/webhooks/", f"/api/webhooks/{created['id']}/", f"/api/webhooks/{created['id']}/deliveries/", "/api/audit/"):
        assert secret not in api.get(url).content.decode(), url
    from django.db import connection

    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT secrets FROM integrations_webhookendpoint WHERE id = %s", [created["id"]])
        assert secret not in cursor.fetchone()[0]
    response = api.patch(f"/api/webhooks/{created['id']}/", {"event_types": ["sla.breached", "message.created"]}, format="json")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="webhook.updated")
    assert entry.before == {"event_types": ["sla.breached"]} and entry.after == {"event_types": ["message.created", "sla.breached"]}
    bad = api.post("/api/webhooks/", {"name": "x", "url": "ftp://example.com/", "event_types": ["nope"]}, format="json")
    assert bad.status_code == 400 and set(bad.json()["extra"]["fields"]) == {"url", "event_types"}


def test_sla_breached_events_published_by_the_sla_code_are_delivered(subscribe, receiver, django_capture_on_commit_callbacks):
    from apps.core.realtime import publish_on_commit

    subscribe("sla.breached")
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit([(["desk.all"], {"type": "sla.breached", "conversation": {"id": 7, "priority": 3}, "target": "first_response"})])
    assert [(r["event"], r["body"]["data"]) for r in receiver.received] == [
        ("sla.breached", {"conversation": {"id": 7, "priority": 3}, "target": "first_response"})]


def test_agents_and_supervisors_get_403_on_webhooks(make_user, client):
    for role in (Role.AGENT, Role.SUPERVISOR):
        user = make_user(role=role)
        api = client_for(user)
        assert api.get("/api/webhooks/").status_code == 403
        assert api.post("/api/webhooks/", {}, format="json").status_code == 403
        assert api.post("/api/webhook-deliveries/1/resend/").status_code == 403
        client.force_login(user)
        assert client.get("/integrations/webhooks/").status_code == 403


def test_the_pages_create_show_the_secret_once_resend_and_resume(client, admin, receiver, account, inbound,
                                                                 django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 1
    client.force_login(admin)
    response = client.post("/integrations/webhooks/", {"name": "Slack bridge", "url": receiver.url,
                                                      "event_types": ["message.created"], "enabled": "on"})
    endpoint = WebhookEndpoint.objects.get(name="Slack bridge")
    assert response.status_code == 302 and response["Location"] == f"/integrations/webhooks/{endpoint.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert endpoint.signing_secret in page  # once, right after creation
    assert endpoint.signing_secret not in client.get(response["Location"]).content.decode()
    receiver.secret = endpoint.signing_secret
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[inbound(account, email="s@example.com")])
    page = client.get(f"/integrations/webhooks/{endpoint.pk}/").content.decode()
    assert "HTTP 500" in page and "Paused" in page and "Re-send" in page
    failed = endpoint.deliveries.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/integrations/deliveries/{failed.pk}/resend/").status_code == 302
    assert client.post(f"/integrations/webhooks/{endpoint.pk}/resume/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.deliveries.filter(status="succeeded").count() == 1
    bad = client.post("/integrations/webhooks/", {"name": "x", "url": "not a url", "event_types": []})
    assert bad.status_code == 400


def test_the_webhook_pages_read_a_page_of_deliveries_in_few_queries(client, admin, django_assert_max_num_queries):
    endpoints = [services.webhook_endpoint_create(actor=admin, name=f"Hook {i}", url=f"https://h{i}.example/",
                                                  event_types=["message.created"])[0] for i in range(10)]
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoints[0], event_type="message.created", event_id=f"e{i}", payload={"id": f"e{i}"},
                        status="failed", attempts=6, response_status=500, response_excerpt="boom")
        for i in range(120)
    )
    client.force_login(admin)
    with django_assert_max_num_queries(6):
        assert client.get("/integrations/webhooks/").content.decode().count("data-webhook=") == 10
    with django_assert_max_num_queries(8):
        page = client.get(f"/integrations/webhooks/{endpoints[0].pk}/")
    assert page.content.decode().count("data-delivery=") == 50 and "Older" in page.content.decode()


def test_finished_deliveries_leave_the_log_after_the_configured_days(admin, settings):
    settings.WEBHOOK_LOG_DAYS = 30
    endpoint, _ = services.webhook_endpoint_create(actor=admin, name="BI", url="https://bi.example/", event_types=["message.created"])
    start = timezone.now()

    def delivery(status, name):
        return WebhookDelivery.objects.create(endpoint=endpoint, event_type="message.created", event_id=name, payload={}, status=status)

    with time_machine.travel(start - timedelta(days=31)):
        old_ok, old_failed, old_retrying = delivery("succeeded", "a"), delivery("failed", "b"), delivery("retrying", "c")
    with time_machine.travel(start - timedelta(days=29)):
        recent = delivery("succeeded", "d")
    assert services.webhook_deliveries_prune(now=start) == 2
    assert set(endpoint.deliveries.values_list("event_id", flat=True)) == {"c", "d"}  # a retry still waiting stays
