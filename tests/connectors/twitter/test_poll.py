"""Polling mentions and DM events with the real tweepy.Client against a loopback X API."""
import time
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.connectors.models import ChannelAccount
from apps.connectors.twitter import services, tasks
from apps.crm.models import Identity
from apps.inbox.models import Conversation, Message
from config.celery import app as celery_app

from .x_server import OWN_ID, REVOKED_TOKEN

pytestmark = pytest.mark.django_db

LUCIA, MARTA = "1500000000000000777", "1500000000000000999"
QUERY_BUDGET = 40  # measured 27 on PostgreSQL: a per-message query would show at once


@pytest.fixture
def world(x_api):
    x_api.user(LUCIA, "Lucía Romero", "lucia_romero")
    x_api.user(MARTA, "Marta Gil", "martagil")
    return x_api


def test_beat_polls_mentions_and_dms_into_their_conversations(world, x_account, eager_celery):
    # given: Lucía's complaint and her reply in its thread, Marta's mention, and a DM from Lucía
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte mi pedido 5512 no ha llegado")
    world.mention("1861000000000000203", LUCIA, "@TiendaSoporte sigo esperando &amp; nadie contesta",
                  conversation_id="1861000000000000101", replied_to="1861000000000000101",
                  created_at="2026-11-23T10:05:00.000Z")
    world.mention("1861000000000000301", MARTA, "@TiendaSoporte la app se cierra al pagar")
    world.dm("1861000000000000520", LUCIA, "Te paso el número de pedido por aquí: 5512")
    # when: beat's fan-out task runs
    assert tasks.twitter_poll_all() == 1
    # then: a tweet thread per complaint and a DM conversation, each with its customer
    thread = Conversation.objects.get(thread_key="tweet:1861000000000000101")
    assert [(m.external_id, m.text, m.is_public) for m in thread.messages.order_by("sent_at", "id")] == [
        ("tweet:1861000000000000101", "@TiendaSoporte mi pedido 5512 no ha llegado", True),
        ("tweet:1861000000000000203", "@TiendaSoporte sigo esperando & nadie contesta", True),
    ]
    dm = Conversation.objects.get(thread_key=f"dm:{OWN_ID}-{LUCIA}")
    assert (dm.customer_id, dm.is_public, dm.messages.get().is_public) == (thread.customer_id, False, False)
    # and the public complaint starts at a higher priority than the private question (default rule)
    assert (thread.is_public, thread.priority) == (True, 2) and dm.priority < thread.priority
    assert Conversation.objects.get(thread_key="tweet:1861000000000000301").customer.display_name == "Marta Gil"
    identity = Identity.objects.get(kind="twitter", value=LUCIA)
    assert (identity.customer_id, identity.handle, identity.display_name) == (thread.customer_id, "@lucia_romero", "Lucía Romero")
    message = thread.messages.get(external_id="tweet:1861000000000000203")
    assert message.details["twitter"] == {
        "tweet_id": "1861000000000000203", "conversation_id": "1861000000000000101", "author_id": LUCIA,
        "author_handle": "@lucia_romero", "url": "https://x.com/lucia_romero/status/1861000000000000203",
    }
    # and the cursors and the account's health are stored; the fields the parser needs were asked for
    x_account.refresh_from_db()
    assert x_account.cursor == {"mentions_since_id": "1861000000000000301", "dm_newest_id": "1861000000000000520"}
    assert x_account.last_success_at is not None and x_account.consecutive_failures == 0
    mentions_call = world.calls_to("GET", f"/2/users/{OWN_ID}/mentions")[0]
    assert {"author_id", "referenced_tweets.id"} <= set(mentions_call["query"]["expansions"].split(","))
    assert mentions_call["authorization"].startswith("OAuth ")  # user context: OAuth 1.0a
    assert "since_id" not in mentions_call["query"]


