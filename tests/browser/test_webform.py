"""A visitor fills in a web form in a real browser (Debian chromium via Playwright) and it lands in the desk.

The desk is a real server on the test database (uvicorn on PostgreSQL/Redis, or the embedded
live server on SQLite). On PostgreSQL/Redis the staged submission waits for a worker's drain;
the test runs that drain itself, as the worker would.
"""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.connectors.drain import inbound_drain
from apps.connectors.webform.admin import embed_snippet
from apps.inbox.models import Message
from tests.browser.conftest import login, off_loop
from tests.connectors.webform.conftest import make_webform, webform, webform_account  # noqa: F401  (fixtures)


def send_contact_form(target, *, email, topic, message, name=None, phone=None):
    """Fill in the contact form in a page or a frame, as a person would, and send it."""
    if name is not None:
        target.get_by_label("Your name").fill(name)
    target.get_by_label("Email").fill(email)
    if phone is not None:
        target.get_by_label("Phone").fill(phone)
    target.get_by_label("Topic").select_option(topic)
    target.get_by_label("How can we help?").fill(message)
    target.get_by_role("button", name="Send").click()


def test_a_form_submitted_in_a_real_browser_lands_in_the_desk(page, desk_url, webform, team, make_user):
    # given the public page of the contact form
    page.goto(f"{desk_url}/f/contact/")
    expect(page.get_by_role("heading", name="Contact us")).to_be_visible()

    # when the visitor sends it half filled in
    page.get_by_label("Your name").fill("Ana García")
    page.get_by_label("Email").fill("ana@")
    page.get_by_role("button", name="Send").click()
    # then the problems are listed and focused, and each field says what is wrong
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Email: Enter a valid email address.")
    expect(summary).to_contain_text("Topic: This field is required.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your name")).to_have_value("Ana García")  # nothing typed is lost

    # when the visitor corrects it and sends it again
    send_contact_form(page, email="ana.browser@example.com", phone="+34 600 99 88 77", topic="Orders",
                      message="My parcel never arrived.\nOrder 5512.")
    # then the confirmation says so
    expect(page.get_by_role("status")).to_contain_text(webform.success_message)
    assert page.url == f"{desk_url}/f/contact/thanks/"

    # when the worker drains staged payloads, and an agent of the form's team looks in the desk
    off_loop(inbound_drain)
    agent = make_user(role=Role.AGENT, teams=[team])
    login(page, agent, desk_url)
    rows = page.request.get(f"{desk_url}/api/conversations/").json()["results"]
    # then the submission is a conversation of Ana's with its fields at a glance
    (row,) = [r for r in rows if r["customer"]["display_name"] == "Ana García"]
    messages = page.request.get(f"{desk_url}/api/conversations/{row['id']}/messages/").json()["results"]
    (form,) = [m["details"]["form"] for m in messages if m["kind"] == "form"]
    assert {f["name"]: f["value"] for f in form["fields"]} == {
        "name": "Ana García", "email": "ana.browser@example.com", "phone": "+34 600 99 88 77", "topic": "Orders",
        "message": "My parcel never arrived.\nOrder 5512.",
    }
    assert Message.objects.get(kind="form").customer.identities.filter(kind="phone", value="+34600998877").exists()

    # and the agent's desk shows the submission as a table of its fields
    page.goto(f"{desk_url}/c/{row['id']}/")
    table = page.locator(".form-table")
    expect(table.get_by_role("row", name="Topic")).to_contain_text("Orders")
    expect(table.get_by_role("row", name="Email")).to_contain_text("ana.browser@example.com")


@pytest.fixture
def company_site(desk_url):
    """The company's own site on another site than the desk: 127.0.0.1 and localhost are two sites
    for the browser (a port alone would make another origin but the same site, cookies and all)."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = "127.0.0.1" if urlsplit(desk_url).hostname == "localhost" else "localhost"
    yield f"http://{host}:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()


def _site_page(desk_url, webform) -> str:
    request = RequestFactory().get("/", HTTP_HOST=desk_url.split("//", 1)[1])
    snippet = embed_snippet(request, webform)["webform_embed_snippet"]
    return f"<!doctype html><html lang=en><title>Tienda</title><h1>Tienda · Contact</h1>{snippet}</html>"


def test_the_embedded_form_works_inside_the_companys_site(page, desk_url, webform, company_site):
    # given the admin allowed the company's site and it pasted the snippet from the admin
    origin, pages = company_site
    webform.allowed_origins = origin
    webform.save()
    pages["/contact.html"] = _site_page(desk_url, webform)

    # when a visitor opens the company's page
    page.goto(f"{origin}/contact.html")
    frame = page.frame_locator("iframe[data-centralita-form]")
    # then the form shows inside it and the iframe grows to the form's height (embed.js)
    expect(frame.get_by_role("heading", name="Contact us")).to_be_visible()
    page.wait_for_function("parseInt(document.querySelector('iframe[data-centralita-form]').style.height) > 0")

    # when the visitor fills it in there (a third-party frame: no desk cookies are sent)
    send_contact_form(frame, name="Eva Embed", email="eva.embed@example.com", topic="Other",
                      message="Sent from the shop's own page.")
    # then the confirmation shows inside the company's page
    expect(frame.get_by_role("status")).to_contain_text(webform.success_message)
    assert page.url == f"{origin}/contact.html"
    off_loop(inbound_drain)
    message = Message.objects.get(kind="form")
    assert message.customer.display_name == "Eva Embed"


def test_a_site_that_is_not_allowed_cannot_show_the_form(page, desk_url, webform, company_site):
    # given the company's site is not among the allowed origins
    origin, pages = company_site
    pages["/contact.html"] = _site_page(desk_url, webform)
    # when a visitor opens it
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refusal:
        page.goto(f"{origin}/contact.html")
    # then the browser refuses to render the desk inside it (CSP frame-ancestors), and says why
    assert f"Framing '{desk_url}/' violates" in refusal.value.text and "The request has been blocked" in refusal.value.text
    (child,) = page.main_frame.child_frames
    assert child.locator("form").count() == 0
