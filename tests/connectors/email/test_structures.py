"""Mail structures recognised (issue 16): S/MIME signed and encrypted mail, calendar invites.

The S/MIME mails are made here with `cryptography`'s real PKCS#7 builders (the same bytes a
mail client produces), with a throwaway certificate.
"""
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from apps.connectors.email.parse import parse

HEADERS = (
    b"From: Laura <laura@cliente.example.es>\r\nTo: soporte@tienda.example\r\n"
    b"Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
)


@pytest.fixture(scope="module")
def certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "laura@cliente.example.es")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert, key


def test_a_signed_mail_shows_its_text_and_the_signature_is_no_attachment(certificate):
    cert, key = certificate
    content = b"Content-Type: text/plain; charset=utf-8\r\n\r\nAdjunto la factura firmada.\r\n"
    signed = (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())
              .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]))
    raw = HEADERS + b"Subject: Factura firmada\r\nMessage-ID: <signed-1@cliente.example.es>\r\n" + signed
    # when
    [message] = parse(raw, account_id=1)
    # then
    assert message.text == "Adjunto la factura firmada."
    assert message.attachments == []
    assert message.metadata["smime"] == {"signed": True}


def test_an_encrypted_mail_says_so_and_keeps_the_envelope(certificate):
    cert, _ = certificate
    content = b"Content-Type: text/plain\r\n\r\nMi DNI es 12345678Z\r\n"
    enveloped = (pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(cert)
                 .encrypt(serialization.Encoding.SMIME, []))
    raw = HEADERS + b"Subject: Datos privados\r\nMessage-ID: <enc-1@cliente.example.es>\r\n" + enveloped
    # when
    [message] = parse(raw, account_id=1)
    # then: nothing readable, said so; the envelope kept for whoever holds the key
    assert message.metadata["smime"] == {"encrypted": True}
    assert "12345678Z" not in message.text
    assert [a.filename for a in message.attachments] == ["smime.p7m"]


def test_a_calendar_invite_becomes_an_event_card():
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nMETHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E008\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=Europe/Madrid:20261210T100000\r\nDTEND;TZID=Europe/Madrid:20261210T103000\r\n"
        "SUMMARY:Revisión del pedido 4471\r\nLOCATION:Tienda de Gran Vía\r\n"
        "ORGANIZER;CN=Laura:mailto:laura@cliente.example.es\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    raw = (HEADERS + b"Subject: Invitacion\r\nMessage-ID: <ics-1@cliente.example.es>\r\n"
           b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
           b"Te propongo una cita.\r\n--B\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + ics + b"--B--\r\n")
    # when
    [message] = parse(raw, account_id=1)
    # then
    invite = message.metadata["invite"]
    assert (invite["summary"], invite["location"], invite["organizer"], invite["method"]) == (
        "Revisión del pedido 4471", "Tienda de Gran Vía", "laura@cliente.example.es", "REQUEST")
    assert invite["start"] == "2026-12-10T10:00:00+01:00" and invite["end"] == "2026-12-10T10:30:00+01:00"
    assert [a.filename for a in message.attachments] == ["invite-2.ics"]
