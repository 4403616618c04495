"""parse(): the corpus of real-world shapes, one outcome each (pure: no database)."""
from datetime import datetime, timedelta, timezone

import pytest

from apps.connectors.email.content import clean_html_with_quote, decode_bytes, html_to_text, quoted_start
from apps.connectors.email.parse import normalize_message_id, parse, split
from apps.connectors.email.tokens import plus_address, reference_from_address, reply_token, token_message_id
from apps.inbox.inbound import ParseError

from .conftest import fixture_bytes

CET = timezone(timedelta(hours=1))


def one(name: str, **kwargs):
    (message,) = parse(fixture_bytes(name), account_id=7, **kwargs)
    return message


# (fixture, sender address, display name, subject, a passage of the text)
READABLE = [
    ("latin1_qp.eml", "jose.perez@correo.example.es", "José Pérez Muñoz", "Cafetera rota (pedido nº 4471)",
     "la cafetera está rota. ¿Podéis enviarme otra"),
    ("latin1_8bit.eml", "ainhoa@example.net", "Ainhoa Etxeberria", "Consulta de tallas",
     "quería saber si tenéis la talla 42 de las zapatillas «Montaña». ¡Gracias!"),
    ("windows1252.eml", "marta.gomez@empresa.example", "Marta Gómez", "RE: Cobro duplicado – “urgente”",
     "el cargo de 59,90 € aparece dos veces en mi tarjeta. El “reembolso” que me prometisteis no ha llegado…"),
    ("utf8_base64.eml", "lucia.fernandez@gmail.example", "Lucía Fernández", "Re: ¿Dónde está mi pedido? [#1]",
     "el pedido 5512 sigue sin llegar. ¿Podéis mirar qué pasa?"),
    ("raw_8bit_header.eml", "inaki@example.org", "Iñaki Martínez", "Devolución del pedido nº 8890",
     "Quiero devolver el pedido nº 8890: el tamaño no es el que pedí."),
    ("html_only.eml", "carmen.ruiz@example.com", "Carmen Ruiz", "Factura de noviembre",
     "Tu factura de noviembre ya está disponible."),
    ("apple_alternative.eml", "pablo.sanz@icloud.example", "Pablo Sanz", "Re: Recogida del paquete",
     "Perfecto, entonces espero el mensajero el lunes."),
    ("attachment_inline.eml", "roberto.alonso@example.com", "Roberto Alonso", "Factura y foto del golpe",
     "Os mando la factura y una foto del golpe en la caja."),
    ("broken_date.eml", "luis.navarro@example.com", "Luis Navarro", "Factura rectificativa",
     "Necesito una factura rectificativa del pedido 3301"),
    ("auto_reply.eml", "marta.gomez@empresa.example", "Marta Gómez", "Respuesta automática: Re: Cobro duplicado [#3]",
     "Para asuntos urgentes escribid a recepción."),
    ("list_mail.eml", "boletin@lists.example.org", "Boletín Proveedores", "Novedades de noviembre",
     "nuevos plazos de entrega y tarifas de transporte."),
]


@pytest.mark.parametrize("name,address,display_name,subject,passage", READABLE, ids=[r[0] for r in READABLE])
def test_every_charset_and_encoding_reads_as_the_sender_wrote_it(name, address, display_name, subject, passage):
    # when
    message = one(name)
    # then
    assert [(s.kind, s.value, s.display_name) for s in message.senders] == [("email", address, display_name)]
    assert message.subject == subject
    assert passage in message.text
    assert "\ufffd" not in message.text + message.subject + display_name  # nothing lost to a wrong charset


@pytest.mark.parametrize(
    "name,automated,reason",
    [
        ("bounce_dsn.eml", "bounce", "Content-Type: multipart/report; report-type=delivery-status"),
        ("auto_reply.eml", "auto-reply", "Auto-Submitted: auto-replied"),
        ("list_mail.eml", "list", "Precedence: list"),
    ],
)
def test_machine_mail_is_kept_but_never_opens_a_conversation(name, automated, reason):
    # when
    message = one(name)
    # then
    assert message.opens_conversation is False
    assert (message.metadata["automated"], message.metadata["automated_reason"]) == (automated, reason)


@pytest.mark.parametrize("name", [r[0] for r in READABLE if r[0] not in ("auto_reply.eml", "list_mail.eml")])
def test_mail_written_by_people_opens_conversations(name):
    assert one(name).opens_conversation is True
    assert "automated" not in one(name).metadata


