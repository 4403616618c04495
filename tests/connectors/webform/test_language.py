"""The public form speaks the visitor's language, and the desk's mail answers in it (docs/languages.md).

The page follows the browser (Accept-Language); the submission records the language it was
shown in, the conversation's first message keeps it (details.form.language), and the
confirmation mail is written in it, whatever language the worker runs in.
"""
import email
from email import policy

import pytest
from django.utils import translation

from apps.connectors.drain import inbound_drain
from apps.inbox.models import Message

from .conftest import VALID
from .test_confirmation import certificate, mail_account, recipient, smtp_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("eager_celery")
MISSING = {**VALID, "email": "ana@", "topic": "", "message": ""}


@pytest.mark.parametrize(
    ("accept_language", "summary", "required", "invalid_email", "lang"),
    [
        ("es-ES,es;q=0.9", "Revise el formulario", "Este campo es requerido.", "Introduzca una dirección de correo electrónico válida.", "es"),
        ("es-AR", "Revise el formulario", "Este campo es requerido.", "Introduzca una dirección de correo electrónico válida.", "es"),
        ("en-US,en;q=0.8", "Please check the form", "This field is required.", "Enter a valid email address.", "en"),
    ],
)
def test_the_forms_errors_are_in_the_visitors_language(client, webform, visitor_ip, accept_language, summary, required, invalid_email, lang):
    # when a visitor sends the form with fields missing, her browser asking for a language
    response = client.post("/f/contact/", MISSING, REMOTE_ADDR=visitor_ip(), HTTP_ACCEPT_LANGUAGE=accept_language)
    # then the page, its summary and every field's error are in that language; the values are kept
    html = response.content.decode()
    assert response.status_code == 200 and f'<html lang="{lang}">' in html
    assert f"<h2>{summary}</h2>" in html
    assert f"Topic: {required}" in html and f"Email: {invalid_email}" in html
    assert 'value="Ana García"' in html
    assert not Message.objects.exists()


def test_the_confirmation_mail_is_in_the_language_of_the_submission(
    client, django_capture_on_commit_callbacks, webform, mail_account, smtp_server, visitor_ip, recipient  # noqa: F811
):
    # given a form that confirms by email
    webform.confirmation_email_account = mail_account
    webform.save()
    spanish, english = recipient("lucia.idioma@example.com"), recipient("john.language@example.com")
    # when Lucía sends it from a Spanish browser and John from an English one, the mails leaving
    # while the process runs in the other language
    for address, browser, worker in ((spanish, "es-ES", "en"), (english, "en-GB", "es")):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/f/contact/", {**VALID, "email": address}, REMOTE_ADDR=visitor_ip(), HTTP_ACCEPT_LANGUAGE=browser)
        assert response.status_code == 302
        with translation.override(worker):
            for callback in callbacks:
                callback()
            inbound_drain()
    # then Lucía's confirmation is in Spanish and John's in English
    mails = {m["rcpt_tos"][0]: email.message_from_bytes(m["data"], policy=policy.default) for m in smtp_server.received}
    assert mails[spanish]["Subject"] == "Hemos recibido su mensaje: Contact us"
    assert "Lo que nos envió:" in mails[spanish].get_content() and "What you sent:" not in mails[spanish].get_content()
    assert mails[english]["Subject"] == "We have received your message: Contact us"
    assert "What you sent:" in mails[english].get_content()
    # and each conversation keeps the language it was written in, for the agents and later mails
    languages = {m.metadata["form"]["fields"][1]["value"]: m.metadata["form"].get("language") for m in Message.objects.filter(kind="form")}
    assert languages == {spanish: "es", english: "en"}


def test_the_agent_sees_the_language_the_customer_wrote_in(client, webform, visitor_ip, make_user):
    # given a submission from a Spanish browser
    from apps.accounts.models import Role

    client.post("/f/contact/", VALID, REMOTE_ADDR=visitor_ip(), HTTP_ACCEPT_LANGUAGE="es-ES")
    inbound_drain()
    message = Message.objects.get(kind="form")
    # when a supervisor opens the conversation
    client.force_login(make_user(role=Role.SUPERVISOR))
    html = client.get(f"/c/{message.conversation_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the form card says which language to answer in
    assert 'class="badge form-language" title="The language of the page the customer filled in: answer in it">ES</span>' in html
