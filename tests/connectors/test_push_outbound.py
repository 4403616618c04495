"""The desk writes first on the API channel (issue 15): to a customer's email address or the other
system's id for them, delivered signed to the account's outbound_url like any reply, and the
system's answer with the conversation's thread_key threads back into it."""
import json
import random
from datetime import datetime, timezone

import pytest

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.connectors.push.parse import parse
from apps.crm.models import Customer, Identity
from apps.demo.builder import TrafficGenerator
from apps.inbox.models import Conversation, Message
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for
from tests.demo.test_demo import receiver  # noqa: F401  (the simulator's signed receiver, secret "s3cret")

pytestmark = pytest.mark.django_db


@pytest.fixture
def laura():
    customer = Customer.objects.create(display_name="Laura Gómez")
    return customer, {kind: Identity.objects.create(customer=customer, kind=kind, value=value) for kind, value in (
        ("email", "laura@cliente.example.es"), ("phone", "+34612000111"), ("external", "crm-4471"))}


def test_an_agent_writes_first_on_the_api_channel_and_the_systems_answer_threads_back(
    make_account, make_user, laura, receiver, eager_celery, django_capture_on_commit_callbacks
):
    api = make_account(kind=ChannelKind.PUSH, name="Tienda CRM", settings={"outbound_url": f"http://127.0.0.1:{receiver.port}/"},
                       secrets={"outbound_secret": "s3cret"})
    mail = make_account(kind=ChannelKind.EMAIL, settings={"address": "soporte@tienda.example"})
    customer, identities = laura
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    # when: the desk asks where it can write, then writes to Laura's CRM id on the API channel
    options = {o["identity"]["kind"]: [a["id"] for a in o["accounts"]]
               for o in supervisor.get(f"/api/customers/{customer.id}/outbound/").json()}
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor.post("/api/conversations/", {"customer": customer.id, "identity": identities["external"].id,
                                                           "channel_account": api.id, "text": "Hola Laura, su pedido sale hoy."},
                                   format="json")
    # then: an address by email first, then the API channel; a phone number by neither; the CRM id by the API channel
    assert options == {"email": [mail.id, api.id], "external": [api.id], "phone": []}
    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.thread_key == "centralita:external:crm-4471"
    assert Message.objects.get(conversation=conversation).delivery_status == "sent"
    [reply] = receiver.received
    assert (reply["thread_key"], reply["text"]) == ("centralita:external:crm-4471", "Hola Laura, su pedido sale hoy.")
    # when: the other system answers with that thread_key (as the demo's simulated order system does)
    _, answer = TrafficGenerator(random.Random(3)).answer_to(reply, datetime.now(timezone.utc))
    messages_ingest(messages=parse(json.dumps(answer).encode(), account_id=api.id))
    # then: into the same conversation, from Laura
    assert Conversation.objects.count() == 1
    assert conversation.messages.filter(direction="in").get().customer_id == customer.id


def test_an_api_account_without_an_outbound_url_cannot_start_one(make_account, make_user, laura):
    api = make_account(kind=ChannelKind.PUSH, name="Formulario")
    customer, identities = laura
    response = client_for(make_user(role=Role.SUPERVISOR)).post("/api/conversations/", {
        "customer": customer.id, "identity": identities["email"].id, "channel_account": api.id, "text": "Hola"}, format="json")
    assert (response.status_code, response.json()["message"]) == (400, "Formulario cannot write to this email identity")
    assert not Conversation.objects.exists()
