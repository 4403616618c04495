"""A survey is sent once per resolution on each kind of channel, through the channel's real sender
(loopback servers speaking the provider's protocol), and never in public or to a machine."""
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.facebook.parse import parse as fb_parse
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.email import services as email_services
from apps.connectors.twitter import services as twitter_services
from apps.crm.models import Identity
from apps.csat.models import Survey
from apps.csat.tasks import csat_survey_for_resolution
from apps.inbox.models import Conversation, Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.inbound import InboundMessage, SenderIdentity
from tests.builders import conversations
from tests.connectors.email.conftest import DESK_ADDRESS
from tests.connectors.facebook.conftest import PAGE_ID, fixture_bytes as fb_fixture, messenger_event, webhook_body
from tests.connectors.email.test_send import FIRST_MAIL, captured
from tests.connectors.twitter.x_server import OWN_ID
from tests.inbox.test_replies import SECRET

LINK = re.compile(r"https://desk\.example\.com/csat/([\w-]{43})/")


def _agent(make_user, account):
    return make_user(role=Role.AGENT, teams=[account.team] if account.team_id else [])


# --- the push (API) channel: the customer's system receives the survey like any reply ---------------


@pytest.mark.django_db(transaction=True)
def test_push_channel_gets_one_signed_survey_per_resolution(make_account, inbound, receiver, make_user, resolve):
    account = make_account(settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET})
    (conversation,) = conversations(inbound, account, 1, thread_key="order-91", text="Hola, mi pedido no ha llegado")
    agent = make_user()
    # when: the agent resolves it; the event is then heard twice (a redelivered task)
    resolve(conversation, agent)
    csat_survey_for_resolution.delay(conversation.id)
    # then: one survey, one POST to the customer's system, with the link, in Spanish
    survey = Survey.objects.get()
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert LINK.search(json.dumps(body, ensure_ascii=False)).group(1) == survey.token
    assert "Gracias por contactar" in json.dumps(body, ensure_ascii=False)
    message = Message.objects.get(pk=survey.message_id)
    assert (survey.status, survey.language, message.author_id, message.is_public, message.delivery_status) == (
        "sent", "es", None, False, "sent")
    assert message.conversation_id == conversation.id
    conversation.refresh_from_db()
    assert conversation.status == "resolved"  # asking does not reopen it


# --- email: a reply in the customer's own mail thread, over SMTP --------------------------------


@pytest.fixture
def mail_desk(email_account, smtp_settings):
    ChannelAccount.objects.filter(pk=email_account.pk).update(
        settings={**email_account.settings, **smtp_settings},
        secrets={**email_account.secrets, "smtp_username": "smtp-user", "smtp_password": "smtp-clave"},
        csat_enabled=True,  # so that a carrier's own resolution is asked nothing for another reason
    )
    email_account.refresh_from_db()
    return email_account


@pytest.mark.django_db(transaction=True)
def test_email_survey_is_a_threaded_mail_and_reopening_resolving_again_asks_no_more(
    mail_desk, customer_box, smtp_server, make_user, resolve
):
    customer_box.deliver(FIRST_MAIL)
    email_services.email_account_poll(account_id=mail_desk.id)
    conversation = Conversation.objects.get()
    agent = make_user()
    resolve(conversation, agent)
    mail = captured(smtp_server)
    assert (smtp_server.received[0]["mail_from"], smtp_server.received[0]["rcpt_tos"]) == (DESK_ADDRESS, ["lucia@example.com"])
    assert mail["In-Reply-To"] == "<pedido-5512@example.com>"
    survey = Survey.objects.get()
    assert survey.token in mail.get_body(("plain",)).get_content()
    # when: it is reopened and resolved again the same week
    from apps.inbox.services.conversations import conversation_update

    conversation_update(conversation=conversation, actor=agent, status=Conversation.Status.OPEN)
    resolve(conversation, agent)
    # then: a second survey row, skipped (asked recently); still one mail
    assert len(smtp_server.received) == 1
    second = Survey.objects.exclude(pk=survey.pk).get()
    assert (second.status, second.skip_reason, second.token) == ("skipped", "recent", None)


