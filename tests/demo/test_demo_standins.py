"""The demo's stand-ins answer on email, X and Messenger (issue 15), below the browser.

The seeded demo, the simulator's stand-ins (SMTP, Graph API, X API on loopback, started as
`simulate_traffic --standins` starts them) and the live desk: an agent's message is delivered to
the stand-in, the simulated customer answers (a mail through the email import path, signed
webhooks for X and Messenger) and the answer threads back into the same conversation — for a
reply on a seeded conversation and for a conversation the desk starts.
"""
import io
import json
import random
import threading
import time
from datetime import datetime, timedelta, timezone

import facebook
import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.connectors.drain import inbound_drain
from apps.connectors.models import ChannelAccount
from apps.connectors.push.send import signature
from apps.connectors.twitter import client
from apps.crm.models import Identity
from apps.demo.apps import MAIL_SECRET_ENV
from apps.demo.builder import OUR_TWITTER_ID, TrafficGenerator
from apps.demo.management.commands import demo_seed, simulate_traffic
from apps.demo.standins.x import LoopbackAdapter
from apps.inbox.models import Conversation, Message
from apps.inbox.services.outbound import conversation_start
from apps.inbox.services.replies import message_deliver, reply_create
from tests.loopback import three_free_ports

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def demo(live_server, tmp_path, monkeypatch):
    monkeypatch.setattr(demo_seed, "TOKEN_FILE", tmp_path / "demo-api.json")
    base = three_free_ports()
    call_command("demo_seed", quiet=True, base_url=live_server.url, standins_port=base)
    saved = demo_seed.demo_api_credentials()
    # the simulator's customer side, as `simulate_traffic --standins` sets it up (answering at once)
    simulator = simulate_traffic.Command(stdout=io.StringIO(), stderr=io.StringIO())
    simulator.base_url, simulator.facebook = live_server.url, saved["facebook"]
    simulator.rng = random.Random(15)
    simulator.generator, simulator.lock, simulator.answer_delay = TrafficGenerator(simulator.rng), threading.Lock(), (0, 0)
    servers = simulator._start_standins(saved)
    # the desk sends to them, as run_desk's environment makes apps/demo/apps.py do
    ports = saved["standins"]
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", f"http://127.0.0.1:{ports['graph_port']}/")
    x_url = f"http://127.0.0.1:{ports['x_port']}"
    monkeypatch.setenv(MAIL_SECRET_ENV, ports["mail_secret"])  # the mail drop opens for the simulator
    monkeypatch.setattr(client, "SESSION_HOOKS", [*client.SESSION_HOOKS, lambda s: s.mount(client.API_HOST, LoopbackAdapter(x_url))])
    yield simulator
    for server in servers:
        server.stop()


def drained(find, seconds: float = 30):
    """What find() returns once the stand-in's timer posted the customer's answer and the staged
    payload is drained (a bound on waiting for another thread, not a speed check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        inbound_drain()
        found = find()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing arrived after {seconds} s")


def answered(conversation: Conversation, before: int) -> Message:
    """The customer's latest message in the conversation, once there are more than `before`."""
    answers = conversation.messages.filter(direction="in").order_by("-sent_at", "-id")
    return drained(lambda: answers.first() if answers.count() > before else None)


def deliver(message: Message) -> Message:
    delivered = message_deliver(message_id=message.id)
    assert delivered.delivery_status == "sent", delivered.delivery_error
    return delivered


def test_a_dm_reply_on_a_seeded_x_conversation_is_answered_in_it(demo):
    supervisor = User.objects.get(username="supervisor")
    conversation = Conversation.objects.filter(channel_account__kind="twitter", thread_key__startswith="dm:").first()
    before = conversation.messages.filter(direction="in").count()
    conversations = Conversation.objects.count()
    # when: the supervisor answers the seeded DM conversation
    deliver(reply_create(conversation=conversation, author=supervisor, text="Hola, ¿nos pasas el número de pedido?"))
    # then: the simulated customer answers by DM, into the same conversation, from the same customer
    answer = answered(conversation, before)
    assert answer.customer_id == conversation.customer_id
    assert Conversation.objects.count() == conversations


def test_a_conversation_started_by_x_dm_is_answered_in_it(demo):
    supervisor = User.objects.get(username="supervisor")
    x = ChannelAccount.objects.get(kind="twitter")
    # given: a customer who only ever tweeted at the account (no DM conversation yet)
    handle = next(i for i in Identity.objects.filter(kind="twitter").select_related("customer")
                  if not Conversation.objects.filter(customer=i.customer, thread_key__startswith="dm:").exists())
    # when: the supervisor writes first by DM
    first = deliver(conversation_start(author=supervisor, customer=handle.customer, identity=handle, account=x,
                                       text="Hola, te escribimos por privado por lo de tu tuit."))
    # then: the answer threads into the conversation the desk started
    answer = answered(first.conversation, 0)
    assert (answer.customer_id, answer.conversation_id) == (handle.customer_id, first.conversation_id)
    assert Conversation.objects.filter(customer=handle.customer, channel_account=x, thread_key__startswith="dm:").count() == 1


