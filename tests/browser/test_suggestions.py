"""Suggested answers in the desk (static/desk/suggestions.js) in a real browser: an agent opens a
conversation, sees a help-center article and a resolved past case for the customer's latest
message, inserts the article's link and adapts the past reply in the composer, then sends it.
Screenshots (English and Spanish) go to artifacts/desk/ and /tmp/shots/."""
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.inbox.inbound import SenderIdentity
from apps.inbox.models import Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.tasks import message_deliver
from tests.assist.labelled import load_articles, load_cases
from tests.assist.test_suggestions import ask
from tests.browser.conftest import login
from tests.browser.desk_fixtures import SHOTS, desk_team, off_loop, shoot  # noqa: F401  (fixtures)
from tests.inbox.test_replies import SECRET, receiver  # noqa: F401  (the loopback receiver fixture)

PANEL = "#answers-panel"


def _shoot(page, name: str) -> None:
    shoot(page, name)
    Path("/tmp/shots").mkdir(exist_ok=True)
    shutil.copy(SHOTS / f"{name}.png", f"/tmp/shots/{name}.png")


def _world(make_account, make_user, team, receiver, question: str):
    """Team's past cases and the help center, and a customer who just wrote `question`."""
    history = make_account(team=team, name="Tienda (web)")
    off_loop(load_cases, history)
    articles = off_loop(load_articles, author=make_user(role=Role.SUPERVISOR))
    account = make_account(team=team, name="Tienda (app)", settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET})
    conversation = off_loop(ask, account, question)
    return conversation, articles


def test_an_agent_inserts_a_suggested_article_and_a_past_reply_then_sends(page, desk_url, desk_team, make_account, make_user, eager_celery, receiver):
    # given resolved cases and articles, and a customer whose order is late
    team, ana, _ = desk_team
    conversation, articles = _world(make_account, make_user, team, receiver,
                                    "Hi, my order is a week late and still hasn't been delivered. What is going on?")
    article = articles["shipping-delay-en"]
    login(page, ana, desk_url)
    page.goto(f"{desk_url}/")

    # when Ana opens the conversation
    page.locator("li.row", has_text="my order is a week late").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(conversation.id))
    # then the panel suggests the delivery-times article first and the resolved late-delivery case
    panel = page.locator(PANEL)
    expect(panel.locator("h3")).to_have_text("Suggested answers")
    first_article = panel.locator(".answer-article").first
    expect(first_article.locator(".answer-title")).to_have_text(article.title)
    url = f"{desk_url}{article.get_absolute_url()}"
    expect(first_article.locator(".answer-title")).to_have_attribute("href", url)
    first_case = panel.locator(".answer-case").first
    expect(first_case.locator(".answer-reply")).to_contain_text("We opened a claim with the courier")
    _shoot(page, "suggest-conversation-en")

    # when she clicks "Insert link", the composer holds the article's title and public link, not sent
    composer = page.locator("#composer-text")
    first_article.get_by_role("button", name="Insert link").click()
    expect(composer).to_have_value(f"{article.title}: {url}")
    expect(composer).to_be_focused()
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()
    # and "Use this reply" adds the past reply below it, to edit
    first_case.get_by_role("button", name="Use this reply").click()
    expect(composer).to_have_value(f"{article.title}: {url}\nHi, sorry for the delay. We opened a claim with the courier and they "
                                   "confirmed your order will be delivered tomorrow. If it doesn't arrive, reply here and we will "
                                   "ship a replacement at no cost.")
    composer.press("End")
    composer.press_sequentially(" Ana")
    _shoot(page, "suggest-composer-en")

    # when she sends it
    page.locator("#composer-send").click()
    sent = page.locator("#messages .msg", has_text="Hi, sorry for the delay.")
    expect(sent).to_contain_text(url)
    expect(composer).to_have_value("")
    message = Message.objects.get(conversation=conversation, direction="out")
    if settings.IS_POSTGRES:  # the server queued it in Redis: run the delivery as the worker would
        off_loop(message_deliver.apply, args=[message.id])
    # then the customer's system receives the edited reply with the link
    expect(sent.locator(".delivery")).to_have_attribute("data-delivery", "sent")
    body = json.loads(receiver.requests[0]["body"])["text"]
    assert body.startswith(f"{article.title}: {url}\nHi, sorry for the delay.") and body.endswith("at no cost. Ana")


@pytest.mark.browser_locale("es-ES")
def test_the_panel_speaks_spanish_and_reloads_on_a_new_customer_message(page, desk_url, desk_team, make_account, make_user, receiver, inbound):
    # given a Spanish customer asking about an invoice
    team, ana, _ = desk_team
    conversation, articles = _world(make_account, make_user, team, receiver,
                                    "Hola, ¿me podéis mandar la factura de mi último pedido? La necesito para la empresa")
    login(page, ana, desk_url)
    page.goto(f"{desk_url}/c/{conversation.id}/")
    panel = page.locator(PANEL)
    expect(panel.locator("h3")).to_have_text("Respuestas sugeridas")
    expect(panel.locator(".answer-article").first.locator(".answer-title")).to_have_text(articles["invoice-es"].title)
    expect(panel.locator(".answer-case").first).to_contain_text("te adjuntamos la factura")
    expect(panel.locator("[data-answer=insert-link]").first).to_have_text("Insertar enlace")
    expect(panel.locator("[data-answer=use-reply]").first).to_have_text("Usar esta respuesta")
    _shoot(page, "suggest-conversation-es")

    # when the same customer writes again about something else, the panel follows the new message
    off_loop(ask_again, inbound, conversation, "Además me han cobrado dos veces el pedido, veo dos cargos en la tarjeta")
    expect(panel.locator(".answer-article").first.locator(".answer-title")).to_have_text(articles["double-charge-es"].title)


def ask_again(inbound, conversation, text):
    identity = conversation.customer.identities.first()
    messages_ingest(messages=[inbound(conversation.channel_account, senders=[SenderIdentity(identity.kind, identity.value)],
                                      text=text, thread_key=conversation.thread_key, minutes=5)])