def test_message_id_is_the_external_id_and_threading_ids_are_references():
    # when: a Gmail reply to the desk's message, written to the desk's plus address
    message = one("utf8_base64.eml")
    # then: In-Reply-To first, the token of the plus address (the same id here), then References newest first
    assert message.external_id == "CAF3b0AbCdEf0123456789xyzQw-REPLY2@mail.gmail.example"
    assert message.references == ["c1.m2.9f8e7d6c5b@tienda.example", "CAF3b0AbCdEf0123456789xyzQw@mail.gmail.example"]
    assert message.thread_key == ""
    assert message.metadata["email"]["in_reply_to"] == ["c1.m2.9f8e7d6c5b@tienda.example"]
    assert message.metadata["conversation_tag"] == 1


def test_a_mail_without_message_id_is_named_by_the_hash_of_its_bytes():
    # when
    first, again = one("broken_from.eml"), one("broken_from.eml")
    # then
    assert first.external_id.startswith("sha256:") and len(first.external_id) == 71
    assert first.external_id == again.external_id


def test_a_from_without_a_usable_address_leaves_no_sender_but_keeps_the_mail():
    # when
    message = one("broken_from.eml")
    # then
    assert message.senders == []
    assert message.metadata["from_raw"] == "Pepe <pepe arroba correo punto es>"
    assert message.text == "No me ha llegado el pedido, mi correo es el de siempre."


def test_an_unreadable_date_falls_back_to_when_our_server_received_it():
    # when
    message = one("broken_date.eml")
    # then: the topmost Received: header (our server's), not the sender's client
    assert message.sent_at == datetime(2026, 11, 23, 8, 15, 42, tzinfo=CET)
    assert message.metadata["date_invalid"] == "lunes 23/11/2026 a las 8"


def test_a_date_far_in_the_future_is_not_believed():
    # given
    raw = fixture_bytes("latin1_8bit.eml").replace(b"Date: Fri, 20 Nov 2026", b"Date: Fri, 20 Nov 2099")
    # when
    (message,) = parse(raw, account_id=1)
    # then
    assert message.sent_at == datetime(2026, 11, 20, 11, 30, 2, tzinfo=CET)
    assert message.metadata["date_invalid"].startswith("in the future")


def test_without_any_date_the_time_of_fetching_is_used():
    # given
    raw = b"From: ana@example.com\r\nSubject: hola\r\n\r\nsin fecha\r\n"
    fetched_at = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
    # when
    (message,) = parse(raw, account_id=1, received_at=fetched_at)
    # then
    assert (message.sent_at, message.metadata["date_invalid"]) == (fetched_at, "missing")


def test_html_is_sanitized_and_remote_images_are_not_loaded():
    # when
    message = one("html_only.eml")
    # then
    html = message.html
    for dangerous in ("<script", "alert(", "onload", "onclick", "javascript:", "<iframe", "<style", "https://track.example.net"):
        assert dangerous not in html
    assert '<a href="https://facturas.example.com/f/2211" rel="noopener noreferrer">Descargar factura</a>' in html
    assert '<img alt="Logo Facturas">' in html  # shown by its alt text until the agent loads it
    assert message.metadata["remote_images_blocked"] == 2
    assert message.metadata["remote_images"] == ["https://cdn.example.com/logo.png", "https://track.example.net/open.gif?u=8812&m=77"]
    # and the text made from the HTML reads like the mail, without the script
    assert message.text.startswith("Oferta para clientes\n\nHola Carmen,\n\nTu factura de noviembre ya está disponible.")
    assert "alert" not in message.text and "font-family" not in message.text


def test_alternative_parts_give_text_for_search_and_html_for_display():
    # when
    message = one("apple_alternative.eml")
    # then
    assert message.text.startswith("Perfecto, entonces espero el mensajero el lunes.\n\nPablo")
    assert message.html.startswith("<div>Perfecto, entonces espero el mensajero el lunes.</div>")
    assert message.attachments == []


@pytest.mark.parametrize(
    "name,text_quote,html_quote",
    [
        ("utf8_base64.eml", "El vie, 20 nov 2026 a las 10:15, Soporte Tienda", "<div><div>El vie, 20 nov 2026"),
        ("apple_alternative.eml", "> El 20 nov 2026, a las 18:00, Soporte Tienda", "<blockquote>El 20 nov 2026"),
        ("windows1252.eml", "De: Soporte Tienda <soporte@tienda.example>\nEnviado:", None),
    ],
)
def test_quoted_history_is_marked_for_folding_and_kept_in_full(name, text_quote, html_quote):
    # when
    message = one(name)
    # then
    start = message.metadata["quoted_start"]
    assert message.text[start:].startswith(text_quote)
    assert message.text[:start].strip()  # the new part stays
    if html_quote:
        assert message.html[message.metadata["html_quoted_start"]:].startswith(html_quote)
    else:
        assert "html_quoted_start" not in message.metadata