def test_a_second_poll_asks_since_the_cursor_and_stores_nothing_twice(world, x_account):
    # given: a first poll
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte primera")
    world.dm("1861000000000000520", LUCIA, "un DM")
    services.twitter_account_poll(account_id=x_account.id)
    # when: one new mention and one new DM arrive, and the account is polled again
    world.mention("1861000000000000102", MARTA, "@TiendaSoporte segunda")
    world.dm("1861000000000000521", LUCIA, "otro DM")
    result = services.twitter_account_poll(account_id=x_account.id)
    # then: X was asked only for what is newer, and only the new items were stored
    assert world.calls_to("GET", "/mentions")[-1]["query"]["since_id"] == "1861000000000000101"
    assert (result.ingested, result.duplicates, result.failed) == (2, 0, 0)
    assert Message.objects.count() == 4
    # and a poll with nothing new stores nothing and keeps the cursors
    again = services.twitter_account_poll(account_id=x_account.id)
    assert (again.pages, again.ingested, again.duplicates) == (0, 0, 0)
    x_account.refresh_from_db()
    assert x_account.cursor == {"mentions_since_id": "1861000000000000102", "dm_newest_id": "1861000000000000521"}


def test_a_restarted_poller_resumes_from_the_stored_cursor(world, x_account):
    # given: a poll, then a "restart": the account read afresh from the database, a new client
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte antes del reinicio")
    services.twitter_account_poll(account_id=x_account.id)
    world.mention("1861000000000000102", LUCIA, "@TiendaSoporte después del reinicio")
    # when
    result = services.twitter_account_poll(account_id=ChannelAccount.objects.get(pk=x_account.pk).id)
    # then
    assert world.calls_to("GET", "/mentions")[-1]["query"]["since_id"] == "1861000000000000101"
    assert (result.ingested, result.duplicates) == (1, 0)


def test_many_mentions_are_read_page_by_page_and_the_cursor_is_the_newest(world, x_account):
    # given: five mentions, two a page
    world.page_size = 2
    for n in range(1, 6):
        world.mention(f"186100000000000010{n}", LUCIA, f"@TiendaSoporte mensaje {n}")
    # when
    result = services.twitter_account_poll(account_id=x_account.id)
    # then
    tokens = [c["query"].get("pagination_token") for c in world.calls_to("GET", "/mentions")]
    assert tokens == [None, "p2", "p4"]
    assert (result.pages, result.ingested) == (3, 5)
    x_account.refresh_from_db()
    assert x_account.cursor["mentions_since_id"] == "1861000000000000105"


def test_dm_polling_stops_at_the_newest_event_already_seen(world, x_account):
    # given: three DMs polled, two a page
    world.page_size = 2
    for n in range(1, 4):
        world.dm(f"186100000000000050{n}", LUCIA, f"DM {n}")
    services.twitter_account_poll(account_id=x_account.id)
    calls_before = len(world.calls_to("GET", "/2/dm_events"))
    # when: one new DM, then a poll
    world.dm("1861000000000000504", LUCIA, "DM 4")
    result = services.twitter_account_poll(account_id=x_account.id)
    # then: one page was enough (it reached the seen event) and only the new DM was parsed
    assert len(world.calls_to("GET", "/2/dm_events")) - calls_before == 1
    assert (result.ingested, result.duplicates) == (1, 0)
    assert Message.objects.filter(external_id__startswith="dm:").count() == 4


def test_the_brands_own_dms_are_outbound_echoes(world, x_account):
    # given: a DM exchange where the brand answered from X's own app
    world.dm("1861000000000000510", LUCIA, "Hola, ¿hay alguien?")
    world.dm("1861000000000000511", OWN_ID, "Sí, dinos", other_id=LUCIA)
    # when
    services.twitter_account_poll(account_id=x_account.id)
    # then
    conversation = Conversation.objects.get(thread_key=f"dm:{OWN_ID}-{LUCIA}")
    directions = dict(conversation.messages.values_list("external_id", "direction"))
    assert directions == {"dm:1861000000000000510": "in", "dm:1861000000000000511": "out"}
    assert not Identity.objects.filter(kind="twitter", value=OWN_ID).exists()


