"""Polling mentions and DM events with the real tweepy.Client against a loopback X API."""
import pytest

from apps.connectors.models import ChannelAccount
from apps.connectors.twitter import services, tasks
from apps.crm.models import Identity
from apps.inbox.models import Conversation, Message

from .x_server import OWN_ID

pytestmark = pytest.mark.django_db

LUCIA, MARTA = "1500000000000000777", "1500000000000000999"


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
