"""Fan-out at the cost of one encoding per event: the publisher encodes each numbered event once
(apps/core/realtime.py), and every socket of every group it goes to sends that same text, the
events published together in one frame."""
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction

from apps.core import realtime
from apps.accounts.models import Role
from apps.inbox.services.ingest import messages_ingest
from tests.inbox.test_realtime import _communicator, _headers

QUIET = 1.5


async def _texts(communicator) -> list[str]:
    texts = []
    while not await communicator.receive_nothing(timeout=QUIET):
        texts.append(await communicator.receive_from())
    return texts


@pytest.mark.django_db(transaction=True)
def test_each_event_is_encoded_once_and_sent_as_is_to_every_socket(make_user, team, make_account, inbound, monkeypatch):
    # given three agents of a team and a supervisor connected (the event goes to two groups)
    users = [make_user(teams=[team]) for _ in range(3)] + [make_user(role=Role.SUPERVISOR)]
    account = make_account(team=team)
    encoded = []
    envelope = realtime._envelope
    monkeypatch.setattr(realtime, "_envelope", lambda event: encoded.append(event["id"]) or envelope(event))

    def publish():
        with transaction.atomic():
            messages_ingest(messages=[inbound(account, email="ana@example.com"), inbound(account, email="luis@example.com")])

    headers = [_headers(u) for u in users]

    async def scenario():
        sockets = [_communicator(h) for h in headers]
        for s in sockets:
            assert (await s.connect())[0]
            assert json.loads(await s.receive_from(timeout=5))["type"] == "hello"
        await sync_to_async(publish)()
        heard = [await _texts(s) for s in sockets]
        for s in sockets:
            await s.disconnect()
        return heard

    # when two new conversations arrive (conversation.created + message.created each)
    heard = async_to_sync(scenario)()
    # then every socket got the same frame, byte for byte: the four events published together, as one array
    assert all(texts == heard[0] for texts in heard) and len(heard[0]) == 1
    events = json.loads(heard[0][0])
    assert sorted(e["type"] for e in events) == ["conversation.created"] * 2 + ["message.created"] * 2
    # and each event was encoded once, not once per group (2) nor per socket (4)
    assert sorted(encoded) == sorted(e["id"] for e in events)
