"""Attachments on replies and notes: multipart files[], bounded, stored, and mailed by the email sender."""
import email
from email import policy

import pytest

from apps.inbox.models import Attachment, Conversation, Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.visibility import ALL_GROUP
from tests.builders import client_for, conversations, events_heard
from tests.connectors.email.servers import SmtpCapture

pytestmark = pytest.mark.django_db


def _upload(name, content, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_note_with_files_and_no_text(make_user, make_account, inbound, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    agent = make_user()
    (conv,) = conversations(inbound, make_account(), 1)
    # when a note carries two files and no text
    def post():
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(agent).post(
                f"/api/conversations/{conv.id}/messages/",
                {"kind": "note", "files[]": [_upload("a.txt", b"hola", "text/plain"), _upload("b.pdf", b"%PDF-1.4", "application/pdf")]},
                format="multipart",
            )

    responses = []
    heard = events_heard([ALL_GROUP], lambda: responses.append(post()))
    response = responses[0]
    # then both are stored and listed on the message, downloadable
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(a["filename"], a["size"], a["content_type"]) for a in body["attachments"]] == [
        ("a.txt", 4, "text/plain"), ("b.pdf", 8, "application/pdf")
    ]
    download = client_for(agent).get(body["attachments"][1]["url"])
    assert b"".join(download.streaming_content) == b"%PDF-1.4"
    # and the live event lists them too (other agents see the files without a reload)
    (created,) = [e for e in heard if e["type"] == "message.created"]
    assert [(a["filename"], a["size"]) for a in created["message"]["attachments"]] == [("a.txt", 4), ("b.pdf", 8)]
    assert created["message"]["attachments"][0]["url"] == f"/api/attachments/{body['attachments'][0]['id']}/"


def test_files_are_bounded(make_user, make_account, inbound, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.REPLY_ATTACHMENT_MAX_BYTES = 10
    settings.REPLY_ATTACHMENTS_MAX_FILES = 2
    agent = make_user()
    (conv,) = conversations(inbound, make_account(), 1)
    client = client_for(agent)
    url = f"/api/conversations/{conv.id}/messages/"
    big = client.post(url, {"kind": "note", "text": "x", "files[]": [_upload("big.bin", b"0" * 11, "application/octet-stream")]},
                      format="multipart")
    many = client.post(url, {"kind": "note", "text": "x", "files[]": [_upload(f"{i}.txt", b"1", "text/plain") for i in range(3)]},
                       format="multipart")
    # then both are refused with the limit, and nothing is stored
    assert big.status_code == 400 and big.json()["extra"] == {"filename": "big.bin", "max_bytes": 10}
    assert many.status_code == 400 and many.json()["extra"] == {"max_files": 2}
    assert not Attachment.objects.exists()
    assert Message.objects.filter(direction="out").count() == 0


def test_an_email_reply_carries_its_attachments(make_user, make_account, settings, tmp_path, inbound, eager_celery,
                                                django_capture_on_commit_callbacks):
    # given an email account sending through a real SMTP server, and a customer's mail
    settings.MEDIA_ROOT = str(tmp_path)
    smtp = SmtpCapture().start()
    try:
        account = make_account(kind="email", settings={
            "address": "soporte@tienda.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
            "plus_addressing": False,
        })
        messages_ingest(messages=[inbound(account, "<m1@example.com>", email="lucia@example.com", subject="Factura")])
        conv = Conversation.objects.get()
        agent = make_user()
        # when the agent replies with a PDF attached (the deliver task runs once the reply commits)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(agent).post(
                f"/api/conversations/{conv.id}/messages/",
                {"text": "Adjunto la factura.", "files[]": [_upload("factura.pdf", b"%PDF-1.4 factura", "application/pdf")]},
                format="multipart",
            )
        assert response.status_code == 201, response.content
        # then the mail that left has the text and the file
        assert Message.objects.get(pk=response.json()["id"]).delivery_status == "sent"
        (envelope,) = smtp.received
        mail = email.message_from_bytes(envelope["data"], policy=policy.default)
        assert mail.get_content_type() == "multipart/mixed"
        (attached,) = list(mail.iter_attachments())
        assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == (
            "factura.pdf", "application/pdf", b"%PDF-1.4 factura"
        )
        assert "Adjunto la factura." in mail.get_body(("plain",)).get_content()
    finally:
        smtp.stop()