AUTO_REPLY = (
    "From: Lucía <lucia@example.com>\r\nTo: Soporte Tienda <soporte@tienda.example>\r\n"
    "Subject: Fuera de la oficina\r\nDate: Mon, 23 Nov 2026 11:00:00 +0100\r\nMessage-ID: <auto-1@example.com>\r\n"
    "In-Reply-To: <pedido-5512@example.com>\r\nAuto-Submitted: auto-replied\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nEstoy fuera hasta el lunes.\r\n"
).encode()

NOREPLY_MAIL = (
    "From: Tienda Online <no-reply@shop.example>\r\nTo: Soporte Tienda <soporte@tienda.example>\r\n"
    "Subject: Order 88 shipped\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nMessage-ID: <order-88@shop.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nYour order 88 has shipped.\r\n"
).encode()


@pytest.mark.django_db(transaction=True)
def test_never_to_an_auto_reply_or_a_no_reply_address(mail_desk, customer_box, smtp_server, make_user, resolve):
    customer_box.deliver(FIRST_MAIL)
    customer_box.deliver(AUTO_REPLY)
    customer_box.deliver(NOREPLY_MAIL)
    email_services.email_account_poll(account_id=mail_desk.id)
    lucia = Conversation.objects.get(messages__external_id__contains="pedido-5512")
    assert lucia.messages.filter(metadata__automated="auto-reply").exists()  # the auto-reply threaded into it
    shop = Conversation.objects.get(messages__sender_identity__value="no-reply@shop.example")
    agent = make_user()
    resolve(lucia, agent)
    resolve(shop, agent)
    assert smtp_server.received == []
    reasons = dict(Survey.objects.values_list("conversation_id", "skip_reason"))
    assert reasons == {lucia.id: "automated", shop.id: "no_reply"}


# --- Facebook: Messenger within its windows; never under a public comment ---------------------------

PSID = "7481023395512345"


def _messenger(account, *, hours_ago):
    at_ms = int((timezone.now() - timedelta(hours=hours_ago)).timestamp() * 1000)
    messages_ingest(messages=fb_parse(webhook_body(messenger_event(PSID, f"m_in_{hours_ago}", "Hello, where is my order?", at_ms=at_ms)),
                                      account_id=account.id))
    return Conversation.objects.get(channel_account=account, thread_key=f"psid:{PSID}")


@pytest.mark.django_db(transaction=True)
def test_messenger_inside_the_window_gets_the_link_in_english(fb_account, graph, make_user, resolve):
    conversation = _messenger(fb_account, hours_ago=2)
    resolve(conversation, _agent(make_user, fb_account))
    [call] = graph.posts("/me/messages")
    sent = json.loads(call["form"]["message"])["text"]
    survey = Survey.objects.get()
    assert (json.loads(call["form"]["recipient"]), call["form"]["messaging_type"]) == ({"id": PSID}, "RESPONSE")
    assert survey.token in sent and sent.startswith("Thank you for contacting us.")
    assert (survey.status, survey.language, survey.channel_kind) == ("sent", "en", "facebook")


@pytest.mark.django_db(transaction=True)
def test_messenger_after_seven_days_is_skipped_with_the_reason(fb_account, graph, make_user, resolve):
    conversation = _messenger(fb_account, hours_ago=24 * 8)
    resolve(conversation, _agent(make_user, fb_account))
    assert graph.posts("/me/messages") == []
    survey = Survey.objects.get()
    assert (survey.status, survey.skip_reason) == ("skipped", "channel")
    assert "7-day" in survey.skip_detail


