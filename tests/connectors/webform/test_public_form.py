"""The public page /f/<slug>/ through Django's test client, down to the conversation in the desk."""
import logging
import re

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.connectors.models import InboundPayload
from apps.connectors.drain import inbound_drain
from apps.connectors.webform.models import WebFormField
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .conftest import VALID

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def submit(client, django_capture_on_commit_callbacks):
    """POST the form as a browser at `ip` would, then drain what it staged as the worker does.

    (The on-commit nudge queues a Celery drain, which no worker takes in these tests, so the
    worker's drain is called here.)"""

    def post(data, *, ip, slug="contact", query="", http_client=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = (http_client or client).post(f"/f/{slug}/{query}", data, REMOTE_ADDR=ip, **extra)
        inbound_drain()
        return response

    return post


def nothing_stored():
    return not InboundPayload.objects.exists() and not Message.objects.exists() and not Conversation.objects.exists()


def test_the_page_shows_the_fields_in_order_with_labels_and_required_marks(client, webform, django_assert_num_queries):
    # when a visitor opens the page (the form and its fields: two queries)
    with django_assert_num_queries(2):
        response = client.get("/f/contact/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Contact us</h1>" in html and "We answer within a day." in html
    positions = [html.index(f'for="id_{name}"') for name in ("name", "email", "phone", "topic", "message")]
    assert positions == sorted(positions)
    assert 'type="email"' in html and 'type="tel"' in html and "<textarea" in html and "<option value=\"Billing\">" in html
    assert html.count('<span class="visually-hidden">(required)</span>') == 4  # phone is optional
    assert 'maxlength="3000"' in html  # the textarea's bound is visible to the browser too
    # and the honeypot is there but out of sight and out of the tab order
    assert '<div class="hp" aria-hidden="true">' in html and 'tabindex="-1"' in html
    assert "csrfmiddlewaretoken" in html
    # and the page itself cannot be framed
    assert response["X-Frame-Options"] == "DENY"


def test_a_valid_submission_becomes_a_conversation_of_the_forms_team_linked_to_the_customer_who_emailed_before(
    client, submit, webform, webform_account, team, make_account, inbound, make_user, visitor_ip
):
    # given Ana emailed the desk before (one customer, her email identity)
    email_account = make_account(kind="email", name="Support mailbox")
    from apps.inbox.services.ingest import messages_ingest

    messages_ingest(messages=[inbound(email_account, email="ana@example.com", name="Ana García")])
    ana = Customer.objects.get()

    # when she fills in the web form with her email and phone
    response = submit(VALID, ip=visitor_ip())

    # then she is sent to the confirmation page with the form's success message
    assert response.status_code == 302 and response["Location"] == "/f/contact/thanks/"
    thanks = client.get(response["Location"])
    assert webform.success_message in thanks.content.decode()
    # and the submission is a form message in a new conversation for the form's team
    message = Message.objects.get(kind="form")
    conversation = message.conversation
    assert conversation.team_id == team.id and conversation.channel_account_id == webform_account.id
    assert conversation.subject == "Contact us: Billing"
    # and it is Ana's: her phone identity (E.164) joined her existing customer, nobody new was made
    assert message.customer_id == ana.id and Customer.objects.count() == 1
    assert set(ana.identities.values_list("kind", "value")) == {("email", "ana@example.com"), ("phone", "+34600112233")}
    # and nothing is left staged
    assert not InboundPayload.objects.exists()

    # when an agent of that team reads the conversation through the API
    agent = make_user(role=Role.AGENT, teams=[team])
    body = client_for(agent).get(f"/api/conversations/{conversation.id}/messages/").json()
    (shown,) = [m for m in body["results"] if m["kind"] == "form"]
    # then the structured fields are there at a glance (CONTRACTS.md: details.form)
    form = shown["details"]["form"]
    assert form["slug"] == "contact" and form["title"] == "Contact us"
    assert [(f["name"], f["label"], f["value"]) for f in form["fields"]] == [
        ("name", "Your name", "Ana García"),
        ("email", "Email", "ana@example.com"),
        ("phone", "Phone", "600 11 22 33"),
        ("topic", "Topic", "Billing"),
        ("message", "How can we help?", "I was charged twice for order 1234.\nPlease refund one."),
    ]
    assert "Topic: Billing" in shown["text"]


def test_invalid_answers_are_shown_next_to_their_fields_and_nothing_is_stored(client, submit, webform, visitor_ip):
    # when the visitor forgets a required field, mistypes the email and the phone
    data = {**VALID, "name": "", "email": "ana@", "phone": "12", "topic": "Not an option"}
    response = submit(data, ip=visitor_ip())
    # then the page comes back with each problem at its field, values kept
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('aria-invalid="true"') == 4
    assert '<p class="error" id="id_name_error">This field is required.</p>' in html
    assert '<p class="error" id="id_email_error">Enter a valid email address.</p>' in html
    assert "Enter a valid phone number" in html
    assert "Select a valid choice" in html
    assert 'aria-describedby="id_email_error"' in html
    assert 'role="alert"' in html and '<a href="#id_name">Your name: This field is required.</a>' in html
    assert "I was charged twice for order 1234." in html  # what they typed is not lost
    assert response.context["form"].errors
    # and nothing reached the desk
    assert nothing_stored()


def test_an_oversize_answer_is_refused_and_nothing_is_stored(submit, webform, visitor_ip):
    # a field beyond its bound
    response = submit({**VALID, "message": "x" * 3001}, ip=visitor_ip())
    assert response.status_code == 200
    assert "Ensure this value has at most 3000 characters (it has 3001)." in response.content.decode()
    assert nothing_stored()
    # a body beyond the page's bound, whatever its fields
    response = submit({**VALID, "extra": "y" * 70_000}, ip=visitor_ip())
    assert response.status_code == 413 and "too long" in response.content.decode()
    assert nothing_stored()


def test_an_admin_bound_on_a_field_is_kept_but_never_above_the_types_ceiling(submit, webform, visitor_ip):
    WebFormField.objects.filter(form=webform, name="name").update(max_length=10)
    response = submit({**VALID, "name": "Ana García López"}, ip=visitor_ip())
    assert "at most 10 characters" in response.content.decode()
    assert nothing_stored()


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(submit, webform, visitor_ip, caplog):
    # when a bot fills every field, the hidden one too
    with caplog.at_level(logging.INFO, logger="apps.connectors.webform.views"):
        response = submit({**VALID, "website": "http://spam.example"}, ip=visitor_ip())
    # then it sees the usual confirmation, nothing is stored, and the drop is logged
    assert response.status_code == 302 and response["Location"] == "/f/contact/thanks/"
    assert nothing_stored()
    assert "honeypot filled" in caplog.text


@pytest.mark.parametrize("setting_limit", ["3/10m"])
def test_one_address_is_limited_and_another_is_not(settings, submit, webform, visitor_ip, setting_limit):
    # given at most 3 submissions per address in 10 minutes (the shared cache: Redis when REDIS_URL is set)
    settings.WEBFORM_RATE_LIMIT = setting_limit
    first, second = visitor_ip(), visitor_ip()
    # when one address submits 3 times, then a fourth
    statuses = [submit(VALID, ip=first).status_code for _ in range(3)]
    limited = submit(VALID, ip=first)
    # then the fourth is refused with a friendly page and a Retry-After within the window
    assert statuses == [302, 302, 302]
    assert limited.status_code == 429
    assert "Too many messages from your connection" in limited.content.decode()
    assert 0 < int(limited["Retry-After"]) <= 600
    assert InboundPayload.objects.count() + Message.objects.filter(kind="form").count() == 3
    # and another address is still welcome
    assert submit(VALID, ip=second).status_code == 302
    assert Message.objects.filter(kind="form").count() == 4


def test_a_forged_forwarded_for_does_not_escape_the_limit_unless_a_proxy_is_trusted(settings, submit, webform, visitor_ip):
    settings.WEBFORM_RATE_LIMIT = "1/10m"
    proxy, client_a, client_b = visitor_ip(), visitor_ip(), visitor_ip()
    # given no trusted proxy: X-Forwarded-For is the client's own claim and is ignored
    settings.WEBFORM_TRUSTED_PROXIES = 0
    assert submit(VALID, ip=proxy, HTTP_X_FORWARDED_FOR=client_a).status_code == 302
    assert submit(VALID, ip=proxy, HTTP_X_FORWARDED_FOR=client_b).status_code == 429
    # given one trusted proxy: the address it appended (the rightmost) is the client
    settings.WEBFORM_TRUSTED_PROXIES = 1
    assert submit(VALID, ip=proxy, HTTP_X_FORWARDED_FOR=f"{client_b}, {client_a}").status_code == 302
    assert submit(VALID, ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {client_a}").status_code == 429  # the left part is forgeable
    assert Message.objects.filter(kind="form").count() == 2


def test_a_disabled_or_unknown_form_is_not_found(client, submit, webform, visitor_ip):
    webform.enabled = False
    webform.save()
    assert client.get("/f/contact/").status_code == 404
    assert submit(VALID, ip=visitor_ip()).status_code == 404
    assert client.get("/f/contact/thanks/").status_code == 404
    assert client.get("/f/nope/").status_code == 404
    assert "This form is not available" in client.get("/f/nope/").content.decode()
    # a disabled channel account closes its forms too
    webform.enabled = True
    webform.save()
    webform.channel_account.enabled = False
    webform.channel_account.save()
    assert client.get("/f/contact/").status_code == 404
    assert nothing_stored()


def test_the_page_needs_its_csrf_token(submit, webform, visitor_ip):
    browser = Client(enforce_csrf_checks=True)
    # when posted without the page's token (a cross-site forgery, or an expired session)
    response = submit(VALID, ip=visitor_ip(), http_client=browser)
    # then it is refused, values kept for a second try, nothing stored
    assert response.status_code == 403
    assert "Please check your answers and send again" in response.content.decode()
    assert "I was charged twice for order 1234." in response.content.decode()
    assert nothing_stored()
    # when the visitor sends the page that came back (it set the cookie and holds the token), it goes through
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]
    assert submit({**VALID, "csrfmiddlewaretoken": token}, ip=visitor_ip(), http_client=browser).status_code == 302
    assert Message.objects.filter(kind="form").count() == 1


def test_the_embed_may_be_framed_by_the_allowed_origins_and_posts_without_cookies(client, submit, webform, visitor_ip):
    # given the company's site may embed the form
    webform.allowed_origins = "https://www.tienda.example\nhttps://shop.example:8443/"
    webform.save()
    # when the iframe loads the embed
    page = client.get("/f/contact/?embed=1")
    # then only the page itself and those origins may frame it
    assert page.status_code == 200
    assert "X-Frame-Options" not in page
    assert frame_ancestors(page) == "'self' https://www.tienda.example https://shop.example:8443"
    html = page.content.decode()
    assert 'action="?embed=1"' in html and "csrfmiddlewaretoken" not in html
    token = embed_token_in(html)
    # and a browser that sends no cookies from inside a third-party iframe can submit it
    no_cookies = Client(enforce_csrf_checks=True)
    response = submit({**VALID, "embed_token": token}, ip=visitor_ip(), query="?embed=1", http_client=no_cookies)
    assert response.status_code == 302 and response["Location"] == "/f/contact/thanks/?embed=1"
    thanks = no_cookies.get(response["Location"])
    assert frame_ancestors(thanks).startswith("'self' https://www.tienda.example")
    assert Message.objects.filter(kind="form").count() == 1
    # but not with a forged (or expired) token
    forged = submit({**VALID, "embed_token": token[:-2] + "xx"}, ip=visitor_ip(), query="?embed=1", http_client=no_cookies)
    assert forged.status_code == 403 and Message.objects.filter(kind="form").count() == 1
    # and the form that comes back carries a fresh token, so sending again works
    again = submit({**VALID, "embed_token": embed_token_in(forged.content.decode())}, ip=visitor_ip(), query="?embed=1",
                   http_client=no_cookies)
    assert again.status_code == 302 and Message.objects.filter(kind="form").count() == 2


def frame_ancestors(response) -> str:
    """The frame-ancestors of the page's Content-Security-Policy (the rest is the desk's own policy)."""
    (value,) = [part.strip()[len("frame-ancestors "):] for part in response["Content-Security-Policy"].split(";")
                if part.strip().startswith("frame-ancestors ")]
    return value


def embed_token_in(html: str) -> str:
    return re.search(r'<input type="hidden" name="embed_token" value="([^"]+)">', html)[1]


def test_an_embed_without_allowed_origins_cannot_be_framed_elsewhere(client, webform):
    page = client.get("/f/contact/?embed=1")
    assert page["X-Frame-Options"] == "DENY"
    assert frame_ancestors(page) == "'self'"


def test_line_breaks_arrive_as_the_browser_sends_them_and_are_stored_plain(submit, webform, visitor_ip):
    # browsers send a textarea's line breaks as CRLF
    submit({**VALID, "message": "First line\r\nSecond line"}, ip=visitor_ip())
    fields = Message.objects.get(kind="form").details["form"]["fields"]
    assert fields[-1]["value"] == "First line\nSecond line"


def test_a_mistyped_limit_is_reported_by_the_system_check(settings):
    from apps.connectors.webform.apps import check_settings

    assert check_settings() == []
    settings.WEBFORM_RATE_LIMIT = "5 per minute"
    (error,) = check_settings()
    assert error.id == "webform.E001" and "5/10m" in error.msg


def test_an_embed_token_is_for_one_form_and_a_day():
    import time

    from django.core import signing

    from apps.connectors.webform.forms import EMBED_TOKEN_MAX_AGE, EMBED_TOKEN_SALT, embed_token, embed_token_valid

    class SignedYesterday(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - EMBED_TOKEN_MAX_AGE - 60)

    assert embed_token_valid(embed_token("contact"), "contact")
    assert not embed_token_valid(embed_token("other-form"), "contact")
    assert not embed_token_valid(SignedYesterday(salt=EMBED_TOKEN_SALT).sign_object("contact", compress=True), "contact")
    assert not embed_token_valid("", "contact")
