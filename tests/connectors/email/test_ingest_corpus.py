"""The corpus through `manage.py ingest email` and messages_ingest: what the desk ends up showing."""
from io import StringIO

import pytest
from django.core.management import call_command

from apps.connectors.email.parse import parse, split
from apps.connectors.models import ChannelKind, DeadLetter
from apps.crm.models import Identity
from apps.inbox.models import Attachment, Conversation, ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.inbound import InboundMessage, SenderIdentity

from .conftest import FIXTURES, fixture_bytes

pytestmark = pytest.mark.django_db

MAILS_IN_CORPUS = 13 + 5 + 3  # .eml files that are mail (5 of them Outlook TNEF, see tnef/), plus the three of archive.mbox


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def mail_account(make_account):
    return make_account(kind=ChannelKind.EMAIL, name="Buzón soporte", settings={"address": "soporte@tienda.example"})


def ingest(*paths) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", "email", *map(str, paths), "--account", "Buzón soporte", "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue().strip(), err.getvalue().strip()


def by_external_id(external_id: str) -> Message:
    return Message.objects.select_related("conversation", "sender_identity").get(external_id=external_id)


def test_the_corpus_ingests_with_one_outcome_per_mail_and_a_dead_letter_for_the_rest(mail_account):
    # when: the whole fixtures directory (.eml files, an mbox archive, a file that is no mail)
    code, out, err = ingest(FIXTURES)
    # then
    assert (code, out) == (1, f"ingested {MAILS_IN_CORPUS} · duplicates 0 · failed 1")
    assert "not_a_mail.eml: not a mail" in err
    dead = DeadLetter.objects.get()
    assert (dead.kind, dead.source, dead.channel_account_id) == ("email", "import", mail_account.id)
    assert bytes(dead.raw) == fixture_bytes("not_a_mail.eml")

    # people's mail opens conversations, readable
    jose = by_external_id("5f0c2a1e-77aa-4b1e-9c1d-2b9a4e1f0001@correo.example.es")
    assert jose.conversation.status == Conversation.Status.OPEN
    assert jose.conversation.subject == "Cafetera rota (pedido nº 4471)"
    assert "la cafetera está rota" in jose.text
    assert jose.sender_identity.value == "jose.perez@correo.example.es"
    assert jose.customer.display_name == "José Pérez Muñoz"
    assert by_external_id("webmail.8890.1700000000@example.org").customer.display_name == "Iñaki Martínez"

    # machine mail is kept, in a conversation that never opened (no SLA clock)
    for external_id in ("20261123090005.4C2A81234@mail.tienda.example", "newsletter-2026-11@lists.example.org"):
        message = by_external_id(external_id)
        assert (message.conversation.status, message.conversation.waiting_since) == (Conversation.Status.RESOLVED, None)
        assert message.conversation.message_count == 1
        assert message.metadata["automated"] in ("bounce", "list")
    # an out-of-office joins its sender's open conversation and changes nothing in it
    marta = by_external_id("AM0PR07MB44190A1B2C3D4E5F6A7B8C9DA0B1@AM0PR07MB4419.eurprd07.prod.outlook.example")
    out_of_office = by_external_id("ooo-4411@empresa.example")
    assert out_of_office.conversation_id == marta.conversation_id
    assert out_of_office.conversation.waiting_since == marta.sent_at

    # the mail with no usable sender is kept and flagged
    (anonymous,) = Message.objects.filter(external_id__startswith="sha256:")
    assert anonymous.metadata["unknown_sender"] is True
    assert anonymous.sender_identity is None
    assert anonymous.text == "No me ha llegado el pedido, mi correo es el de siempre."

    # sanitized HTML is what is stored; attachments are files in storage
    carmen = by_external_id("html-only-2211@example.com")
    assert "<script" not in carmen.html and "track.example.net" not in carmen.html
    assert carmen.metadata["remote_images_blocked"] == 2
    files = {a.filename: a for a in Attachment.objects.filter(message__external_id="att-inline-0001@example.com")}
    assert set(files) == {"golpe.png", "factura nº 771.pdf"}
    assert files["golpe.png"].content_id == "foto-golpe@example.com"
    assert files["factura nº 771.pdf"].file.read().startswith(b"%PDF-1.4")
    assert files["factura nº 771.pdf"].size == 125

    # the mbox reply threads into its first mail
    assert by_external_id("mbox-2@example.com").conversation_id == by_external_id("mbox-0@example.com").conversation_id

    # Outlook's winmail.dat is stored as the files inside it, and its text when the mail has no other
    def stored(external_id):
        return {a.filename: a for a in Attachment.objects.filter(message__external_id=external_id)}

    assert set(stored("tnef-two-files@empresa.example")) == {"AUTHORS", "README"}
    assert stored("tnef-two-files@empresa.example")["README"].size == 893
    umlaut = by_external_id("tnef-rtf-only@tbz.example")
    assert umlaut.text.startswith("TEST äöü +-*/~")
    assert umlaut.conversation.status == Conversation.Status.OPEN
    assert set(stored("tnef-rtf-only@tbz.example")) == {"TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"}
    whole = by_external_id("tnef-whole-mail@oficina.example")
    assert (whole.text, "<style" in whole.html) == ("hello world", False)
    # one that cannot be read is still ingested, with the winmail.dat as it came
    cut_off = by_external_id("tnef-cut-off@empresa.example")
    assert cut_off.text == "Os envío el presupuesto."
    assert [(a.filename, a.size) for a in Attachment.objects.filter(message=cut_off)] == [("winmail.dat", 20)]


