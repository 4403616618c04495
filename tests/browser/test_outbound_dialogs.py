"""Issue 15 in the desk, in a browser: New conversation (from a web-form conversation with no
outbound channel, by email, delivered to a loopback SMTP server by the real worker), the rule shown
for a Messenger identity that cannot be written to, Schedule call-back from a missed call, the
takeover dialog that says who and since when, and readable names for a phone-only and a Messenger
customer. Screenshots in English and Spanish (artifacts/desk/outbound-*.png)."""
import email
from datetime import timedelta
from email import policy

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.crm.models import Identity
from apps.demo.standins.mail import SmtpStandin
from apps.inbox.inbound import SenderIdentity
from apps.inbox.models import Conversation, ConversationEvent
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from tests.browser.conftest import TIMEOUT_MS, login
from tests.browser.desk_fixtures import _in, desk_team, off_loop, seed_desk, shoot  # noqa: F401  (fixtures)
from tests.loopback import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def smtp():
    server = SmtpStandin(port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def inbox(make_account, desk_team, smtp):
    team, ana, luis = desk_team
    by_channel = off_loop(seed_desk, make_account, team)
    email = by_channel["email"].channel_account
    email.settings = {"address": "soporte@tienda.example", "display_name": "Soporte Tienda", "smtp_host": "127.0.0.1",
                      "smtp_port": smtp.port, "smtp_security": "none"}
    email.save(update_fields=["settings"])
    # Jordi (web form) also wrote once on Messenger, long ago: no window is open with him
    facebook = by_channel["facebook"].channel_account
    jordi = by_channel["webform"].customer
    Identity.objects.create(customer=jordi, kind="facebook", value="7481023395518600")
    # a Messenger customer whose profile is not known yet, and a caller known by number only
    off_loop(messages_ingest, messages=[
        _in(facebook, "m_unknown_1", minutes_ago=3, senders=[SenderIdentity("facebook", "7481023395519901")],
            thread_key="psid:7481023395519901", text="Hola, ¿seguís abiertos hoy?"),
        _in(by_channel["phone"].channel_account, "CA-missed-2", minutes_ago=5, senders=[SenderIdentity("phone", "+34699887766")],
            kind="call", thread_key="+34699887766", text="Missed call from +34 699 88 77 66",
            metadata={"call": {"from": "+34699887766", "to": "+34910000000", "direction": "inbound", "status": "no-answer",
                               "started_at": (timezone.now() - timedelta(minutes=5)).isoformat(), "duration_seconds": 0,
                               "recording_url": "", "needs_callback": True, "source": "twilio", "notes": "", "logged_by": None}}),
    ])
    return by_channel


def open_as(browser, desk_url, user, path="/", lang="en"):
    context = browser.new_context(locale="en-US" if lang == "en" else "es-ES", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    login(page, user, desk_url)
    page.goto(f"{desk_url}{path}")
    expect(page.locator("#live")).to_have_text("live" if lang == "en" else "en vivo")
    return page


def dialog_for_jordi(opener):
    """Click what opens New conversation on Jordi (web form): the dialog, his address by email picked."""
    opener.click()
    dialog = opener.page.locator("#outbound")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ob-customer-name")).to_have_text("Jordi Puig")
    expect(dialog.locator(".ob-route", has_text="jordi@example.cat").locator("input")).to_be_checked()
    return dialog


def test_new_conversation_by_email_from_a_web_form_is_delivered_and_opens(browser, desk_url, desk_worker, desk_team, inbox, smtp):
    team, ana, luis = desk_team
    form = inbox["webform"]
    page = open_as(browser, desk_url, ana, f"/c/{form.id}/")
    try:
        # given: a web form has no outbound channel: the composer says so and offers another channel
        # then: his address by email is offered and picked; Messenger shows the rule that refuses it
        dialog = dialog_for_jordi(page.locator("#composer").get_by_role("button", name="Write on another channel"))
        refused = dialog.locator(".ob-route.refused", has_text="7481023395518600")
        expect(refused).to_contain_text("The customer has not written on Messenger yet")
        # when: Ana writes the subject and text and sends
        dialog.locator("#ob-subject").fill("Tu factura de empresa")
        dialog.locator("#ob-text").fill("Hola Jordi, te adjuntamos la factura a nombre de Puig i Fills SL.")
        shoot(page, "outbound-new-conversation-en")
        dialog.get_by_role("button", name="Send").click()
        # then: the new conversation opens in the desk, its first message turns Sent, the mail left
        expect(dialog).to_be_hidden()
        expect(page.locator("#conv-head")).not_to_have_attribute("data-id", str(form.id))
        started = Conversation.objects.exclude(pk=form.pk).get(customer=form.customer, channel_account=inbox["email"].channel_account)
        expect(page.locator("#conv-head")).to_have_attribute("data-id", str(started.id))
        expect(page.locator("#messages .msg.dir-out .delivery")).to_have_attribute("data-delivery", "sent", timeout=TIMEOUT_MS)
        expect(page.locator(f'li.row[data-id="{started.id}"]')).to_contain_text("Tu factura de empresa")
        [mail] = smtp.received
        assert mail["rcpt_tos"] == ["jordi@example.cat"]
        assert started.assignee_id == ana.id
    finally:
        page.context.close()


def test_write_to_this_customer_from_the_customer_pane_with_an_attachment(browser, desk_url, desk_worker, desk_team, inbox, smtp):
    page = open_as(browser, desk_url, desk_team[1], f"/c/{inbox['webform'].id}/")
    try:
        # when: Ana writes to Jordi from his customer pane, with a file attached
        dialog = dialog_for_jordi(page.locator("#customer").get_by_role("button", name="Write to this customer"))
        for field, value in (("#ob-subject", "Presupuesto"), ("#ob-text", "Hola Jordi, le enviamos el presupuesto.")):
            dialog.locator(field).fill(value)
        dialog.locator("#ob-files").set_input_files([{"name": "presupuesto.pdf", "mimeType": "application/pdf",
                                                      "buffer": b"%PDF-1.4 presupuesto"}])
        expect(dialog.locator("#ob-file-list")).to_contain_text("presupuesto.pdf")
        dialog.get_by_role("button", name="Send").click()
        # then: the new conversation opens, its first message turns Sent, and the mail carries the file
        expect(dialog).to_be_hidden()
        expect(page.locator("#messages .msg.dir-out .delivery")).to_have_attribute("data-delivery", "sent", timeout=TIMEOUT_MS)
        expect(page.locator("#messages .msg.dir-out")).to_contain_text("presupuesto.pdf")
        [mail] = smtp.received
        [attached] = list(email.message_from_bytes(mail["data"], policy=policy.default).iter_attachments())
        assert (attached.get_filename(), attached.get_content()) == ("presupuesto.pdf", b"%PDF-1.4 presupuesto")
    finally:
        page.context.close()


def test_schedule_a_call_back_from_a_missed_call(browser, desk_url, desk_team, inbox):
    team, ana, luis = desk_team
    call = Conversation.objects.get(thread_key="+34699887766")
    page = open_as(browser, desk_url, ana, f"/c/{call.id}/")
    try:
        # the caller is named by the formatted number, with a phone avatar, never "+346..."
        expect(page.locator("#customer-name")).to_have_text("+34 699 88 77 66")
        expect(page.locator(".cust-head .avatar-phone")).to_be_visible()
        card = page.locator(".call-card").last
        expect(card.get_by_role("link", name="Call back")).to_have_attribute("href", "tel:+34699887766")
        # when: Ana schedules the call-back for tomorrow at 09:00
        card.get_by_role("button", name="Schedule call-back…").click()
        expect(page.locator("#callback")).to_be_visible()
        page.locator("#callback").get_by_role("button", name="Tomorrow 09:00").click()
        shoot(page, "outbound-callback-en")
        page.locator("#callback").get_by_role("button", name="Schedule").click()
        # then: snoozed until then, assigned to her
        expect(page.locator("#conv-head .badge.st-snoozed")).to_contain_text("Snoozed until")
        expect(page.locator('#conv-head select[data-field="assignee"]')).to_have_value(str(ana.id))
        call.refresh_from_db()
        assert (call.status, call.assignee_id) == ("snoozed", ana.id)
        assert call.snoozed_until > timezone.now() + timedelta(hours=1)
        shoot(page, "outbound-phone-customer-en")
    finally:
        page.context.close()


def test_the_takeover_dialog_says_who_holds_it_and_since_when(browser, desk_url, desk_team, inbox):
    team, ana, luis = desk_team
    tweet = inbox["twitter"]
    off_loop(conversation_update, conversation=tweet, actor=luis, assignee=luis)
    ConversationEvent.objects.filter(conversation=tweet, kind="assigned").update(created_at=timezone.now() - timedelta(hours=2, minutes=5))
    page = open_as(browser, desk_url, ana, f"/c/{tweet.id}/")
    try:
        page.locator("#conv-head").get_by_role("button", name="Claim").click()
        dialog = page.locator("#takeover")
        expect(dialog).to_be_visible()
        expect(dialog.locator("#takeover-who")).to_contain_text("Luis Martín has held it since")
        expect(dialog.locator("#takeover-who")).to_contain_text("2h 05m")
        shoot(page, "outbound-takeover-en")
        dialog.get_by_role("button", name="Take it over").click()
        expect(page.locator('#conv-head select[data-field="assignee"]')).to_have_value(str(ana.id))
    finally:
        page.context.close()


def test_the_same_in_spanish_with_readable_names(browser, desk_url, desk_team, inbox):
    """The screenshots in Spanish: the dialogs and a Messenger customer with no profile yet."""
    team, ana, luis = desk_team
    ana.language = "es"
    ana.save(update_fields=["language"])
    messenger = Conversation.objects.get(thread_key="psid:7481023395519901")
    page = open_as(browser, desk_url, ana, f"/c/{messenger.id}/", lang="es")
    try:
        expect(page.locator("#customer-name")).to_have_text("Usuario de Messenger ·9901")
        expect(page.locator(f'li.row[data-id="{messenger.id}"] .row-customer')).to_have_text("Usuario de Messenger ·9901")
        shoot(page, "outbound-messenger-customer-es")
        page.get_by_role("button", name="Nueva conversación").click()
        page.locator("#ob-search").fill("Jordi")
        page.locator(".ob-result", has_text="Jordi Puig").click()
        expect(page.locator("#ob-route-list .ob-route.refused")).to_contain_text("aún no ha escrito por Messenger")
        shoot(page, "outbound-new-conversation-es")
        page.keyboard.press("Escape")
        page.locator("#conv-head").get_by_role("button", name="Programar devolución de llamada").click()
        page.locator("#callback").get_by_role("button", name="Mañana a las 09:00").click()
        shoot(page, "outbound-callback-es")
        page.keyboard.press("Escape")
        call = Conversation.objects.get(thread_key="+34699887766")
        off_loop(conversation_update, conversation=call, actor=luis, assignee=luis)
        page.goto(f"{desk_url}/c/{call.id}/")
        expect(page.locator("#customer-name")).to_have_text("+34 699 88 77 66")
        shoot(page, "outbound-phone-customer-es")
        page.locator("#conv-head").get_by_role("button", name="Tomar").click()
        expect(page.locator("#takeover-who")).to_contain_text("Luis Martín la tiene desde")
        shoot(page, "outbound-takeover-es")
    finally:
        page.context.close()


def test_a_logged_call_back_opens_an_email_follow_up_in_one_step(browser, desk_url, desk_team, inbox):
    team, ana, luis = desk_team
    call = inbox["phone"]  # Lucía's missed call: she also has an email address
    page = open_as(browser, desk_url, ana, f"/c/{call.id}/")
    try:
        # when: Ana logs the call-back she made, ticking "then write an email follow-up"
        page.locator(".log-call summary").click()
        form = page.locator("#log-call")
        form.locator("textarea[name=notes]").fill("Devolución aceptada, le mando la etiqueta por email.")
        form.get_by_label("Then write an email follow-up").check()
        form.get_by_role("button", name="Save call").click()
        # then: the call is logged and New conversation opens on Lucía, her address by email picked
        expect(page.locator("#messages")).to_contain_text("Devolución aceptada")
        dialog = page.locator("#outbound")
        expect(dialog).to_be_visible()
        expect(dialog.locator("#ob-customer-name")).to_have_text("Lucía Fernández")
        expect(dialog.locator(".ob-route", has_text="lucia.fernandez@example.es").locator("input")).to_be_checked()
        expect(dialog.locator("#ob-subject")).to_be_focused()
    finally:
        page.context.close()
