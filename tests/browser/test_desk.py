"""The desk in a real browser (Debian chromium via Playwright): what an agent sees and does.

The desk is served by a real server on the test database (uvicorn on PostgreSQL/Redis, the
embedded live server on SQLite; see tests/browser/conftest.py). Data goes in through the real
ingest service. Screenshots of the inbox and of conversations go to artifacts/desk/ (CI keeps them).
"""
import json

from django.conf import settings
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.crm.models import MergeSuggestion
from apps.inbox.models import CannedResponse, Conversation
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import note_create, reply_create
from apps.inbox.tasks import message_deliver
from tests.browser.conftest import login
from tests.browser.desk_fixtures import desk_team, off_loop, seed_desk, shoot  # noqa: F401  (fixtures)
from tests.inbox.test_replies import SECRET, receiver  # noqa: F401  (the loopback receiver fixture)


def test_the_inbox_and_a_conversation_render_every_channel(page, desk_url, desk_team, make_account, eager_celery, receiver):
    # given a morning's inbox for Ana's team: email, a missed call, a public tweet, a Facebook comment, a form
    team, ana, luis = desk_team
    convs = seed_desk(make_account, team)
    email = convs["email"]
    note_create(conversation=email, author=luis, text="@ana she already sent the shoes back once, check the RMA")
    page.goto(f"{desk_url}/login/")
    shoot(page, "login")
    login(page, ana, desk_url)

    # when Ana opens the desk
    page.goto(f"{desk_url}/")
    # then the list shows every conversation, newest activity first, with channel, customer and waiting time
    rows = page.locator("li.row")
    expect(rows).to_have_count(6)
    expect(rows.nth(0)).to_contain_text("Devolución del pedido 4471")  # Luis's note is its latest activity
    expect(rows.nth(1)).to_contain_text("Jordi Puig")
    expect(rows.nth(1).locator(".ch-webform")).to_be_visible()
    expect(page.locator("li.row", has_text="Marcos Ruiz").locator(".waiting")).to_be_visible()
    expect(page.locator('[data-count="all"]')).to_have_text("6")
    shoot(page, "inbox")
    # and the SLA clock: two first answers are overdue (Normal: 4 h), the missed call nearly so
    expect(page.locator("li.row .sla-breached")).to_have_count(2)
    expect(page.locator("li.row", has_text="Missed call").locator(".sla-warning .sla-label")).to_have_text("SLA due soon")
    page.get_by_label("SLA").select_option("breached")
    expect(rows).to_have_count(2)
    page.get_by_label("SLA").select_option("")
    expect(rows).to_have_count(6)

    # when she opens Lucía's email conversation
    page.locator("li.row", has_text="Devolución del pedido 4471").click()
    # then the thread, the note (distinct) and the customer's whole history are there
    thread = page.locator("#messages")
    expect(thread.locator(".msg.kind-note")).to_contain_text("she already sent the shoes back once")
    frame = page.frame_locator("iframe.msg-html").first
    expect(frame.locator("b")).to_have_text("zapatillas")
    expect(page.locator("#customer-name")).to_have_text("Lucía Fernández")
    expect(page.locator(".identities a[href='tel:+34612345678']")).to_be_visible()
    expect(page.locator(".identities a[href='mailto:lucia.fernandez@example.es']")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Call in · no answer")  # the missed call, another channel (the status by its label)
    assert page.url.endswith(f"/c/{email.id}/")

    shoot(page, "conversation-email")

    # when a reply on the CRM channel (no outbound URL) fails
    message = reply_create(conversation=convs["api"], author=ana, text="Te enviamos la etiqueta de devolución hoy.")
    page.goto(f"{desk_url}/c/{convs['api'].id}/")
    # then the failure shows with its reason and a Retry button
    failed = page.locator(f"#m-{message.id}")
    expect(failed.locator(".delivery.d-failed")).to_contain_text("no outbound_url")
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()

    # when an admin fixes the channel and Ana presses Retry
    crm = convs["api"].channel_account
    crm.settings = {"outbound_url": receiver.url}
    crm.secrets = {"outbound_secret": SECRET}
    crm.save()
    failed.get_by_role("button", name="Retry").click()
    if settings.IS_POSTGRES:  # the server queued it in Redis: run the delivery as the worker would
        expect(failed.locator(".delivery")).to_have_attribute("data-delivery", "queued")
        off_loop(message_deliver.apply, args=[message.id])
    # then it goes out to the customer's system and shows as sent
    expect(failed.locator(".delivery")).to_have_attribute("data-delivery", "sent")
    assert json.loads(receiver.requests[0]["body"])["text"] == "Te enviamos la etiqueta de devolución hoy."

    # when she opens the missed call: a call card with call-back links, and no reply box for the phone channel
    page.locator("li.row", has_text="Missed call").click()
    card = page.locator(".call-card")
    expect(card).to_contain_text("Needs call-back")
    expect(card.get_by_role("link", name="+34 612 34 56 78")).to_have_attribute("href", "tel:+34612345678")
    expect(card.get_by_role("link", name="Call back")).to_have_attribute("href", "tel:+34612345678")
    expect(page.locator(".tab[data-mode='reply']")).to_be_disabled()
    shoot(page, "conversation-call")

    # the web form: a table of fields
    page.locator("li.row", has_text="Factura de empresa").click()
    expect(page.locator(".form-table")).to_contain_text("Puig i Fills SL")

    # the Facebook comment: public mark and a Hide comment button; the tweet: public, a link to X
    page.locator("li.row", has_text="Irene Soto").click()
    fb = page.locator(".msg").first
    expect(fb.locator(".mark-public")).to_be_visible()
    expect(fb.get_by_role("button", name="Hide comment")).to_be_visible()
    page.locator("li.row", has_text="Marcos Ruiz").click()
    expect(page.locator(".msg").first.get_by_role("link", name="View on X · @marcosruiz")).to_be_visible()
    shoot(page, "conversation-twitter")

    # and the shortcuts help opens with ?
    page.locator("body").press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Next / previous conversation")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_an_invisible_conversation_is_not_served(page, desk_url, make_user, make_account, team, inbound):
    # given a conversation of another team
    other = make_account(team=team)
    (conv,) = [c for c in _ingest_one(inbound, other)]
    outsider = make_user(role=Role.AGENT, teams=[])
    outsider.teams.set([type(team).objects.create(name="Elsewhere")])
    login(page, outsider, desk_url)
    # when an agent outside that team opens its link
    response = page.goto(f"{desk_url}/c/{conv.id}/")
    # then it is a 404, and the list does not show it
    assert response.status == 404
    page.goto(f"{desk_url}/")
    expect(page.locator(f'li.row[data-id="{conv.id}"]')).to_have_count(0)


def _ingest_one(inbound, account):
    ids = messages_ingest(messages=[inbound(account, email="someone@example.com")]).message_ids
    return list(Conversation.objects.filter(messages__id__in=ids))




def test_an_agent_works_the_inbox_from_the_keyboard_composer_and_sidebar(page, desk_url, desk_team, make_account):
    # given Ana's team inbox and a canned answer with variables
    team, ana, luis = desk_team
    convs = seed_desk(make_account, team)
    CannedResponse.objects.create(shortcut="devolucion", title="Devolución en curso",
                                  text="Hola {{customer.first_name}}, soy {{agent.name}}: tu devolución está en curso.")
    login(page, ana, desk_url)
    page.goto(f"{desk_url}/")
    rows = page.locator("li.row")
    expect(rows).to_have_count(6)

    # when she presses j, the newest conversation opens; j again, the next one
    page.locator("body").press("j")
    expect(page.locator("#conv-head")).to_have_attribute("data-id", rows.nth(0).get_attribute("data-id"))
    page.locator("body").press("j")
    expect(page.locator("#conv-head")).to_have_attribute("data-id", rows.nth(1).get_attribute("data-id"))

    # when she opens Lucía's email, and writes a note mentioning Luis with the autocomplete
    page.locator("li.row", has_text="Devolución del pedido 4471").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["email"].id))
    page.locator("body").press("n")
    composer = page.locator("#composer-text")
    expect(composer).to_be_focused()
    composer.press_sequentially("@lu")
    expect(page.locator("#mention-menu")).to_contain_text("@luis")
    composer.press("Enter")
    composer.press_sequentially("¿puedes revisar el RMA?")
    expect(composer).to_have_value("@luis ¿puedes revisar el RMA?")
    page.set_input_files("#composer-attach", files=[{"name": "rma-4471.txt", "mimeType": "text/plain", "buffer": b"RMA 4471"}])
    expect(page.locator("#composer-files")).to_contain_text("rma-4471.txt")
    composer.press("Control+Enter")
    # then the note is in the thread, styled as a note, with its file, and the box is empty again
    note = page.locator("#messages .msg.kind-note")
    expect(note).to_contain_text("@luis ¿puedes revisar el RMA?")
    expect(note.locator(".attachment")).to_contain_text("rma-4471.txt")
    expect(composer).to_have_value("")
    expect(page.locator("#composer-files")).to_be_empty()

    # when she leaves the box (Esc), switches to a reply (r) and picks a canned response, then its variables are filled in
    composer.press("Escape")
    page.keyboard.press("r")
    expect(composer).to_be_focused()
    page.get_by_role("button", name="Canned").click()
    page.locator("#canned-search").fill("devol")
    page.locator("#canned-list li", has_text="Devolución en curso").click()
    expect(composer).to_have_value("Hola Lucía, soy Ana García: tu devolución está en curso.")
    # and the half-written reply is still there after a look at another conversation
    page.locator("li.row", has_text="Factura de empresa").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["webform"].id))
    expect(composer).to_have_value("")
    page.locator("li.row", has_text="Devolución del pedido 4471").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["email"].id))
    expect(composer).to_have_value("Hola Lucía, soy Ana García: tu devolución está en curso.")
    # and typing its shortcut after / at the start of a line does the same
    composer.fill("")
    composer.press_sequentially("/devol")
    expect(page.locator("#mention-menu")).to_contain_text("/devolucion")
    composer.press("Enter")
    expect(composer).to_have_value("Hola Lucía, soy Ana García: tu devolución está en curso.")

    # when she logs the call-back from the customer sidebar
    page.locator(".log-call summary").click()
    form = page.locator("#log-call")
    form.get_by_label("Minutes").fill("3")
    form.get_by_label("Notes").fill("Llamé para confirmar la recogida")
    form.get_by_role("button", name="Save call").click()
    # then the call is filed in this conversation, as a call card
    card = page.locator("#messages .call-card", has_text="Llamé para confirmar la recogida")
    expect(card).to_contain_text("Outbound call")
    expect(card).to_contain_text("3:00")

    # when the desk suggests Lucía is also the caller who wrote from X, and Ana merges from the sidebar
    duplicate = Conversation.objects.get(pk=convs["twitter"].pk).customer
    MergeSuggestion.objects.create(customer=convs["email"].customer, other=duplicate, reason="Same order number in both messages")
    page.reload()
    suggestion = page.locator(".suggestion")
    expect(suggestion).to_contain_text("Same order number in both messages")
    page.once("dialog", lambda dialog: dialog.accept())
    suggestion.get_by_role("button", name="Merge into this customer").click()
    # then the customer now has the X identity too, and her history holds the tweet
    expect(page.locator(".identities")).to_contain_text("@marcosruiz")
    expect(page.locator("#timeline")).to_contain_text("llevo una semana esperando")
    # and another one found by search: the web form's Jordi (a colleague's typo of the same person)
    page.locator(".merge-search summary").click()
    page.locator("#merge-query").fill("Jordi")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#merge-results li", has_text="Jordi Puig").get_by_role("button", name="Merge").click()
    expect(page.locator(".identities")).to_contain_text("jordi@example.cat")

    # when she selects the tweet and the Facebook comment and resolves both at once
    page.locator("li.row", has_text="llevo una semana esperando").locator(".pick-box").check()
    page.locator("li.row", has_text="Irene Soto").locator(".pick-box").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.locator("#bulk-bar").get_by_role("button", name="Resolve").click()
    # then they leave the open-work list
    expect(rows).to_have_count(4)
    assert set(Conversation.objects.filter(status="resolved").values_list("id", flat=True)) == {convs["twitter"].id, convs["facebook"].id}

    # when she tags the email conversation (still open) and snoozes the web form until tomorrow
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["email"].id))
    page.locator(".tag-input").fill("devoluciones")
    page.locator(".tag-input").press("Enter")
    expect(page.locator(".tags-edit .tag")).to_have_text("devoluciones×")
    page.locator("li.row", has_text="Factura de empresa").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["webform"].id))
    page.locator('#conv-head select[data-field="status"]').select_option("snoozed")
    # then the form shows until when, and leaves the open-work list; the tag filter finds the email
    expect(page.locator("#conv-head")).to_contain_text("Snoozed until")
    expect(rows).to_have_count(3)
    assert Conversation.objects.get(pk=convs["webform"].pk).status == "snoozed"
    page.get_by_label("Tag", exact=True).fill("devoluciones")
    page.get_by_label("Tag", exact=True).press("Enter")
    expect(rows).to_have_count(1)
    page.get_by_label("Tag", exact=True).fill("")
    page.get_by_label("Tag", exact=True).press("Enter")
    expect(rows).to_have_count(3)

    # when she marks the CRM conversation as spam, it leaves every queue
    page.locator("li.row", has_text="Estado del reembolso 4471").click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["api"].id))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#conv-head").get_by_role("button", name="Spam").click()
    expect(rows).to_have_count(2)
    assert Conversation.objects.get(pk=convs["api"].pk).status == "spam"

    # when she filters by channel, then only that channel's work is listed
    page.get_by_label("Channel").select_option("phone")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Missed call")
    assert "channel=phone" in page.url
    # and resolving it from the keyboard (e) empties that list
    rows.first.click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(convs["phone"].id))
    page.keyboard.press("e")
    expect(rows).to_have_count(0)
    expect(page.locator("#list-empty")).to_be_visible()
    assert Conversation.objects.get(pk=convs["phone"].pk).status == "resolved"
    # and a search from the keyboard finds the message text
    page.get_by_label("Channel").select_option("")
    page.locator("body").press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("zapatillas")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Devolución del pedido 4471")


