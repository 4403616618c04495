"""End to end with a real Celery worker: a message POSTed to the inbound API is drained by the
worker, whose commit queues the webhook task, which the worker runs: the receiver (a loopback
server in this process) gets the signed delivery."""
import json
import os

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.connectors.services import channel_account_rotate_token
from apps.integrations.models import WebhookDelivery
from tests.builders import client_for
from tests.celery_routing import start_test_worker, tasks_routed_to, wait_until
from tests.integrations.test_webhooks import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


def test_a_real_worker_delivers_the_webhook_of_an_inbound_message(make_account, make_user, monkeypatch):
    # given a CRM subscribed to new messages, and an API channel
    receiver = Receiver()
    admin = make_user(role=Role.ADMIN)
    created = client_for(admin).post("/api/webhooks/", {"name": "CRM", "url": receiver.url, "event_types": ["message.created"]},
                                     format="json").json()
    receiver.secret = created["signing_secret"]
    account = make_account(kind=ChannelKind.PUSH, name="Tienda")
    token = channel_account_rotate_token(account=account)
    queue = f"test-webhooks-{os.getpid()}-{account.id}"
    # the worker's own tasks (the webhook task its drain queues) go to its queue too
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", queue)
    with tasks_routed_to(queue, "apps.connectors.tasks.inbound_drain"):
        worker = start_test_worker(queue)
        try:
            # when a customer's system posts a message
            body = json.dumps({"external_id": "w-1", "sender": {"email": "rosa@example.com"}, "text": "Necesito factura"})
            response = APIClient().post(f"/api/inbound/{account.id}/", body, content_type="application/json",
                                        HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 202
            delivered = wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), seconds=60)
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=30)
            receiver.server.stop()
    # then the receiver got it, signed, and the delivery is logged
    assert delivered, errors.decode()[-2000:]
    assert [(r["event"], r["valid"], r["body"]["data"]["message"]["text"]) for r in receiver.received] == [
        ("message.created", True, "Necesito factura")]