def test_a_conversation_started_by_email_is_answered_through_the_demo_mail_drop(demo):
    supervisor = User.objects.get(username="supervisor")
    mail = ChannelAccount.objects.get(kind="email")
    address = Identity.objects.filter(kind="email").select_related("customer").first()
    # when: the supervisor writes first to the customer's address
    first = deliver(conversation_start(author=supervisor, customer=address.customer, identity=address, account=mail,
                                       subject="Su pedido", text="Hola, le escribimos por su pedido."))
    # then: the SMTP stand-in took it and the customer's mail answer, POSTed to the desk's mail drop
    # (the email parser, then ingest), threads back into it
    answer = answered(first.conversation, 0)
    assert (answer.customer_id, answer.conversation_id) == (address.customer_id, first.conversation_id)
    assert answer.channel_account_id == mail.id and "@" in answer.external_id  # the mail's Message-ID, as parsed


def test_the_mail_drop_takes_only_the_simulators_signed_mail_and_only_in_the_demo(client, monkeypatch, make_account):
    mail = make_account(kind="email", settings={"address": "support@aurorahome.example"})
    raw = b"From: Ana <ana@example.com>\r\nTo: support@aurorahome.example\r\nSubject: Hola\r\nMessage-ID: <a1@example.com>\r\n\r\nHola\r\n"
    signed = {"HTTP_X_CENTRALITA_SIGNATURE": "sha256=" + signature("s3cret", raw)}

    def drop(**headers):
        return client.post(f"/demo/mail/{mail.id}/", data=raw, content_type="message/rfc822", **headers).status_code

    # outside the demo's processes: nobody, signed or not
    monkeypatch.delenv(MAIL_SECRET_ENV, raising=False)
    assert (drop(), drop(**signed)) == (404, 404)
    # in the demo: the simulator's signature only
    monkeypatch.setenv(MAIL_SECRET_ENV, "s3cret")
    assert drop(HTTP_X_CENTRALITA_SIGNATURE="sha256=" + signature("guess", raw)) == 401
    assert not Message.objects.exists()
    assert drop(**signed) == 200
    assert Message.objects.get().external_id == "a1@example.com"


def test_a_messenger_message_started_from_the_desk_is_answered_in_the_persons_conversation(demo):
    supervisor = User.objects.get(username="supervisor")
    page = ChannelAccount.objects.get(kind="facebook")
    psid = Identity.objects.filter(kind="facebook").select_related("customer").first()
    # given: the person writes to the Page now (the 24-hour window opens)
    now = datetime.now(timezone.utc)
    assert demo._post_facebook("a Messenger message", demo.generator.messenger_answer(now, demo.facebook["page_id"], psid.value, "Hola")[1])
    conversation = drained(lambda: Conversation.objects.filter(channel_account=page, thread_key=f"psid:{psid.value}",
                                                               last_inbound_at__gte=now - timedelta(minutes=1)).first())
    before = conversation.messages.filter(direction="in").count()
    # when: an agent writes to her from the desk
    first = deliver(conversation_start(author=supervisor, customer=psid.customer, identity=psid, account=page,
                                       text="Hola, ¿le llegó el pedido?"))
    # then: into the one conversation with that person, and her answer too
    assert first.conversation_id == conversation.id
    assert answered(conversation, before).customer_id == psid.customer_id


def test_a_demo_seeded_before_gets_xs_dm_thread_keys_on_the_next_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_seed, "TOKEN_FILE", tmp_path / "demo-api.json")
    call_command("demo_seed", quiet=True)
    dm = Conversation.objects.filter(channel_account__kind="twitter", thread_key__startswith="dm:").first()
    ours, theirs = sorted(dm.thread_key.removeprefix("dm:").split("-"), key=lambda i: i != OUR_TWITTER_ID)
    Conversation.objects.filter(pk=dm.pk).update(thread_key=f"dm:{ours}-{theirs}")  # as seeds before this one wrote it
    # when
    call_command("demo_seed", quiet=True)
    # then: X's key, lower id first, as its webhook threads the customer's answer
    assert Conversation.objects.get(pk=dm.pk).thread_key == f"dm:{theirs}-{ours}"
