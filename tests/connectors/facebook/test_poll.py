"""The polling fallback: the real facebook.GraphAPI against the loopback Graph API server."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.connectors.facebook import services, tasks
from apps.connectors.models import ChannelAccount, DeadLetter
from apps.connectors.services import channel_accounts_due
from apps.connectors.drain import inbound_drain
from apps.inbox.models import Conversation, Message

from .conftest import PAGE_ID, messenger_event, sign, webhook_body

pytestmark = pytest.mark.django_db

PSIDS = [f"74810233955{n:05d}" for n in range(3)]
POST_ID = f"{PAGE_ID}_889900112233"


def graph_time(minutes_ago: float) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def conversation(psid: str, messages: list[tuple[str, str, float, bool]]) -> dict:
    """Graph's shape of a Page conversation; messages: (mid, text, minutes ago, from the page?)."""
    person = {"id": psid, "name": f"Cliente {psid[-2:]}", "email": f"{psid}@facebook.com"}
    page = {"id": PAGE_ID, "name": "Aurora Home"}
    return {
        "id": f"t_{psid}",
        "updated_time": graph_time(min(m[2] for m in messages)),
        "messages": {"data": [
            {"id": mid, "message": text, "created_time": graph_time(ago),
             "from": page if ours else person, "to": {"data": [person if ours else page]}}
            for mid, text, ago, ours in messages
        ]},
    }


def comment(comment_id: str, text: str, minutes_ago: float, parent: str | None = None) -> dict:
    return {"id": comment_id, "message": text, "created_time": graph_time(minutes_ago),
            "from": {"id": "5550001112223334", "name": "Marta Ruiz"}, "is_hidden": False,
            "permalink_url": f"https://www.facebook.com/aurora/posts/889900112233?comment_id={comment_id}",
            **({"parent": {"id": parent}} if parent else {})}


@pytest.fixture
def missed(graph):
    """What the Page received while the desk was not listening: 3 conversations (over 2 pages) and 2 comments."""
    graph.page_size = 2
    graph.conversations = [
        conversation(PSIDS[0], [("m_a2", "¿Alguien?", 5, False), ("m_a1", "Hola", 30, False)]),
        conversation(PSIDS[1], [("m_b2", "Lo vemos", 40, True), ("m_b1", "Mi pedido", 50, False)]),
        conversation(PSIDS[2], [("m_c1", "Factura", 70, False)]),
    ]
    graph.feed = [{"id": POST_ID, "permalink_url": "https://www.facebook.com/aurora/posts/889900112233", "comments": {"data": [
        comment("889900112233_4002", "Y sigo esperando", 10, parent="889900112233_4001"),
        comment("889900112233_4001", "Tres semanas esperando un sofá", 20),
    ]}}]
    return graph


def test_poll_fetches_every_page_and_stores_what_was_missed(fb_account, missed):
    # when
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then
    assert result.summary() == "fetched 7 · ingested 7 · duplicates 0 · failed 0 · named 0"
    assert len(missed.gets("/conversations")) == 2  # paging.next followed by the SDK
    assert missed.gets("/conversations")[0]["query"]["access_token"] == "EAAB-page-token-test"
    assert missed.gets("/conversations")[0]["path"] == f"/v19.0/{PAGE_ID}/conversations"  # the version set after construction
    assert Conversation.objects.filter(channel_account=fb_account, thread_key__startswith="psid:").count() == 3
    assert Message.objects.get(external_id="mid:m_b2").direction == "out"
    thread = Conversation.objects.get(thread_key=f"post:{POST_ID}:889900112233_4001")
    assert (thread.is_public, thread.message_count) == (True, 2)
    # the poll brings names the webhook does not carry
    assert Message.objects.get(external_id="mid:m_a1").customer.display_name == f"Cliente {PSIDS[0][-2:]}"
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert account.cursor["since"] >= int((timezone.now() - timedelta(minutes=3)).timestamp())
    assert (account.consecutive_failures, account.last_success_at is not None) == (0, True)