def test_importing_again_adds_nothing_even_without_message_ids(mail_account):
    # given
    ingest(FIXTURES)
    counts = (Message.objects.count(), Conversation.objects.count(), Attachment.objects.count())
    # when
    code, out, _ = ingest(FIXTURES)
    # then
    assert out == f"ingested 0 · duplicates {MAILS_IN_CORPUS} · failed 1"
    assert (Message.objects.count(), Conversation.objects.count(), Attachment.objects.count()) == counts


def test_a_customer_known_from_another_channel_is_the_same_customer(mail_account, make_account):
    # given: Lucía wrote through the web form first (API channel) with the same address
    web = make_account(kind=ChannelKind.PUSH)
    messages_ingest(messages=[InboundMessage(
        account_id=web.id, external_id="form-1", text="Formulario",
        senders=[SenderIdentity("email", "Lucia.Fernandez@GMAIL.example", display_name="Lucía F.")],
        sent_at=parse(fixture_bytes("latin1_qp.eml"), account_id=1)[0].sent_at,
    )])
    # when her mail arrives
    messages_ingest(messages=parse(fixture_bytes("utf8_base64.eml"), account_id=mail_account.id))
    # then: one customer, one email identity, both messages in her history
    identity = Identity.objects.get(kind="email")
    assert identity.value == "lucia.fernandez@gmail.example"
    assert set(Message.objects.values_list("customer_id", flat=True)) == {identity.customer_id}


def test_a_reply_to_a_resolved_conversation_reopens_it(mail_account):
    # given: Elena's first mail, and the conversation resolved
    payloads = [raw for _, raw in split("archive.mbox", fixture_bytes("archive.mbox"))]
    messages_ingest(messages=parse(payloads[0], account_id=mail_account.id))
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    # when her answer (In-Reply-To the first) arrives
    messages_ingest(messages=parse(payloads[2], account_id=mail_account.id))
    # then
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.message_count == 2
    assert ConversationEvent.objects.filter(conversation=conversation, kind=ConversationEvent.Kind.REOPENED).count() == 1


def test_an_auto_reply_never_reopens_a_resolved_conversation(mail_account):
    # given: the conversation the out-of-office answers (it references our reply c3.m6…), resolved
    first = parse(fixture_bytes("windows1252.eml"), account_id=mail_account.id)[0]
    first.external_id = "c3.m6.0b1c2d3e4f@tienda.example"  # stands for our sent reply
    messages_ingest(messages=[first])
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    # when
    messages_ingest(messages=parse(fixture_bytes("auto_reply.eml"), account_id=mail_account.id))
    # then: kept in that conversation, which stays resolved
    conversation.refresh_from_db()
    assert (conversation.status, conversation.message_count) == (Conversation.Status.RESOLVED, 2)
    assert not ConversationEvent.objects.filter(kind=ConversationEvent.Kind.REOPENED).exists()