def test_a_half_written_reply_and_the_selected_row_follow_the_open_conversation(page, desk_url, desk_team, make_account):
    # given Ana's inbox, with Lucía's email opened and a reply half written in it
    team, ana, _luis = desk_team
    convs = seed_desk(make_account, team)
    email, api = convs["email"].id, convs["api"].id
    login(page, ana, desk_url)
    page.goto(f"{desk_url}/")
    page.locator(f'li.row[data-id="{email}"] .row-link').click()
    expect(page.locator("li.row.selected")).to_have_attribute("data-id", str(email))
    page.locator("#composer-text").fill("Hola Lucía, lo reviso")
    # when she opens another conversation
    page.locator(f'li.row[data-id="{api}"] .row-link').click()
    # then its composer is empty, its row is the selected one, and the URL says which is open
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(api))
    expect(page.locator("#composer-text")).to_have_value("")
    expect(page.locator("li.row.selected")).to_have_attribute("data-id", str(api))
    assert page.url.endswith(f"/c/{api}/")
    # when she goes back to Lucía's: what she had written is there again
    page.locator(f'li.row[data-id="{email}"] .row-link').click()
    expect(page.locator("#conv-head")).to_have_attribute("data-id", str(email))
    expect(page.locator("#composer-text")).to_have_value("Hola Lucía, lo reviso")
    expect(page.locator("li.row.selected")).to_have_attribute("data-id", str(email))
    # and back in the browser's history to the inbox alone: the empty state, no row selected
    for _ in range(3):
        page.go_back()
    expect(page.locator("#thread-pane .empty-state")).to_be_visible()
    expect(page.locator("li.row.selected")).to_have_count(0)
