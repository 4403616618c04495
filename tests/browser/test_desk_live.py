"""Two agents, two browsers, one live desk: real uvicorn, real websockets, PostgreSQL and Redis.

Inbound messages are POSTed to the API channel's real endpoint; a real Celery worker (its own
process, `desk_worker`) drains the staged payload and delivers the agent's reply, publishing its
live events on this test's channel-layer prefix, which the server shares.
"""
import json

import pytest
import requests
from playwright.sync_api import expect

from apps.connectors.models import ChannelKind
from apps.connectors.services import channel_account_rotate_token
from apps.inbox.models import Message
from apps.inbox.services.ingest import messages_ingest
from tests.browser.conftest import TIMEOUT_MS, login
from tests.browser.desk_fixtures import desk_team, off_loop, shoot  # noqa: F401  (fixtures)
from tests.inbox.test_replies import SECRET, receiver  # noqa: F401  (the loopback receiver fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def crm_channel(make_account, desk_team, receiver):
    """An API channel of the agents' team whose replies go to the loopback receiver."""
    team = desk_team[0]
    account = make_account(
        kind=ChannelKind.PUSH, name="Tienda CRM", team=team,
        settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET},
    )
    token = channel_account_rotate_token(account=account)
    return account, token


def post_inbound(desk_url, account, token, **item) -> None:
    """What the customer's system does: POST JSON to /api/inbound/<id>/ with its bearer token."""
    response = requests.post(
        f"{desk_url}/api/inbound/{account.id}/", data=json.dumps(item).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=30,
    )
    assert response.status_code in (200, 201, 202), response.text


# The page's Notification API, recorded: headless chromium shows no desktop notifications to look at.
NOTIFICATIONS_RECORDED = """
window.__notified = [];
window.Notification = class {
  constructor(title, options) { window.__notified.push({ title, body: (options || {}).body || "" }); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
"""


def open_desk(browser, desk_url, user, path="/"):
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})  # the tests read English
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(NOTIFICATIONS_RECORDED)
    page = context.new_page()
    login(page, user, desk_url)
    page.goto(f"{desk_url}{path}")
    expect(page.locator("#live")).to_have_text("live")  # the socket is up
    return page


def test_two_agents_see_the_same_work_live(browser, desk_url, desk_worker, desk_team, crm_channel, receiver):
    # given Ana and Luis of the same team, each with the desk open in their own browser
    team, ana, luis = desk_team
    account, token = crm_channel
    page_a = open_desk(browser, desk_url, ana)
    page_b = open_desk(browser, desk_url, luis)
    try:
        # when the shop's CRM posts a customer's message to the API channel (the worker drains it)
        post_inbound(desk_url, account, token, external_id="crm-9001", thread_key="order-9001",
                     sender={"name": "Carmen Vidal", "email": "carmen.vidal@example.es"},
                     subject="Pedido 9001 sin entregar", text="El repartidor dice que lo entregó, pero no tengo nada.")
        # then it appears in both inboxes without a reload
        for page in (page_a, page_b):
            expect(page.locator("li.row", has_text="Carmen Vidal")).to_contain_text("Pedido 9001 sin entregar")
        conversation_id = int(page_a.locator("li.row", has_text="Carmen Vidal").get_attribute("data-id"))
        expect(page_b.locator('[data-count="unassigned"]')).to_have_text("1")  # the views' counts follow

        # when both open it and Ana claims it
        page_a.locator("li.row", has_text="Carmen Vidal").click()
        page_b.locator("li.row", has_text="Carmen Vidal").click()
        expect(page_b.locator("#conv-head")).to_have_attribute("data-id", str(conversation_id))
        expect(page_a.locator("#conv-head")).to_have_attribute("data-id", str(conversation_id))
        page_a.get_by_role("button", name="Claim").click()
        # then Luis sees the assignment, in the conversation and in the list
        expect(page_b.locator('#conv-head select[data-field="assignee"]')).to_have_value(str(ana.id))
        expect(page_b.locator(f'li.row[data-id="{conversation_id}"] .assignee')).to_contain_text("ana")

        # when Ana starts typing a reply
        page_a.locator("#composer-text").press_sequentially("Hola Carmen, ")
        # then Luis sees that she is typing
        expect(page_b.locator("#collision")).to_contain_text("is typing")
        shoot(page_b, "collision")

        # when she sends it
        page_a.locator("#composer-text").press_sequentially("lo reclamamos hoy a la agencia.")
        page_a.get_by_role("button", name="Send reply").click()
        reply = page_a.locator("#messages .msg.dir-out")
        expect(reply).to_contain_text("lo reclamamos hoy")
        reply_id = int(reply.get_attribute("data-id"))
        # then the worker delivers it through the API connector: the loopback server gets it,
        # and Ana's view turns "sent" without a reload
        expect(reply.locator(".delivery")).to_have_attribute("data-delivery", "sent")
        assert Message.objects.get(pk=reply_id).delivery_status == "sent"
        (request,) = receiver.requests
        assert json.loads(request["body"])["text"] == "Hola Carmen, lo reclamamos hoy a la agencia."
        expect(page_a.locator('[data-count="mine"]')).to_have_text("1")
        shoot(page_a, "conversation-live")

        # when Ana leaves Luis a note that mentions him
        page_a.keyboard.press("n")
        page_a.locator("#composer-text").press_sequentially("@luis ¿lo sigues tú mañana?")
        page_a.get_by_role("button", name="Add note").click()
        # then Luis's desk tells him: a note in the thread, the bell, and a desktop notification
        expect(page_b.locator("#messages .msg.kind-note")).to_contain_text("¿lo sigues tú mañana?")
        expect(page_b.locator("#notif-count")).to_have_text("1")
        page_b.wait_for_function("window.__notified.length > 0")
        assert page_b.evaluate("window.__notified[0].title") == "You were mentioned"

        # when Ana transfers the conversation to Luis
        page_a.locator('#conv-head select[data-field="assignee"]').select_option(str(luis.id))
        # then it is new work for him: the bell again, and a desktop notification saying so
        expect(page_b.locator("#notif-count")).to_have_text("2")
        page_b.wait_for_function("window.__notified.length > 1")
        assert page_b.evaluate("window.__notified[1].title") == "New work assigned to you"
        expect(page_b.locator(f'li.row[data-id="{conversation_id}"] .assignee')).to_contain_text("luis")
    finally:
        page_a.context.close()
        page_b.context.close()


