"""The desk and the public form in Spanish and English, in a real browser (docs/languages.md).

An agent whose profile says Spanish (and Buenos Aires) gets the whole desk in Spanish even from
an English browser: server-rendered panes, the composer (its script-side strings too), a live
mention notification, and dates formatted by the browser (Intl) in her language and zone. She
switches to English on her profile page. Visitors of the public form get its errors in their
browser's language. Screenshots: artifacts/desk/i18n-desk-es.png and i18n-desk-en.png.
"""
import re
from datetime import datetime, timezone as dt_timezone

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.connectors.models import ChannelKind
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Conversation
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import note_create
from tests.browser.conftest import login
from tests.browser.desk_fixtures import desk_team, off_loop, shoot  # noqa: F401  (fixtures)
from tests.connectors.webform.conftest import make_webform, visitor_ip, webform, webform_account  # noqa: F401  (fixtures)

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=dt_timezone.utc)  # 06:00 in Buenos Aires (UTC-3), 10:00 in Madrid


@pytest.mark.postgres
@pytest.mark.redis
def test_an_agent_whose_language_is_spanish_works_in_spanish_and_switches_to_english(page, desk_url, desk_team, make_account):
    # given Ana reads Spanish in Buenos Aires (her browser asks for English: the profile wins)
    team, ana, luis = desk_team
    User.objects.filter(pk=ana.pk).update(language="es", time_zone="America/Argentina/Buenos_Aires")
    email = make_account(kind=ChannelKind.EMAIL, name="soporte@tienda.example", team=team)
    # off the test thread's event loop, so its live events are published (and logged: the page's
    # resync then finds nothing missed, instead of refetching the pane under the test's clicks)
    off_loop(messages_ingest, messages=[InboundMessage(
        account_id=email.id, external_id="<pedido-88@example.es>", sent_at=SENT, subject="Pedido 88 sin llegar",
        text="Hola, el pedido 88 no ha llegado.", senders=[SenderIdentity("email", "marta@example.es", "Marta Gil")],
    )])
    conversation = Conversation.objects.get()
    login(page, ana, desk_url)

    # when she opens the desk and the conversation
    page.goto(f"{desk_url}/c/{conversation.id}/")
    # then the desk's chrome is Spanish, served and scripted
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#list-title")).to_have_text("Todas")
    expect(page.locator(".nav-view[data-view='unassigned']")).to_contain_text("Sin asignar")
    expect(page.locator("#live")).to_have_text("en vivo")  # set by desk.js once the socket is open
    expect(page.locator("li.row .assignee")).to_have_text("Sin asignar")
    expect(page.get_by_role("button", name="Resolver", exact=True)).to_be_visible()
    # and the composer: tabs, placeholder, send button; the note mode's strings come from the script catalog
    expect(page.locator(".tab[data-mode='reply']")).to_contain_text("Responder")
    expect(page.locator("#composer-text")).to_have_attribute("placeholder", "Responder a Marta Gil por soporte@tienda.example…")
    expect(page.locator("#composer-send")).to_have_text("Enviar respuesta")
    page.locator(".tab[data-mode='note']").click()
    expect(page.locator("#composer-send")).to_have_text("Añadir nota")
    expect(page.locator("#composer-text")).to_have_attribute("placeholder", re.compile(r"^Nota interna: solo la ven los agentes"))
    # and the dates: the browser writes them in Spanish, in Buenos Aires time (09:00 UTC is 06:00 there)
    msg_time = page.locator("#messages .msg-time").first
    expect(msg_time).to_have_text(re.compile(r"^1 dic\.?,? 06:00$"))
    expect(page.locator("li.row time.ago")).to_have_text(re.compile(r"^\d+ d \d+ h$"))

    # when Luis mentions her in a note (a live event over the real websocket)
    off_loop(note_create, conversation=conversation, author=luis, text="@ana ¿lo revisas tú?")
    # then the notification toast and the notifications panel are in Spanish
    expect(page.locator("#toasts .toast", has_text="le mencionó: @ana ¿lo revisas tú?")).to_have_text("Le han mencionado: Luis Martín le mencionó: @ana ¿lo revisas tú?")
    page.locator("#notif-button").click()
    # the panel titles each entry with the server's notification title, the same words as the toast
    expect(page.locator("#notif-list li").first).to_contain_text(f"Le han mencionado · #{conversation.id}")
    page.locator("#notif-button").click()
    page.keyboard.press("Escape")
    shoot(page, "i18n-desk-es")

    # when she opens her profile from the header and picks English and Madrid
    page.locator(".who-link").click()
    expect(page.locator("h2")).to_have_text("Su perfil")
    shoot(page, "i18n-profile-es")
    page.get_by_label("Idioma").select_option("en")
    page.get_by_label("Zona horaria").select_option("Europe/Madrid")
    page.get_by_role("button", name="Guardar").click()
    # then the profile page says so in English, and the desk is English, its times in Madrid
    expect(page.locator(".notice-ok")).to_have_text("Your language and time zone are saved.")
    page.get_by_role("link", name="Back to the inbox").click()
    page.locator("li.row").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#composer-send")).to_have_text("Send reply")
    expect(page.locator("#messages .msg-time").first).to_have_text(re.compile(r"^Dec 1, 10:00\sAM$"))
    expect(page.locator("#live")).to_have_text("live")
    shoot(page, "i18n-desk-en")
    ana.refresh_from_db()
    assert (ana.language, ana.time_zone) == ("en", "Europe/Madrid")


@pytest.mark.parametrize(
    ("locale", "summary", "required"),
    [("es-ES", "Revise el formulario", "Este campo es requerido."), ("en-US", "Please check the form", "This field is required.")],
)
def test_the_public_form_answers_in_the_visitors_language(browser, desk_url, webform, locale, summary, required):  # noqa: F811
    # given a visitor whose browser speaks Spanish, or English
    context = browser.new_context(locale=locale, viewport={"width": 900, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{desk_url}/f/{webform.slug}/")
        # when she sends the form empty
        page.locator("button[type=submit]").click()
        # then the summary and each field's error are in her language
        expect(page.locator("#error-summary h2")).to_have_text(summary)
        expect(page.locator("#error-summary")).to_contain_text(f"Topic: {required}")
        expect(page.locator(".field.has-error .error").first).to_have_text(required)
        shoot(page, f"i18n-webform-{locale}")
    finally:
        context.close()
