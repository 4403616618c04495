"""TNEF (Outlook's winmail.dat): unpacked into its real files and text (issue 16).

The winmail.dat files are tnefparse's own test samples (tnef/README.md), wrapped in mails by
tnef/wrap.py into fixtures/tnef_*.eml; test_ingest_corpus.py replays them with the rest.
"""
import email
import hashlib
import struct
from email import policy
from pathlib import Path

import pytest

from apps.connectors.email.parse import parse

from .conftest import FIXTURES, fixture_bytes
from .tnef import wrap

TNEF = Path(__file__).parent / "tnef"


def parsed(name: str):
    [message] = parse(fixture_bytes(name), account_id=1)
    return message


def files(message) -> dict:
    return {a.filename: a for a in message.attachments}


def test_the_attachments_inside_replace_the_winmail_dat_and_the_mail_keeps_its_own_text():
    message = parsed("tnef_two_files.eml")
    assert message.text == "Adjunto los dos ficheros que me pedisteis.\nSaludos,\nPilar"
    assert set(files(message)) == {"AUTHORS", "README"}
    authors, readme = files(message)["AUTHORS"], files(message)["README"]
    assert authors.content.strip().startswith(b"Authors of tnef")
    assert (len(authors.content), len(readme.content)) == (244, 893)
    assert readme.content.strip().startswith(b"TNEF")
    assert authors.content_type == "application/octet-stream"
    assert message.metadata["tnef"] == {"files": ["AUTHORS", "README"], "body": ""}


def test_a_mail_that_is_only_a_winmail_dat_gets_its_rtf_text_and_its_files_with_their_types():
    message = parsed("tnef_rtf_only.eml")
    # the body is RTF wrapping HTML (\fromhtml1), compressed: its text, umlauts and all
    assert message.text.startswith("TEST äöü +-*/~")
    assert message.html == ""
    by_name = files(message)
    assert set(by_name) == {"TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"}
    assert by_name["TBZ PARIV GmbH.jpg"].content_type == "image/jpeg"
    assert by_name["TBZ PARIV GmbH.jpg"].content.startswith(b"\xff\xd8\xff")  # a real JPEG
    assert by_name["image003.jpg"].content_id == "image003.jpg@01D2EE6A.85652C70"  # inline, as Outlook sent it
    assert by_name["UmlautAnhang-äüö.txt"].content_type == "text/plain"
    assert len(by_name["UmlautAnhang-äüö.txt"].content) == 14
    assert message.metadata["tnef"]["body"] == "rtf"


def test_a_whole_mail_in_tnef_gives_its_plain_text_and_its_html_sanitized():
    message = parsed("tnef_whole_mail.eml")
    assert message.text == "hello world"
    assert "hello world" in message.html
    # Outlook's <style> and <head> do not survive sanitizing, as in any other mail's HTML
    assert "<style" not in message.html and "<head" not in message.html and "ms-cui-menu" not in message.html
    [attachment] = message.attachments
    assert (attachment.filename, len(attachment.content)) == ("example.dat", 1024)
    assert message.metadata["tnef"]["body"] == "plain"


def test_tnef_sent_as_an_octet_stream_under_another_name_is_found_by_its_signature():
    message = parsed("tnef_octet_stream.eml")
    assert message.text.startswith("I've attached a temp. license for QARun 4.7.")
    # the quoted history in the RTF text is found as in any plain text
    assert message.text[message.metadata["quoted_start"]:].startswith("-----Original Message-----")
    [attachment] = message.attachments
    assert attachment.filename == "allproductsmar2000.dat"
    assert len(attachment.content) == 279


def test_a_winmail_dat_that_cannot_be_read_stays_an_ordinary_attachment():
    message = parsed("tnef_cut_off.eml")
    assert message.text == "Os envío el presupuesto."
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == ("winmail.dat", "application/ms-tnef")
    assert attachment.content == (TNEF / "two-files.tnef").read_bytes()[:wrap.CUT_AFTER]
    [reason] = message.metadata["tnef_unreadable"]
    assert reason.startswith("winmail.dat: cannot read TNEF")
    assert "tnef" not in message.metadata


def test_a_file_named_winmail_dat_that_is_no_tnef_is_kept_as_it_is():
    mail = email.message_from_bytes(fixture_bytes("tnef_two_files.eml"), policy=policy.default)
    tnef_part = next(p for p in mail.walk() if p.get_content_type() == "application/ms-tnef")
    tnef_part.set_content(b"PK\x03\x04 not TNEF at all", maintype="application", subtype="ms-tnef",
                          disposition="attachment", filename="winmail.dat")
    [message] = parse(mail.as_bytes(), account_id=1)
    [attachment] = message.attachments
    assert attachment.content == b"PK\x03\x04 not TNEF at all"
    assert message.metadata["tnef_unreadable"] == ["winmail.dat: not TNEF: no TNEF signature at the start"]


def test_a_winmail_dat_crafted_to_stall_the_decoder_is_kept_undecoded():
    # given: a TNEF file of 300,000 tiny objects (tnefparse's work grows with objects x size)
    tiny = bytes([1]) + struct.pack("<HHI", 0x9999, 0, 2) + b"ab" + b"\0\0"
    crafted = (TNEF / "two-files.tnef").read_bytes()[:6] + tiny * 300_000
    mail = email.message_from_bytes(fixture_bytes("tnef_two_files.eml"), policy=policy.default)
    tnef_part = next(p for p in mail.walk() if p.get_content_type() == "application/ms-tnef")
    tnef_part.set_content(crafted, maintype="application", subtype="ms-tnef", disposition="attachment",
                          filename="winmail.dat")
    # when
    [message] = parse(mail.as_bytes(), account_id=1)
    # then: the mail is read, the file kept as it came, and why it was not unpacked is said
    assert message.text == "Adjunto los dos ficheros que me pedisteis.\nSaludos,\nPilar"
    [attachment] = message.attachments
    assert attachment.content == crafted
    [reason] = message.metadata["tnef_unreadable"]
    assert "is more than a mail program writes" in reason


@pytest.mark.parametrize("name", sorted(wrap.mails()))
def test_the_fixture_mails_are_what_wrap_py_writes_around_the_upstream_files(name):
    assert fixture_bytes(name) == wrap.mails()[name].replace("\n", "\r\n").encode()


def test_the_upstream_samples_are_unchanged():
    listed = {}
    for line in (TNEF / "README.md").read_text().splitlines():
        cells = [c.strip(" `") for c in line.split("|")]
        if len(cells) > 3 and cells[1].endswith(".tnef"):
            listed[cells[1]] = cells[2]
    assert set(listed) == {p.name for p in TNEF.glob("*.tnef")} and len(listed) == 4
    for name, sha256 in listed.items():
        assert hashlib.sha256((TNEF / name).read_bytes()).hexdigest() == sha256
    assert sorted(p.name for p in FIXTURES.glob("tnef_*.eml")) == sorted(wrap.mails())