def test_a_dropped_socket_loses_nothing(browser, desk_url, desk_team, make_account, inbound):
    # given Ana looking at a conversation, live
    team, ana, _ = desk_team
    account = make_account(team=team)
    ids = off_loop(lambda: messages_ingest(messages=[inbound(account, thread_key="t-77", email="pablo@example.es", name="Pablo Gil",
                                                             text="¿Tenéis la talla 44?")]).message_ids)
    conversation_id = Message.objects.get(pk=ids[0]).conversation_id
    page = open_desk(browser, desk_url, ana, f"/c/{conversation_id}/")
    try:
        expect(page.locator("#messages")).to_contain_text("¿Tenéis la talla 44?")

        # when the network drops the socket
        page.evaluate("Centralita.disconnect()")
        expect(page.locator("#live")).to_have_text("reconnecting…")
        # and meanwhile the customer writes again and a new customer writes in
        off_loop(lambda: messages_ingest(messages=[
            inbound(account, thread_key="t-77", email="pablo@example.es", name="Pablo Gil", text="¿Y en azul?", minutes=5),
            inbound(account, thread_key="t-78", email="rosa@example.es", name="Rosa Martín", text="Quiero cambiar la dirección", minutes=6),
        ]))
        expect(page.locator("#messages")).not_to_contain_text("¿Y en azul?")  # nothing arrives while disconnected
        # when the connection comes back
        with page.expect_response(lambda r: "/api/events/?after=" in r.url) as resync:
            page.evaluate("Centralita.reconnect()")
        # then the desk replays what it missed: the new message in the thread and the new conversation in the list
        assert resync.value.ok
        expect(page.locator("#live")).to_have_text("live")
        expect(page.locator("#messages")).to_contain_text("¿Y en azul?")
        expect(page.locator("li.row", has_text="Rosa Martín")).to_be_visible()
        open_row = page.locator(f'li.row[data-id="{conversation_id}"]')
        expect(open_row).to_contain_text("¿Y en azul?")
        # the conversation she is reading is not marked unread; the new one is
        expect(open_row.locator(".unread-dot")).to_have_count(0)
        expect(page.locator("li.row", has_text="Rosa Martín").locator(".unread-dot")).to_have_count(1)
    finally:
        page.context.close()


def test_supervisors_see_agents_come_online_go_away_and_leave(browser, desk_url, desk_team, make_user):
    # given a supervisor with the desk open, and Ana not connected
    team, ana, _ = desk_team
    supervisor = make_user(role="supervisor", username="sara")
    page_s = open_desk(browser, desk_url, supervisor)
    try:
        ana_row = page_s.locator(f'#agents-list li[data-agent="{ana.id}"]')
        expect(ana_row.locator(".presence-dot")).to_have_class("presence-dot offline")
        # when Ana opens the desk
        page_a = open_desk(browser, desk_url, ana)
        # then she shows online; when she sets herself away, away; when she closes the desk, offline
        expect(ana_row.locator(".presence-dot")).to_have_class("presence-dot online")
        page_a.locator("#presence").select_option("away")
        expect(ana_row.locator(".presence-dot")).to_have_class("presence-dot away")
        page_a.context.close()
        expect(ana_row.locator(".presence-dot")).to_have_class("presence-dot offline")
    finally:
        page_s.context.close()