def test_a_payload_that_will_not_go_in_is_a_dead_letter_and_the_rest_is_stored(fb_account, missed):
    # given: a comment whose text PostgreSQL refuses (a NUL byte): the feed payload cannot be stored
    missed.feed[0]["comments"]["data"][0]["message"] = "Y sigo\u0000 esperando"
    # when
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then: the conversations went in, the feed is a dead letter of the poll, the cursor moved on
    assert (result.ingested, result.failed, result.error) == (5, 1, "")
    assert Message.objects.filter(channel_account=fb_account).count() == 5
    dead = DeadLetter.objects.get(channel_account=fb_account)
    assert (dead.kind, dead.source, dead.resolved) == ("facebook", "poll", False)
    assert json.loads(bytes(dead.raw))["edge"] == "feed"
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert account.cursor["since"] >= int((timezone.now() - timedelta(minutes=3)).timestamp())


def test_polling_twice_stores_everything_once(fb_account, missed):
    # given: a message within the overlap window is fetched again by the second poll
    missed.conversations[0]["messages"]["data"][0]["created_time"] = graph_time(0)
    missed.conversations[0]["updated_time"] = graph_time(0)
    # when
    first = services.facebook_account_poll(account_id=fb_account.id)
    second = services.facebook_account_poll(account_id=fb_account.id)
    # then
    assert (first.ingested, second.ingested, second.duplicates) == (7, 0, 1)
    assert Message.objects.filter(channel_account=fb_account).count() == 7


def test_what_a_webhook_already_delivered_is_a_duplicate_for_the_poll(fb_account, missed, client):
    # given: the newest message arrived by webhook
    at_ms = int((timezone.now() - timedelta(minutes=5)).timestamp() * 1000)
    raw = webhook_body(messenger_event(PSIDS[0], "m_a2", "¿Alguien?", at_ms=at_ms))
    client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    inbound_drain()
    # when
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then
    assert (result.ingested, result.duplicates) == (6, 1)
    assert Conversation.objects.filter(thread_key=f"psid:{PSIDS[0]}").get().message_count == 2


def test_beat_task_polls_due_accounts(fb_account, missed, eager_celery):
    # when
    polled = tasks.facebook_poll_all.delay().get()
    # then
    assert polled == 1
    assert Message.objects.filter(channel_account=fb_account).count() == 7


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_a_rate_limit_pauses_the_account_and_nothing_is_lost(fb_account, missed, code):
    # given: Facebook throttles the Page and says when calls are allowed again
    usage = json.dumps({"104857600123456": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 30}]})
    missed.fail("/conversations", status=400 if code != 4 else 403, code=code, message="(#%d) Application request limit reached" % code,
                headers={"X-Business-Use-Case-Usage": usage})
    # when
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then: paused until the reset, shown in its health, cursor not moved, nothing stored
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert "request limit reached" in result.error
    assert timedelta(minutes=29) < account.paused_until - timezone.now() <= timedelta(minutes=30)
    assert (account.consecutive_failures, account.cursor) == (1, {})
    assert f"Graph API error {code}" in account.last_error
    assert fb_account.id not in channel_accounts_due(kind="facebook")
    assert Message.objects.count() == 0
    # when: the pause is over
    assert fb_account.id in channel_accounts_due(kind="facebook", now=timezone.now() + timedelta(minutes=31))
    ChannelAccount.objects.filter(pk=fb_account.pk).update(paused_until=None)
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then: everything missed comes in
    assert result.ingested == 7
    assert ChannelAccount.objects.get(pk=fb_account.pk).consecutive_failures == 0


def test_a_rate_limit_without_usage_headers_pauses_for_the_default(fb_account, missed):
    missed.fail("/feed", status=400, code=613, message="Calls to this api have exceeded the rate limit.")
    # when
    services.facebook_account_poll(account_id=fb_account.id)
    # then: not even the conversations fetched before the failure were stored (next poll fetches them again)
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert timedelta(minutes=14) < account.paused_until - timezone.now() <= timedelta(minutes=15)
    assert Message.objects.count() == 0


def test_an_expired_token_is_shown_in_the_health_and_backs_off(fb_account, missed):
    missed.fail("/conversations", status=400, code=190, message="Error validating access token: Session has expired on Sunday.")
    # when
    services.facebook_account_poll(account_id=fb_account.id)
    # then
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert account.last_error.startswith("Page token expired: reconnect")
    assert (account.consecutive_failures, account.paused_until, account.is_healthy) == (1, None, False)
    assert fb_account.id not in channel_accounts_due(kind="facebook")  # backoff: 1 minute after one failure
    assert fb_account.id in channel_accounts_due(kind="facebook", now=timezone.now() + timedelta(minutes=2))


