"""A message that arrives while its customer is being merged lands on the survivor (PostgreSQL).

The merge runs in a thread and holds its transaction open after moving everything; the
ingest of a message from the merged-away customer's email starts meanwhile (in another
thread), so it reads the identity's old owner. It must wait for the merge and then use the
survivor, not put the message on the tombstone.
"""
import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.crm.models import Customer, Identity
from apps.crm.services import customer_merge
from apps.inbox.models import Message
from apps.inbox.services.ingest import messages_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WAIT = 20  # a bound on waiting for the other thread, never an assertion on speed


def _in_thread(fn, errors: list):
    def run():
        try:
            fn()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_message_racing_a_merge_lands_on_the_survivor(make_account, inbound, make_user):
    # given two customers, Ana by email and Ana by phone, each with a conversation
    account = make_account()
    messages_ingest(messages=[inbound(account, "m1", email="ana@example.com"), inbound(account, "m2", phone="+34600111222")])
    by_email = Identity.objects.get(kind="email").customer
    by_phone = Identity.objects.get(kind="phone").customer
    agent = make_user()
    merged, release, errors = threading.Event(), threading.Event(), []

    def merge_and_hold():
        with transaction.atomic():
            customer_merge(target=by_phone, source=by_email, actor=agent)
            merged.set()
            release.wait(WAIT)  # the merge is done but not committed yet

    def ingest():
        messages_ingest(messages=[inbound(account, "m3", email="ana@example.com", minutes=5)])

    # when the merge has moved everything (uncommitted) and a message from Ana's email arrives
    merger = _in_thread(merge_and_hold, errors)
    assert merged.wait(WAIT)
    ingester = _in_thread(ingest, errors)
    deadline = time.monotonic() + WAIT
    while not _someone_waits_on_a_lock() and ingester.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()  # the merge commits
    merger.join(WAIT)
    ingester.join(WAIT)
    # then the new message belongs to the survivor, with the rest of Ana's history
    assert not errors, errors
    assert Customer.objects.get(pk=by_email.pk).merged_into_id == by_phone.pk
    assert Message.objects.get(external_id="m3").customer_id == by_phone.pk
    assert not Message.objects.filter(customer=by_email).exists()
