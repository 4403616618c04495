"""A drain batch commits without waiting for the disk, and only its own transaction does
(apps/connectors/drain.py, _commit_without_waiting_for_disk; docs/architecture.md says why it is safe)."""
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.connectors.drain import inbound_drain
from apps.connectors.models import ChannelKind, InboundPayload
from apps.inbox.models import Message

pytestmark = pytest.mark.postgres

SETTING = "SET LOCAL synchronous_commit TO OFF"


def stage(account, external_id: str) -> None:
    """Staged as the webhook stores it, without its nudge (no worker here; the test drains)."""
    body = {"external_id": external_id, "sender": {"email": "ana@example.com"}, "text": "¿Llegó mi pedido?"}
    InboundPayload.objects.create(channel_account=account, kind="api", raw=json.dumps(body).encode(), source="webhook")


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_its_own_commits_without_waiting_and_the_session_keeps_its_setting(make_account):
    # given two staged payloads, drained in batches of one (two transactions of their own)
    account = make_account(kind=ChannelKind.PUSH)
    stage(account, "uno")
    stage(account, "dos")
    # when
    with CaptureQueriesContext(connection) as queries:
        counts = inbound_drain(batch_size=1)
    # then each batch turned it off for itself, and the connection is back to the server's setting
    assert counts.ingested == 2 and not InboundPayload.objects.exists()
    assert [q["sql"] for q in queries].count(SETTING) == 2
    assert synchronous_commit() == "on"
    assert set(Message.objects.values_list("external_id", flat=True)) == {"uno", "dos"}


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_drain_leaves_the_commit_alone(make_account):
    # given a caller's own transaction (what it writes must stay durable) around a drain
    account = make_account(kind=ChannelKind.PUSH)
    stage(account, "tres")
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        # when
        inbound_drain()
        # then the setting was not touched inside it
        assert synchronous_commit() == "on"
    assert SETTING not in [q["sql"] for q in queries]
    assert Message.objects.filter(external_id="tres").exists()