@pytest.mark.parametrize("failure", [
    {"status": 502, "html": "<html><body>502 Bad Gateway</body></html>"},
    {"status": 500, "code": 2, "message": "Service temporarily unavailable"},
    {"status": 500, "code": 1, "message": "An unknown error occurred"},
])
def test_server_errors_are_recorded_and_retried_later(fb_account, missed, failure):
    missed.fail("/conversations", **failure)
    # when
    first = services.facebook_account_poll(account_id=fb_account.id)
    second = services.facebook_account_poll(account_id=fb_account.id)
    # then
    assert (bool(first.error), first.ingested, second.ingested) == (True, 0, 7)
    assert Message.objects.filter(channel_account=fb_account).count() == 7
    assert ChannelAccount.objects.get(pk=fb_account.pk).consecutive_failures == 0


def test_an_unreachable_graph_api_is_a_temporary_failure(fb_account, graph, monkeypatch):
    import facebook

    from .graph_server import GraphServer

    dead = GraphServer()
    dead_url = dead.url
    dead.httpd.server_close()  # nothing listens there any more
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", dead_url)
    # when
    result = services.facebook_account_poll(account_id=fb_account.id)
    # then
    assert "unreachable" in result.error
    assert ChannelAccount.objects.get(pk=fb_account.pk).consecutive_failures == 1


def test_one_poll_per_account_at_a_time(fb_account, missed):
    from apps.connectors.services import channel_account_poll_lock

    # given: another worker is polling this account
    with channel_account_poll_lock(account=fb_account, seconds=60) as held:
        # when
        skipped = services.facebook_account_poll(account_id=fb_account.id)
    # then: skipped without a call; once released, the next poll runs
    assert (held, skipped, missed.calls) == (True, None, [])
    assert services.facebook_account_poll(account_id=fb_account.id).ingested == 7


def test_customers_known_only_by_psid_get_their_names(fb_account, graph, client):
    # given: three people wrote by webhook (which carries no name); one profile cannot be read
    at_ms = int(timezone.now().timestamp() * 1000)
    raw = webhook_body(*[messenger_event(psid, f"m_n{i}", "Hola", at_ms=at_ms) for i, psid in enumerate(PSIDS)])
    client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    inbound_drain()
    graph.profiles = {PSIDS[0]: {"first_name": "Lucía", "last_name": "Fernández"}, PSIDS[2]: {"first_name": "Olivia"}}
    # when
    first = services.facebook_account_poll(account_id=fb_account.id)
    second = services.facebook_account_poll(account_id=fb_account.id)
    # then: named from their profiles; the unreadable one is not asked again
    customer = Conversation.objects.get(thread_key=f"psid:{PSIDS[0]}").customer
    assert customer.display_name == "Lucía Fernández"
    assert customer.identities.get(kind="facebook").display_name == "Lucía Fernández"
    assert [Conversation.objects.get(thread_key=f"psid:{p}").customer.display_name for p in PSIDS[1:]] == [PSIDS[1], "Olivia"]
    assert (first.named, first.error, second.named) == (2, "", 0)
    assert len(graph.gets(f"/{PSIDS[1]}")) == 1
    assert ChannelAccount.objects.get(pk=fb_account.pk).cursor["profiles_missing"] == [PSIDS[1]]


def test_without_the_profile_permission_no_lookups_for_a_day(fb_account, graph, client):
    # given
    raw = webhook_body(messenger_event(PSIDS[0], "m_n0", "Hola", at_ms=int(timezone.now().timestamp() * 1000)))
    client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    inbound_drain()
    graph.fail(f"/{PSIDS[0]}", status=403, code=10, message="(#10) Requires business_asset_user_profile_access")
    # when
    services.facebook_account_poll(account_id=fb_account.id)
    services.facebook_account_poll(account_id=fb_account.id)
    # then: asked once; the poll itself is healthy
    account = ChannelAccount.objects.get(pk=fb_account.pk)
    assert len(graph.gets(f"/{PSIDS[0]}")) == 1
    assert account.cursor["profiles_paused_until"] > timezone.now().timestamp() and "since" in account.cursor
    assert (account.consecutive_failures, account.last_error) == (0, "")