def test_attachments_and_inline_images_come_with_their_bytes():
    # when
    message = one("attachment_inline.eml")
    # then
    image, pdf = message.attachments
    assert (image.filename, image.content_type, image.content_id) == ("golpe.png", "image/png", "foto-golpe@example.com")
    assert image.content.startswith(b"\x89PNG\r\n")
    assert (pdf.filename, pdf.content_type, pdf.content_id) == ("factura nº 771.pdf", "application/pdf", "")
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.endswith(b"%%EOF\n")
    assert "cid:" not in message.html  # ingest's sanitizer would drop it anyway; the file is an attachment


def test_attachments_over_the_limits_are_left_out_and_noted(monkeypatch):
    # given
    monkeypatch.setattr("apps.connectors.email.parse.MAX_ATTACHMENT_BYTES", 100)
    # when
    message = one("attachment_inline.eml")
    # then: the 70-byte image stays, the 125-byte PDF does not
    assert [a.filename for a in message.attachments] == ["golpe.png"]
    assert message.metadata["dropped_attachments"] == ["factura nº 771.pdf: 125 bytes over the 100 byte limit"]


def test_a_bounce_names_what_failed_and_threads_to_the_mail_that_bounced():
    # when
    message = one("bounce_dsn.eml")
    # then
    assert message.senders[0].value == "mailer-daemon@mail.tienda.example"
    assert message.references == ["c7.m9.0a1b2c3d4e@tienda.example"]
    assert message.metadata["bounce"]["status"] == "5.1.1"
    assert message.metadata["bounce"]["action"] == "failed"
    assert message.metadata["bounce"]["final-recipient"] == "rfc822; no.existe@example.com"
    assert "User unknown" in message.text
    assert [a.filename for a in message.attachments] == ["delivery-status-2.txt", "original-headers-3.txt"]


@pytest.mark.parametrize(
    "headers,automated",
    [
        (b"Auto-Submitted: auto-generated\r\n", "auto-reply"),
        (b"Auto-Submitted: no\r\n", None),
        (b"X-Autorespond: yes\r\n", "auto-reply"),
        (b"Precedence: bulk\r\n", "bulk"),
        (b"Precedence: junk\r\n", "bulk"),
        (b"List-Id: <ventas.example.org>\r\n", "list"),
        (b"Return-Path: <>\r\n", "auto-reply"),
    ],
)
def test_loop_headers(headers, automated):
    # given
    raw = headers + b"From: ana@example.com\r\nSubject: x\r\nMessage-ID: <l@x>\r\n\r\nhola\r\n"
    # when
    (message,) = parse(raw, account_id=1)
    # then
    assert message.metadata.get("automated") == automated
    assert message.opens_conversation is (automated is None)


def test_postmaster_mail_is_a_bounce():
    (message,) = parse(b"From: postmaster@example.com\r\nSubject: x\r\n\r\nfallo\r\n", account_id=1)
    assert (message.metadata["automated"], message.opens_conversation) == ("bounce", False)


def test_a_file_that_is_not_a_mail_is_refused_with_its_reason():
    with pytest.raises(ParseError, match="not a mail"):
        parse(fixture_bytes("not_a_mail.eml"), account_id=1)
    with pytest.raises(ParseError, match="empty mail"):
        parse(b"\r\n", account_id=1)


def test_mbox_archives_split_into_mails_and_unescape_from_lines():
    # when
    payloads = list(split("archivo.mbox", fixture_bytes("archive.mbox")))
    # then
    assert [name for name, _ in payloads] == ["archivo.mbox[0]", "archivo.mbox[1]", "archivo.mbox[2]"]
    messages = [parse(raw, account_id=1)[0] for _, raw in payloads]
    assert [m.external_id for m in messages] == ["mbox-0@example.com", "mbox-1@example.com", "mbox-2@example.com"]
    assert messages[1].senders[0].display_name == "Jorge Ríos"
    assert messages[1].text == "Una pregunta sobre el envío:\nFrom what I read, tarda 3 días."
    assert messages[2].references == ["mbox-0@example.com"]
    # and a plain .eml is one payload
    assert list(split("x.eml", b"From: a@b.example\r\n\r\nhola")) == [("x.eml", b"From: a@b.example\r\n\r\nhola")]


