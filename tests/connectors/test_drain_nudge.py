"""The drain runs as soon as there is work: no fixed debounce, no waiting for the beat.

Tests run no beat, so a payload the nudge leaves behind would never be drained here."""
import json
import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.connectors.models import ChannelKind
from apps.connectors.services import DRAIN_NUDGE_KEY, channel_account_rotate_token
from apps.inbox.models import Message
from tests.celery_routing import start_test_worker, tasks_routed_to, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]



@pytest.fixture
def api_account(make_account):
    account = make_account(kind=ChannelKind.PUSH, name="Tienda CRM")
    account.token = channel_account_rotate_token(account=account)
    return account


def push(account, external_id: str):
    body = json.dumps({"external_id": external_id, "sender": {"email": "ana@example.com"}, "text": "hola"})
    response = APIClient().post(f"/api/inbound/{account.id}/", body, content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {account.token}")
    assert response.status_code == 202, response.content


def stored(external_id: str):
    return lambda: Message.objects.filter(external_id=external_id).exists()


def test_a_message_staged_right_after_a_drain_finished_is_drained_without_the_beat(api_account):
    # given: a real worker, warmed by a first message
    queue = f"test-nudge-{os.getpid()}-{api_account.id}"
    cache.delete(DRAIN_NUDGE_KEY)
    with tasks_routed_to(queue, "apps.connectors.tasks.inbound_drain"):
        worker = start_test_worker(queue)
        try:
            push(api_account, "first")
            first = wait_until(stored("first"), seconds=60)
            push(api_account, "second")
            second = wait_until(stored("second"))
            # when: a message arrives the moment the drain that took "second" has finished
            push(api_account, "third")
            # then: it is drained too (before the fix it waited for a beat that never came)
            third = wait_until(stored("third"))
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=30)
    assert (first, second, third) == (True, True, True), errors.decode()[-2000:]


def test_a_burst_queues_one_drain_not_one_per_payload(api_account):
    # given: no worker on this queue, so what the nudges queue stays in Redis to be counted
    queue = f"test-burst-{os.getpid()}-{api_account.id}"
    broker = redis.Redis.from_url(settings.REDIS_URL)
    cache.delete(DRAIN_NUDGE_KEY)
    with tasks_routed_to(queue, "apps.connectors.tasks.inbound_drain"):
        try:
            # when: twenty webhooks commit while no drain has started
            for n in range(20):
                push(api_account, f"burst-{n}")
            queued = broker.llen(queue)
        finally:
            broker.delete(queue)
            cache.delete(DRAIN_NUDGE_KEY)
    # then: one drain is queued; it will take all twenty
    assert queued == 1
