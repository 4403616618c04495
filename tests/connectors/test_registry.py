"""One declaration per channel: every registered channel has all its parts, and a new channel
registered here (no other file touched) works end to end."""
import json
from datetime import datetime, timezone

import pytest
from django.urls import reverse, resolve

from apps.connectors import registry
from apps.connectors.channel import Channel, Field, PayloadKind
from apps.connectors.drain import inbound_drain
from apps.connectors.models import ChannelKind
from apps.connectors.services import payload_stage
from apps.core.errors import ApplicationError
from apps.inbox.channels import ComposerRules, composer_rules
from apps.inbox.inbound import InboundMessage, ParseError, SenderIdentity
from apps.inbox.models import Message
from apps.inbox.services.replies import message_deliver, reply_create
from config.celery import app as celery_app


def test_every_channel_kind_is_registered_and_nothing_else():
    assert set(registry.CHANNELS) == set(ChannelKind.values)


@pytest.mark.parametrize("kind", ChannelKind.values)
def test_every_channel_declares_all_its_parts(kind):
    channel = registry.channel_for(kind)
    # parse (and split) for each payload kind, reachable by name
    assert channel.payloads
    for payload in channel.payloads:
        assert registry.parser_for(payload.name) is payload.parse and callable(payload.split)
    # a sender, or why there is none
    assert callable(channel.send) or channel.no_outbound
    # composer rules: its own, or the defaults
    assert channel.composer is None or callable(channel.composer)
    # the admin's form: settings and secrets, each named once, the required ones marked
    names = [f.name for f in (*channel.settings, *channel.secrets)]
    assert all(isinstance(f, Field) and f.label for f in (*channel.settings, *channel.secrets))
    assert len(names) == len(set(names))
    assert channel.probe is None or callable(channel.probe)
    # its webhook URLs resolve, and its beat entries name real tasks
    for prefix, module in channel.webhooks:
        assert module.urlpatterns
        assert resolve(f"/{prefix}{_example(module.urlpatterns[0].pattern)}").url_name == module.urlpatterns[0].name
    celery_app.finalize()
    for beat in channel.beat:
        assert registry.beat_schedule()[beat.name]["task"] in celery_app.tasks


def test_the_channels_that_receive_from_providers_declare_their_secrets_and_a_probe():
    for kind in ("email", "twitter", "facebook", "phone", "api"):
        channel = registry.channel_for(kind)
        # what an account needs before it can work: required secrets, or the channel's own rule
        assert (any(f.required for f in channel.secrets) or channel.missing is not None) and channel.probe is not None
        # without secrets it is not configured
        assert channel.missing is None or channel.missing({"outbound_url": "https://x.example"}, {}) != []


def test_every_declared_webhook_url_name_takes_the_account_id():
    for channel in registry.CHANNELS.values():
        for _label, name in channel.webhook_urls:
            assert reverse(name, args=[7]).rstrip("/").endswith("/7") or "/7/" in reverse(name, args=[7])


def _example(pattern) -> str:
    return str(pattern).replace("<int:account_id>", "1").replace("<slug:slug>", "contacto")


# --- a new channel, declared here and nowhere else ---------------------------------------------

SENT: list[tuple[int, str]] = []


def dummy_parse(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    body = json.loads(raw)
    if "id" not in body:
        raise ParseError("a dummy payload needs an id")
    return [InboundMessage(
        account_id=account_id, external_id=body["id"], senders=[SenderIdentity("email", body["from"])],
        sent_at=datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), text=body["text"],
    )]


def dummy_send(*, message, account) -> str:
    SENT.append((account.id, message.text))
    return f"dummy-{len(SENT)}"


DUMMY = Channel(
    kind="dummy",
    package=__package__,
    payloads=(PayloadKind("dummy", dummy_parse),),
    send=dummy_send,
    composer=lambda conversation: ComposerRules(max_chars=20, notice="Dummy replies are short"),
    settings=(Field("endpoint", "Endpoint"),),
)


@pytest.fixture
def dummy_channel():
    registry.register(DUMMY)
    SENT.clear()
    yield DUMMY
    registry.unregister("dummy")


@pytest.mark.django_db
def test_a_new_channel_registered_once_works_end_to_end(dummy_channel, make_account, make_user, eager_celery,
                                                        django_capture_on_commit_callbacks):
    # given an account of the new channel, and a payload its webhook would stage
    account = make_account(kind="dummy")
    payload_stage(account=account, kind="dummy", raw=json.dumps({"id": "d1", "from": "eva@example.com", "text": "hola"}).encode())
    payload_stage(account=account, kind="dummy", raw=b'{"text": "no id"}')
    # when the worker drains
    counts = inbound_drain()
    # then the message is in the inbox, and the bad payload is a dead letter with the parser's reason
    assert (counts.ingested, counts.failed, counts.failures) == (1, 1, ["a dummy payload needs an id"])
    conversation = Message.objects.get(external_id="d1").conversation
    # and its composer rules are the desk's and the API's
    assert composer_rules(conversation).notice == "Dummy replies are short"
    with pytest.raises(ApplicationError, match="this channel allows 20"):
        reply_create(conversation=conversation, author=make_user(), text="x" * 21)
    # and a reply leaves through its sender
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(conversation=conversation, author=make_user(), text="¡Hola, Eva!")
    message_deliver(message_id=reply.id)
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == ("sent", "dummy-1")
    assert SENT == [(account.id, "¡Hola, Eva!")]


def test_a_channel_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registry.channel_for("email"))