def test_the_own_user_id_is_asked_once_when_the_account_lacks_it(world, make_account):
    # given: an account connected with tokens only
    from .conftest import SECRETS

    account = make_account(kind="twitter", name="nuevo", secrets=dict(SECRETS))
    # when
    services.twitter_account_poll(account_id=account.id)
    services.twitter_account_poll(account_id=account.id)
    # then
    account.refresh_from_db()
    assert account.settings == {"user_id": OWN_ID, "username": "TiendaSoporte"}
    assert len(world.calls_to("GET", "/2/users/me")) == 1


# --- rate limits and provider errors ---------------------------------------------------------


@pytest.fixture
def not_eager():
    """Tasks sent for real (to the broker: Redis, or kombu's in-process memory transport embedded)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = before


def run_in_worker(task, *args, queue: str):
    """Run a task body as a worker would (not eagerly), taken from `queue`; its retries go back there."""
    task.push_request(id=f"test-{uuid.uuid4()}", retries=0, is_eager=False, called_directly=False, args=list(args), kwargs={},
                      delivery_info={"exchange": "", "routing_key": queue})
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def take_message(queue: str):
    with celery_app.connection_for_read() as connection, connection.SimpleQueue(queue) as simple:
        message = simple.get(timeout=5)
        message.ack()
        return message


def test_a_rate_limit_pauses_the_account_and_retries_at_the_reset_time_with_nothing_lost(world, x_account, not_eager):
    # given: mentions go through, then X answers 429 to the DM events, resetting in ten minutes
    reset = int(time.time()) + 600
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte hola")
    world.dm("1861000000000000520", LUCIA, "un DM que llega tarde")
    world.rate_limit("/2/dm_events", reset=reset)
    queue = f"twitter-test-{uuid.uuid4().hex[:8]}"
    # when: the poll task runs in a worker
    with pytest.raises(Retry) as retry:
        run_in_worker(tasks.twitter_account_poll, x_account.id, queue=queue)
    # then: the account is paused until the reset, its health says why, and beat leaves it alone
    reset_at = datetime.fromtimestamp(reset, tz=dt_timezone.utc)
    x_account.refresh_from_db()
    assert x_account.paused_until == reset_at
    assert "rate limited by X (429)" in x_account.last_error and x_account.consecutive_failures == 1
    assert services.twitter_accounts_due() == []
    # and the retry waits in the broker for the reset time (the worker did not sleep)
    message = take_message(queue)
    assert (message.headers["task"], message.headers["retries"]) == ("apps.connectors.twitter.tasks.twitter_account_poll", 1)
    assert datetime.fromisoformat(message.headers["eta"]) == reset_at == retry.value.when
    # and what was fetched before the 429 is stored, the DM cursor did not move
    assert x_account.cursor == {"mentions_since_id": "1861000000000000101"}
    assert list(Message.objects.values_list("external_id", flat=True)) == ["tweet:1861000000000000101"]

    # when: the reset time comes and the retried task runs
    ChannelAccount.objects.filter(pk=x_account.pk).update(paused_until=timezone.now() - timedelta(seconds=1))
    summary = tasks.twitter_account_poll.apply(args=(x_account.id,)).get()
    # then: the DM is stored, the mention is not fetched again, and the account is healthy
    assert summary == "pages 1 · ingested 1 · duplicates 0 · failed 0"
    assert world.calls_to("GET", "/mentions")[-1]["query"]["since_id"] == "1861000000000000101"
    x_account.refresh_from_db()
    assert (x_account.paused_until, x_account.consecutive_failures) == (None, 0)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["dm:1861000000000000520", "tweet:1861000000000000101"]


def test_a_server_error_is_recorded_and_backed_off_without_moving_the_cursor(world, x_account):
    # given: X is down
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte hola")
    world.fail("/mentions", status=503)
    # when
    result = services.twitter_account_poll(account_id=x_account.id)
    # then
    assert result.error == "X API 503: Service Unavailable"
    x_account.refresh_from_db()
    assert (x_account.consecutive_failures, x_account.last_error, x_account.cursor) == (1, "X API 503: Service Unavailable", {})
    assert not x_account.is_healthy
    assert services.twitter_accounts_due() == []  # backing off
    assert services.twitter_accounts_due(now=timezone.now() + timedelta(minutes=2)) == [x_account.id]
    # and once X is back nothing was lost
    assert services.twitter_account_poll(account_id=x_account.id).ingested == 1


def test_revoked_credentials_say_to_reconnect_the_account(world, x_account):
    # given: the access token was revoked on X
    x_account.secrets = {**x_account.secrets, "access_token": REVOKED_TOKEN}
    x_account.save()
    # when
    result = services.twitter_account_poll(account_id=x_account.id)
    # then
    x_account.refresh_from_db()
    assert "X API 401: Unauthorized" in x_account.last_error and "reconnect the account" in x_account.last_error
    assert result.error == x_account.last_error and x_account.consecutive_failures == 1
    assert REVOKED_TOKEN not in x_account.last_error


def test_a_poll_costs_the_same_queries_for_few_or_many_mentions(world, x_account):
    def poll_counting(authors: int, first: int) -> int:
        # two mentions per author, each author a new customer
        for n in range(first, first + authors):
            author = f"15000000000001{n:05d}"
            world.user(author, f"Cliente {n}", f"cliente{n}")
            for k in range(2):
                world.mention(f"18610000000{n:05d}{k:03d}", author, f"@TiendaSoporte queja {n}.{k}",
                              conversation_id=f"18610000000{n:05d}000")
        with CaptureQueriesContext(connection) as queries:
            result = services.twitter_account_poll(account_id=x_account.id)
        assert result.ingested == 2 * authors
        return len(queries)

    # when: a poll brings 4 mentions, the next one 40 (after a first poll: a process reads the SLA
    # policies and account kinds once, then keeps them: apps/sla/book.py)
    poll_counting(1, 0)
    few, many = poll_counting(2, 10), poll_counting(20, 100)
    # then: set-based ingest, so the count does not grow with the page
    assert few == many <= QUERY_BUDGET


def test_a_rate_limit_part_way_through_the_pages_keeps_what_was_read_and_skips_nothing(world, x_account):
    # given: five mentions, two a page, and X refusing the second page
    world.page_size = 2
    for n in range(1, 6):
        world.mention(f"186100000000000010{n}", LUCIA, f"@TiendaSoporte mensaje {n}")
    world.rate_limit("/mentions", reset=int(time.time()) + 900, after=1)
    # when
    first = services.twitter_account_poll(account_id=x_account.id)
    # then: the first page is stored, the cursor waits for a complete pass
    assert (first.ingested, first.error.startswith("rate limited by X (429)")) == (2, True)
    x_account.refresh_from_db()
    assert x_account.cursor == {}
    # when: after the reset, the account is polled again
    ChannelAccount.objects.filter(pk=x_account.pk).update(paused_until=None)
    second = services.twitter_account_poll(account_id=x_account.id)
    # then: the rest arrives; the page already stored is dropped as duplicates; the cursor is the newest
    assert (second.ingested, second.duplicates) == (3, 2)
    x_account.refresh_from_db()
    assert x_account.cursor["mentions_since_id"] == "1861000000000000105"
    assert Message.objects.count() == 5


def test_an_oauth2_user_token_is_sent_as_a_bearer_and_no_credentials_is_a_clear_failure(world, make_account):
    # given: one account connected with an OAuth 2.0 user token, one with nothing
    world.mention("1861000000000000101", LUCIA, "@TiendaSoporte hola")
    oauth2 = make_account(kind="twitter", name="oauth2", settings={"user_id": OWN_ID}, secrets={"bearer_token": "user-ctx-token"})
    empty = make_account(kind="twitter", name="empty", settings={"user_id": OWN_ID})
    # when
    stored = services.twitter_account_poll(account_id=oauth2.id)
    failed = services.twitter_account_poll(account_id=empty.id)
    # then
    assert stored.ingested == 1
    assert {c["authorization"] for c in world.calls} == {"Bearer user-ctx-token"}
    assert failed.error.startswith("CredentialsMissing: no credentials: set consumer_key")
    empty.refresh_from_db()
    assert empty.last_error == failed.error
