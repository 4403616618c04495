"""Two processes ingest overlapping batches at the same moment (PostgreSQL): nothing twice, nothing lost.

Each child is a real `python` process with its own database connection, started
together through a stdin barrier, so their transactions genuinely race on the
unique indexes (messages, identities, thread keys) and the conversation rows.
"""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.models import Count, F

from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, ConversationEvent, Message

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 40
THREADS = 15
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def overlapping_message(account_id: int, i: int, prefix: str = "c"):
    """Message i of a deterministic stream: 40 people, a third keyed by thread, a third replies."""
    from apps.inbox.inbound import InboundMessage, SenderIdentity

    person = i % PEOPLE
    senders = [SenderIdentity("email", f"Person{person}@Example.com", display_name=f"Person {person}")]
    if person % 4 == 0:  # some always write with their phone too: still one customer
        senders.append(SenderIdentity("phone", f"+3460000{person:04d}", display_name=f"Person {person}"))
    extra = {}
    if i % 3 == 0:
        extra["thread_key"] = f"order-{i // 3 % THREADS}"
    elif i % 3 == 1 and i >= 3:
        extra["references"] = [f"c-{i - 3}"]
    return InboundMessage(
        account_id=account_id,
        external_id=f"{prefix}-{i}",
        senders=senders,
        sent_at=T0 + timedelta(seconds=i),
        text=f"message {i}",
        **extra,
    )


def child_main() -> None:
    """Runs in each child: wait for "go", ingest the given batches, report counts."""
    from apps.inbox.services.ingest import messages_ingest

    job = json.loads(sys.argv[1])
    prefix = job.get("prefix", "c")
    batches = [[overlapping_message(job["account_id"], i, prefix) for i in batch] for batch in job["batches"]]
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    ingested = duplicates = 0
    for batch in batches:
        result = messages_ingest(messages=batch)
        ingested, duplicates = ingested + result.ingested, duplicates + result.duplicates
    print(json.dumps({"ingested": ingested, "duplicates": duplicates}), flush=True)


def _batches(indexes: list[int], size: int) -> list[list[int]]:
    return [indexes[i : i + size] for i in range(0, len(indexes), size)]


def _run_together(jobs: list[dict]) -> list[dict]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The children must write to this test database, not the one DATABASE_URL names.
        "DATABASE_URL": f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    code = "import django; django.setup(); from tests.inbox.test_ingest_concurrency import child_main; child_main()"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(job)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for job in jobs
    ]
    for child in children:  # the barrier: both are set up before either starts
        line = child.stdout.readline().strip()
        assert line == "ready", child.stderr.read()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert "Traceback" not in err, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_processes_ingesting_overlapping_batches_store_each_message_once(account):
    # given: A takes 0-199, B takes 100-299; both start with the shared 100-199, cut at different boundaries
    a = _batches(list(range(100, 200)), 25) + _batches(list(range(0, 100)), 25)
    b = _batches(list(range(110, 200)), 30) + _batches(list(range(100, 110)) + list(range(200, 300)), 30)

    # when
    results = _run_together([{"account_id": account.id, "batches": a}, {"account_id": account.id, "batches": b}])

    # then: every message counted once as ingested, the overlap once as a duplicate
    assert sum(r["ingested"] for r in results) == 300
    assert sum(r["duplicates"] for r in results) == 100
    assert Message.objects.count() == 300
    assert set(Message.objects.values_list("external_id", flat=True)) == {f"c-{i}" for i in range(300)}
    # one customer per person, one identity per address
    assert Customer.objects.count() == PEOPLE
    assert Identity.objects.count() == PEOPLE + PEOPLE // 4
    assert not Message.objects.exclude(customer_id=F("sender_identity__customer_id")).exists()
    # one conversation per thread key, holding exactly that thread's messages
    keyed = Conversation.objects.exclude(thread_key=None)
    assert keyed.count() == THREADS
    for conversation in keyed:
        n = int(conversation.thread_key.split("-")[1])
        assert set(conversation.messages.values_list("external_id", flat=True)) == {
            f"c-{i}" for i in range(0, 300, 3) if i // 3 % THREADS == n
        }
    # no lost updates on the counters, one "created" event per conversation
    for conversation in Conversation.objects.annotate(n=Count("messages")):
        assert conversation.message_count == conversation.n, conversation.id
    assert ConversationEvent.objects.filter(kind="created").count() == Conversation.objects.count()
    # unkeyed messages of one person share their open conversation
    open_unkeyed = (
        Conversation.objects.filter(thread_key=None, status="open").values("customer_id").annotate(n=Count("id"))
    )
    assert [row for row in open_unkeyed if row["n"] > 1] == []


def test_the_same_batch_from_two_processes_at_once_is_stored_once(account):
    # given: both processes deliver the very same 120 messages in the same batches (an at-least-once redelivery)
    batches = _batches(list(range(120)), 40)

    # when
    results = _run_together([{"account_id": account.id, "batches": batches}] * 2)

    # then
    assert sum(r["ingested"] for r in results) == 120
    assert sum(r["duplicates"] for r in results) == 120
    assert Message.objects.count() == 120
    assert Customer.objects.count() == PEOPLE
    assert Conversation.objects.exclude(thread_key=None).count() == THREADS


def test_known_customers_writing_through_two_processes_at_once_share_one_open_conversation(account):
    # given: 40 known customers with no conversation yet
    from apps.inbox.services.ingest import messages_ingest

    messages_ingest(messages=[overlapping_message(account.id, i, "seed") for i in range(PEOPLE)])
    Conversation.objects.all().delete()
    unkeyed = [i for i in range(PEOPLE * 3) if i % 3 == 2]  # no thread key, no references

    # when: both processes bring new unkeyed messages from the same people
    _run_together(
        [
            {"account_id": account.id, "batches": _batches(unkeyed, 10), "prefix": "a"},
            {"account_id": account.id, "batches": _batches(unkeyed, 10), "prefix": "b"},
        ]
    )

    # then
    assert Message.objects.count() == 2 * len(unkeyed)
    per_customer = Conversation.objects.values("customer_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_customer} == {1}
    assert len(per_customer) == PEOPLE
