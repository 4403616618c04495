"""The live path end to end: a signed Twilio callback, committed, drained by a real Celery worker."""
import os

import pytest
from django.core.cache import cache

from apps.connectors.services import DRAIN_NUDGE_KEY
from apps.inbox.models import Conversation, Message
from tests.celery_routing import start_test_worker, tasks_routed_to, wait_until

from .conftest import callback, post_signed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]



def test_a_real_worker_turns_signed_callbacks_into_a_missed_call_and_its_call_back(client, phone_account):
    # given a Celery worker on the test database and Redis, on a queue of its own
    queue = f"test-phone-{os.getpid()}-{phone_account.id}"
    with tasks_routed_to(queue, "apps.connectors.tasks.inbound_drain"):
        worker = start_test_worker(queue)
        try:
            # when Twilio reports a missed call (the request commits: the drain is nudged)
            cache.delete(DRAIN_NUDGE_KEY)
            assert post_signed(client, phone_account, callback("CA1", "no-answer", timestamp="Fri, 20 Nov 2026 09:00:00 +0000")).status_code == 204
            missed = wait_until(lambda: Message.objects.filter(external_id="twilio:CA1").exists())
            # and then the answered call-back (no waiting out a debounce: the drain that ended lets it through)
            assert post_signed(client, phone_account, callback("CA2", "completed", "outbound-api", duration=60,
                                                               timestamp="Fri, 20 Nov 2026 09:20:00 +0000")).status_code == 204
            answered = wait_until(lambda: Message.objects.filter(external_id="twilio:CA2").exists())
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=30)
    # then both calls are in one conversation, which no longer waits
    assert missed and answered, errors.decode()[-2000:]
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.waiting_since) == (2, None)
    assert conversation.first_response_at.isoformat() == "2026-11-20T09:19:00+00:00"