def test_more_than_one_id_in_in_reply_to_and_junk_around_them():
    raw = (b"From: ana@example.com\r\nMessage-ID: <new@x>\r\n"
           b"In-Reply-To: <a@x> (Ana's message of Mon) <b@x>\r\nReferences: <root@x>\r\n <a@x>\r\n\r\nhola\r\n")
    (message,) = parse(raw, account_id=1)
    assert message.references == ["a@x", "b@x", "root@x"]


def test_a_message_id_longer_than_the_column_is_hashed_the_same_everywhere():
    long_id = "x" * 300 + "@example.com"
    assert normalize_message_id(f"<{long_id}>") == normalize_message_id(f" <{long_id}> ")
    assert normalize_message_id(f"<{long_id}>").startswith("sha256:")
    raw = f"From: ana@example.com\r\nMessage-ID: <{long_id}>\r\n\r\nhola\r\n".encode()
    assert parse(raw, account_id=1)[0].external_id == normalize_message_id(long_id)


# --- the pieces ------------------------------------------------------------------------------


def test_the_reply_token_round_trips_through_the_plus_address():
    # given
    token = reply_token(conversation_id=12, message_id=345, secret="s3cret")
    # when
    reply_to = plus_address(address="Soporte@Tienda.Example", token=token)
    # then
    assert reply_to == f"Soporte+{token}@tienda.example"
    assert reference_from_address(reply_to.upper()) == token_message_id(token=token, address="soporte@tienda.example")
    assert reference_from_address("soporte+c12.m345.0000000000x@tienda.example") is None
    assert reference_from_address("soporte@tienda.example") is None
    assert reply_token(conversation_id=12, message_id=345, secret="other") != token


def test_declared_charsets_that_lie_fall_back():
    assert decode_bytes("año".encode("latin-1"), "utf-8") == "año"
    assert decode_bytes("“año” €".encode("cp1252"), "iso-8859-1") == "“año” €"  # labelled Latin-1, really 1252
    assert decode_bytes("año".encode(), "x-no-such-charset") == "año"
    assert decode_bytes("año".encode(), None) == "año"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Gracias!\n\nOn Mon, 23 Nov 2026 at 10:00, Soporte <s@t.example> wrote:\n> hola", "On Mon"),
        ("Vale.\n\nEl lun, 23 nov 2026 a las 10:00, Soporte (<s@t.example>)\nescribió:\n> hola", "El lun"),
        ("Ok\n\n-----Original Message-----\nFrom: x", "-----Original"),
        ("Ok\n\n-----Mensaje original-----\nDe: x", "-----Mensaje"),
        ("Ok\n\nDe: Soporte\nEnviado: lunes\nPara: yo\n\nhola", "De: Soporte"),
        ("Sí, eso es.\n\n> ¿Es el pedido 12?\n> Gracias", "> ¿Es"),
        ("> ¿Es el pedido 12?\nSí.\n> ¿Y el 13?\nNo.", None),  # answered inline: nothing to fold
        ("> only a quote", None),  # nothing new: show it all
        ("Sin historial.", None),
    ],
)
def test_quoted_start(text, expected):
    start = quoted_start(text)
    assert (text[start:start + len(expected)] if start is not None else None) == expected


def test_html_quote_split_survives_sanitizing_again():
    # given: ingest sanitizes the stored HTML once more with nh3's defaults
    import nh3

    html, start, _ = clean_html_with_quote(
        '<div>Hola</div><div class="gmail_quote"><blockquote class="gmail_quote">antes</blockquote></div>'
    )
    # then: the offset still points at the quote in what gets stored
    assert nh3.clean(html) == html
    assert html[start:] == "<div><blockquote>antes</blockquote></div>"


def test_html_to_text_keeps_lines_lists_and_quotes():
    text = html_to_text("<p>Uno</p><ul><li>dos</li><li>tres</li></ul><blockquote>cuatro<br>cinco</blockquote><p>seis&nbsp;€</p>")
    assert text == "Uno\n\n- dos\n- tres\n\n> cuatro\n> cinco\n\nseis €"


def test_nul_characters_are_dropped_postgresql_refuses_them():
    raw = b"From: ana@example.com\r\nSubject: ho\x00la\r\nMessage-ID: <nul@x>\r\n\r\nuno\x00dos\r\n"
    (message,) = parse(raw, account_id=1)
    assert (message.subject, message.text) == ("hola", "unodos")
