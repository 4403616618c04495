"""The same webhook delivered 20 times at once (a provider's retries racing each other, or a proxy
replaying) ends as exactly ONE message: on a real uvicorn, drained by a real Celery worker, for
every signed webhook of the channel registry (tests/security/webhook_signers.py)."""
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apps.connectors.models import DeadLetter, InboundPayload
from apps.inbox.models import Message
from tests.celery_routing import wait_until
from tests.security.test_webhook_signatures import SIGNED_ROUTES
from tests.security.webhook_signers import SIGNERS

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
COPIES = 20


def test_twenty_concurrent_copies_of_each_webhook_make_one_message(desk_server, desk_worker):
    # given one account per signed webhook, and one delivery for each, signed as its provider would
    deliveries = []
    for n, name in enumerate(SIGNED_ROUTES, 1):
        signer = SIGNERS[name]
        account = signer.make_account(9000 + n)
        delivery = dataclasses.replace(signer.delivery(account, 9000 + n), url_base=desk_server)
        headers = {key[5:].replace("_", "-"): value for key, value in signer.sign(delivery, signer.secret).items()}
        deliveries.append((name, account, delivery, {**headers, "Content-Type": delivery.content_type}))

    # when each is POSTed 20 times at once
    def post(item):
        name, _, delivery, headers = item
        return name, requests.post(desk_server + delivery.path, data=delivery.body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        statuses = list(pool.map(post, [item for item in deliveries for _ in range(COPIES)]))
    # then every copy is acknowledged (so no provider retries once more) ...
    assert {status for _, status in statuses} <= {200, 202, 204}, statuses
    # ... the worker drains them all, and each delivery is one message, none a dead letter
    drained = wait_until(lambda: not InboundPayload.objects.exists(), seconds=120)
    assert drained, f"{InboundPayload.objects.count()} payloads still staged"
    for name, account, _, _ in deliveries:
        assert Message.objects.filter(channel_account=account).count() == 1, name
    assert not DeadLetter.objects.exists()
