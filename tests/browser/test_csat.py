"""The customer rates a resolved conversation on the public page (in Spanish, no login, on a phone-
sized screen); the agent's desk shows the rating live. Screenshots (CENTRALITA_SCREENSHOTS=<dir>):
the rating, thank-you and expired pages in Spanish and English, and the reports' CSAT tables."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.csat.models import Survey
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from tests.browser.conftest import login, off_loop
from tests.browser.test_csp import Violations
from tests.builders import conversations
from tests.inbox.test_replies import SECRET, receiver  # noqa: F401  (the loopback receiver fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SHOTS = os.environ.get("CENTRALITA_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


@pytest.fixture
def csat_on(settings):
    settings.CSAT_ENABLED = True
    settings.PUBLIC_BASE_URL = "https://desk.example.com"


def _resolved_with_survey(account, inbound, agent, text):
    (conversation,) = conversations(inbound, account, 1, text=text)
    conversation_update(conversation=conversation, actor=agent, assignee=agent)
    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.RESOLVED)
    return conversation, Survey.objects.get(conversation=conversation)


@pytest.fixture
def resolved(desk_url, csat_on, eager_celery, make_user, make_account, inbound, team, receiver):  # noqa: F811
    account = make_account(team=team, name="Tienda CRM", settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET},
                           csat_enabled=True)
    agent = make_user(teams=[team], username="laura", first_name="Laura")
    return off_loop(_resolved_with_survey, account, inbound, agent, "Hola, mi pedido 5120 no ha llegado") + (agent, account)


def test_the_customer_rates_in_spanish_and_the_desk_shows_it_live(browser, desk_url, resolved):
    conversation, survey, agent, _account = resolved
    # the agent has the conversation open
    desk = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900}).new_page()
    login(desk, agent, desk_url)
    desk.goto(f"{desk_url}/c/{conversation.id}/")
    expect(desk.locator("#live")).to_have_text("live")
    # the customer opens the link on a phone (a browser in English: the page follows the conversation's language)
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    violations = Violations(phone)
    phone.goto(f"{desk_url}/csat/{survey.token}/")
    expect(phone.locator("h1")).to_have_text("¿Qué tal lo hicimos?")
    _shot(phone, "csat-survey-es-mobile.png")
    phone.locator("label[for=score-4]").click()
    phone.locator("#comment").fill("Muy amables, aunque el envío tardó un poco.")
    phone.get_by_role("button", name="Enviar mi valoración").click()
    expect(phone.locator("h1")).to_have_text("¡Gracias!")
    expect(phone.locator(".success")).to_have_text("Hemos recibido su valoración: 4 de 5.")
    _shot(phone, "csat-thanks-es.png")
    assert violations.seen() == []
    # the desk shows it at once, without reloading
    card = desk.locator("#messages .rating-card")
    expect(card).to_contain_text("The customer rated this conversation 4 out of 5")
    expect(card.locator(".rating-comment")).to_have_text("Muy amables, aunque el envío tardó un poco.")
    expect(desk.locator("#messages .mark-rating")).to_have_text("Satisfaction rating")
    desk.set_viewport_size({"width": 1440, "height": 900})
    _shot(desk, "csat-desk-en.png")
    # the link again: refused politely
    phone.goto(f"{desk_url}/csat/{survey.token}/")
    expect(phone.locator("h1")).to_have_text("Ya respondida")
    desk.context.close()
    phone.context.close()


def test_the_pages_in_english_and_an_expired_link(browser, desk_url, resolved, inbound, make_user):
    _conversation, spanish, agent, account = resolved
    _c, english = off_loop(_resolved_with_survey, account, inbound, agent, "Hello, my order has not arrived yet")
    page = browser.new_context(locale="es-ES", viewport={"width": 1024, "height": 800}).new_page()
    page.goto(f"{desk_url}/csat/{english.token}/")
    expect(page.locator("h1")).to_have_text("How did we do?")
    expect(page.locator("label[for=score-5]")).to_contain_text("Excellent")
    _shot(page, "csat-survey-en.png")
    page.locator("label[for=score-5]").click()
    page.locator("#comment").fill("Quick and friendly, thanks!")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.locator(".success")).to_have_text("We received your rating: 5 out of 5.")
    _shot(page, "csat-thanks-en.png")
    page.goto(f"{desk_url}/csat/{spanish.token}/")
    _shot(page, "csat-survey-es.png")
    page.locator("label[for=score-2]").click()
    page.get_by_role("button", name="Enviar mi valoración").click()
    expect(page.locator("h1")).to_have_text("¡Gracias!")
    # another English survey expires (its lifetime moved into the past)
    _c, english = off_loop(_resolved_with_survey, account, inbound, agent, "Hi, I have a question about my invoice please")
    off_loop(lambda: Survey.objects.filter(pk=english.pk).update(expires_at=timezone.now() - timedelta(minutes=1)))
    page.goto(f"{desk_url}/csat/{english.token}/")
    expect(page.locator("h1")).to_have_text("This link has expired")
    _shot(page, "csat-expired-en.png")
    # a Spanish one expired too
    _c2, other = off_loop(_resolved_with_survey, account, inbound, make_user(teams=[account.team]), "Buenos días, tengo una duda con la factura")
    off_loop(lambda: Survey.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(minutes=1)))
    page.goto(f"{desk_url}/csat/{other.token}/")
    expect(page.locator("h1")).to_have_text("Este enlace ha caducado")
    _shot(page, "csat-expired-es.png")
    page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_the_reports_show_the_csat_tables(browser, desk_url, resolved, make_user, locale):
    conversation, survey, agent, _account = resolved
    from apps.csat import services

    off_loop(services.survey_answer, token=survey.token, score=4, comment="")
    supervisor = off_loop(make_user, role=Role.SUPERVISOR, language=locale[:2])
    page = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900}).new_page()
    login(page, supervisor, desk_url)
    page.goto(f"{desk_url}/reports/")
    table = page.locator("#report-csat-by-agent table.data tbody tr").first
    expect(table).to_contain_text("Laura")
    expect(table).to_contain_text("4.0" if locale == "en-US" else "4,0")
    section = page.locator("#report-csat-by-channel")
    section.scroll_into_view_if_needed()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.locator("#report-csat-by-channel").screenshot(path=str(Path(SHOTS) / f"csat-report-channel-{locale[:2]}.png"))
        page.locator("#report-csat-by-agent").screenshot(path=str(Path(SHOTS) / f"csat-report-agent-{locale[:2]}.png"))
        page.locator("#report-agents").screenshot(path=str(Path(SHOTS) / f"csat-report-agents-table-{locale[:2]}.png"))
    page.context.close()
