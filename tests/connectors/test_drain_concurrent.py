"""Two drains side by side: a batch does not wait for another that is storing the same message or a
message from the same sender; it leaves that payload staged for its next batch and goes on
(apps/inbox/services/ingest.messages_held_elsewhere, apps/connectors/drain._ingest_rows)."""
import json

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.connectors.drain import inbound_drain
from apps.connectors.models import ChannelKind, InboundPayload
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Message
from apps.inbox.services.ingest import message_lock_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def stage(account, external_id: str, email: str) -> None:
    body = {"external_id": external_id, "sender": {"email": email}, "text": "¿Llegó mi pedido?"}
    InboundPayload.objects.create(channel_account=account, kind="api", raw=json.dumps(body).encode(), source="webhook")


@pytest.fixture
def other_drain():
    """Another session, as a second worker's transaction: holds the locks it is given until closed."""
    settings = connection.settings_dict
    other = psycopg2.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"] or None,
                             port=settings["PORT"] or None, password=settings["PASSWORD"] or None)

    def hold(account_id: int, external_id: str, email: str) -> None:
        message = InboundMessage(account_id=account_id, external_id=external_id,
                                 senders=[SenderIdentity(kind="email", value=email)], sent_at=None)
        with other.cursor() as cursor:
            for key in message_lock_keys(message):
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    yield hold, other
    other.close()


def test_a_payload_another_drain_holds_stays_staged_and_goes_in_after_its_commit(make_account, other_drain):
    # given another drain storing a message from ana (a different one) and the re-delivered "dos"
    account = make_account(kind=ChannelKind.PUSH)
    hold, other = other_drain
    hold(account.id, "suyo", "Ana@Example.com")
    hold(account.id, "dos", "otra@example.com")
    stage(account, "uno", "ana@example.com")  # the same sender, written otherwise
    stage(account, "dos", "luis@example.com")  # the same message
    stage(account, "tres", "marta@example.com")
    # when this drain runs meanwhile
    first = inbound_drain()
    # then it did not wait: the free payload went in, the held ones stay staged
    assert first.ingested == 1
    assert list(Message.objects.values_list("external_id", flat=True)) == ["tres"]
    assert InboundPayload.objects.count() == 2
    # when the other commits and a drain runs again
    other.commit()
    second = inbound_drain()
    # then they go in, once each
    assert second.ingested == 2 and not InboundPayload.objects.exists()
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["dos", "tres", "uno"]


def test_a_batch_with_nothing_free_ends_the_drain_instead_of_spinning(make_account, other_drain):
    # given every staged payload held by another drain
    account = make_account(kind=ChannelKind.PUSH)
    hold, _ = other_drain
    hold(account.id, "uno", "ana@example.com")
    stage(account, "uno", "ana@example.com")
    # when
    with CaptureQueriesContext(connection) as queries:
        counts = inbound_drain(max_batches=50)
    # then it stopped after one batch and left it staged (the holder's drain goes on to take it)
    batches = [q for q in queries if q["sql"].startswith('SELECT "connectors_inboundpayload"') and "FOR UPDATE" in q["sql"]]
    assert len(batches) == 1
    assert counts.ingested == 0 and InboundPayload.objects.count() == 1
