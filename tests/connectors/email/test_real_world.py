"""Mails as they really arrive (issue 16): readable whatever they declare, structures recognised.

The files are in real_world/ (see its README for the shapes and where they were seen).
"""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.connectors.email.parse import parse
from apps.connectors.models import ChannelKind, DeadLetter
from apps.inbox.models import Attachment, Message

REAL_WORLD = Path(__file__).parent / "real_world"


def parsed(name: str):
    [message] = parse((REAL_WORLD / name).read_bytes(), account_id=1)
    return message


def test_undeclared_koi8r_is_detected_from_the_whole_mail():
    message = parsed("koi8r_undeclared.eml")
    assert message.subject == "тест тест"
    assert message.text.startswith("Здравствуйте! Мой заказ номер 4471 до сих пор не пришёл.")


def test_an_encoded_word_holding_raw_8bit_bytes_is_decoded():
    message = parsed("qp_word_raw_8bit.eml")
    assert message.subject == "Re: el pedido está roto"
    assert message.senders[0].display_name == "José Pérez"


def test_a_truncated_encoded_word_is_decoded_as_far_as_it_goes_and_an_empty_enclosure_is_no_error():
    message = parsed("bounce_truncated_word.eml")
    assert message.subject == "こんにちは"
    assert message.metadata["automated"] == "bounce"
    assert message.metadata["bounce"]["status"] == "5.1.1"


def test_an_outlook_forward_shows_the_original_mail_readable():
    message = parsed("outlook_forward_base64.eml")
    assert message.text == "Os reenvio la queja de esta clienta."
    [forwarded] = message.metadata["forwarded"]
    assert forwarded["from"] == "Laura Gómez <laura@cliente.example.es>"
    assert forwarded["subject"] == "Factura duplicada"
    assert forwarded["text"] == "Me habéis cobrado dos veces la factura 2026-118."
    # the attachment is the original mail itself, not its base64 text
    [attachment] = message.attachments
    assert attachment.filename == "Factura duplicada.eml"
    assert attachment.content.startswith(b"From: ")
    assert "Subject: Factura duplicada" in attachment.content.decode()


def test_mojibake_is_undone_for_display():
    message = parsed("mojibake_subject.eml")
    assert message.subject == "Cafetera rota, ¿cuándo llega el cambio?"
    assert message.text == "Hola, la cafetera sigue rota. ¿Cuándo llega el cambio?"


@pytest.mark.django_db
def test_the_real_world_folder_ingests_readably_and_a_rerun_adds_nothing(make_account, settings, tmp_path, client, django_user_model):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    make_account(kind=ChannelKind.EMAIL, name="Buzón soporte", settings={"address": "soporte@tienda.example"})

    def ingest() -> str:
        out = StringIO()
        call_command("ingest", "email", str(REAL_WORLD), "--account", "Buzón soporte", "--no-progress", stdout=out, stderr=StringIO())
        return out.getvalue().strip()

    # given / when: the folder (five mails; the README is not a mail and becomes a dead letter)
    with pytest.raises(SystemExit):
        first = ingest()
    # then: every mail landed readable, and the forwarded original is a real .eml attachment
    assert set(Message.objects.values_list("subject", flat=True)) >= {
        "тест тест", "Re: el pedido está roto", "こんにちは", "RV: Factura duplicada", "Cafetera rota, ¿cuándo llega el cambio?"}
    assert Message.objects.count() == 5
    assert DeadLetter.objects.count() == 1
    forward = Message.objects.get(external_id="outlook-fwd-1@tienda.example")
    assert forward.details["forwarded"][0]["subject"] == "Factura duplicada"
    assert Attachment.objects.get(message=forward).filename == "Factura duplicada.eml"

    # when: the same files again
    with pytest.raises(SystemExit):
        ingest()
    # then: nothing more (the README is kept again as its own dead letter: it is still no mail)
    assert Message.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_parsing_on_several_processes_gives_the_same_result(make_account, settings, tmp_path):
    # given: the real-world mails, imported by two forked parsers (outside a transaction, as the command runs)
    from apps.connectors.drain import payloads_import

    settings.MEDIA_ROOT = str(tmp_path / "media")
    account = make_account(kind=ChannelKind.EMAIL, name="Buzón soporte", settings={"address": "soporte@tienda.example"})
    payloads = [(p.name, p.read_bytes()) for p in sorted(REAL_WORLD.glob("*.eml"))] * 3  # each mail three times
    # when
    counts = payloads_import(kind="email", account=account, payloads=payloads, batch_size=4, parse_workers=2)
    # then: every mail once, the repeats duplicates, and this process's database connection still works
    assert (counts.ingested, counts.duplicates, counts.failed) == (5, 10, 0)
    assert sorted(Message.objects.values_list("subject", flat=True)) == sorted([
        "こんにちは", "тест тест", "Cafetera rota, ¿cuándo llega el cambio?", "RV: Factura duplicada", "Re: el pedido está roto",
    ])
