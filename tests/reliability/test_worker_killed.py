"""A Celery worker killed with SIGKILL in the middle of a drain: the batch it held rolls back,
the next worker drains everything, and every staged message is in the desk exactly once."""
import json
import os
import signal

import pytest
from django.core.cache import cache

from apps.connectors.models import ChannelKind, DeadLetter, InboundPayload
from apps.connectors.services import DRAIN_NUDGE_KEY, payload_stage
from apps.connectors.tasks import inbound_drain
from apps.inbox.models import Message
from tests.celery_routing import start_test_worker, tasks_routed_to, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]
PAYLOADS, PER_PAYLOAD = 60, 50  # 3,000 messages: several batches, so the kill lands mid-drain


def test_a_worker_killed_mid_drain_loses_and_doubles_nothing(make_account, settings):
    # given 3,000 messages staged
    account = make_account(kind=ChannelKind.PUSH)
    for p in range(PAYLOADS):
        items = [{"external_id": f"k-{p}-{i}", "sender": {"email": f"c{p}-{i}@example.com"}, "text": "hola"}
                 for i in range(PER_PAYLOAD)]
        payload_stage(account=account, kind="api", raw=json.dumps(items).encode())
    queue = f"test-kill-{os.getpid()}-{account.id}"
    with tasks_routed_to(queue, "apps.connectors.tasks.inbound_drain"):
        worker = start_test_worker(queue)
        try:
            cache.delete(DRAIN_NUDGE_KEY)
            inbound_drain.delay()
            # when the worker is killed once the drain is under way (some batches committed, more to come)
            assert wait_until(lambda: Message.objects.exists(), seconds=120), "the drain never started"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            killed_at = Message.objects.count()
            # and another worker drains (as beat's next drain would)
            worker = start_test_worker(queue)
            inbound_drain.delay()
            drained = wait_until(lambda: not InboundPayload.objects.exists(), seconds=240)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            worker.stderr.close()
    # then all of it is in, once
    assert drained and 0 < killed_at < PAYLOADS * PER_PAYLOAD, killed_at
    assert Message.objects.filter(channel_account=account).count() == PAYLOADS * PER_PAYLOAD
    assert Message.objects.values("external_id").distinct().count() == PAYLOADS * PER_PAYLOAD
    assert not DeadLetter.objects.exists()