@pytest.mark.django_db(transaction=True)
def test_never_under_a_public_facebook_comment(fb_account, graph, make_user, resolve):
    messages_ingest(messages=fb_parse(fb_fixture("comment_add.json"), account_id=fb_account.id))
    conversation = Conversation.objects.get(channel_account=fb_account, thread_key__startswith="post:")
    resolve(conversation, _agent(make_user, fb_account))
    assert graph.posts("/comments") == [] and graph.posts("/me/messages") == []
    assert Survey.objects.get().skip_reason == "public"


# --- X: a DM yes, a public tweet thread never -------------------------------------------------------

LUCIA = "1500000000000000777"
THREAD = "1861000000000000101"


@pytest.mark.django_db(transaction=True)
def test_x_direct_message_yes_public_tweet_thread_never(x_api, x_account, make_user, resolve):
    x_api.user(LUCIA, "Lucía Romero", "lucia_romero")
    x_api.mention(THREAD, LUCIA, "@TiendaSoporte mi pedido no ha llegado", created_at="2026-11-23T10:00:00.000Z")
    x_api.dm("1861000000000000520", LUCIA, "Os escribo por privado, mi pedido no ha llegado")
    twitter_services.twitter_account_poll(account_id=x_account.id)
    thread = Conversation.objects.get(thread_key=f"tweet:{THREAD}")
    dm = Conversation.objects.get(thread_key=f"dm:{OWN_ID}-{LUCIA}")
    agent = _agent(make_user, x_account)
    resolve(thread, agent)
    assert x_api.calls_to("POST", "/2/tweets") == []
    assert Survey.objects.get(conversation=thread).skip_reason == "public"
    # the tweet thread's survey was not sent, so the DM's is not "recent"
    resolve(dm, agent)
    [post] = x_api.calls_to("POST", "/2/dm_conversations")
    survey = Survey.objects.get(conversation=dm)
    assert survey.status == "sent" and survey.token in json.dumps(post["json"])
    assert x_api.calls_to("POST", "/2/tweets") == []


# --- phone and web form: by email when the customer has an address, else skipped ---------------------


@pytest.mark.django_db(transaction=True)
def test_a_phone_call_is_surveyed_by_email_or_skipped_without_an_address(mail_desk, smtp_server, make_account, make_user, resolve):
    phone = make_account(kind=ChannelKind.PHONE, name="Centralita")
    ingest = messages_ingest(messages=[
        InboundMessage(account_id=phone.id, external_id="CA-1", sent_at=timezone.now(), text="Llamada: pedido retrasado",
                       senders=[SenderIdentity("phone", "+34600111222", display_name="Marta")]),
        InboundMessage(account_id=phone.id, external_id="CA-2", sent_at=timezone.now(), text="Llamada: factura",
                       senders=[SenderIdentity("phone", "+34600333444", display_name="Pablo")]),
    ])
    marta_call, pablo_call = (Conversation.objects.get(messages__id=i) for i in ingest.message_ids)
    Identity.objects.create(customer=marta_call.customer, kind="email", value="marta@example.com")
    agent = make_user()
    resolve(marta_call, agent)
    resolve(pablo_call, agent)
    # Marta: one mail from the email account, in a new conversation resolved at once (the carrier)
    [envelope] = smtp_server.received
    assert envelope["rcpt_tos"] == ["marta@example.com"]
    marta = Survey.objects.get(conversation=marta_call)
    assert marta.status == "sent" and marta.token in captured(smtp_server).get_body(("plain",)).get_content()
    carrier = Conversation.objects.get(pk=marta.carrier_id)
    assert (carrier.channel_account_id, carrier.status, carrier.customer_id) == (mail_desk.id, "resolved", marta_call.customer_id)
    assert not Survey.objects.filter(conversation=carrier).exists()  # the carrier's own resolution asks nothing
    # Pablo: no address, no survey, and the reason is kept
    pablo = Survey.objects.get(conversation=pablo_call)
    assert (pablo.status, pablo.skip_reason) == ("skipped", "no_address")
