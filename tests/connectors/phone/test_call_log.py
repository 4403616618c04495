"""Calls logged by hand: POST /api/customers/<id>/calls/ — permissions, threading, numbers."""
import pytest

from apps.accounts.models import Role, Team
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.phone.parse import parse_asterisk, parse_twilio
from apps.connectors.drain import payloads_import
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for

from .conftest import as_raw, callback

pytestmark = pytest.mark.django_db


def missed_call(account, number="+34600112233", sid="CA1", when="Fri, 20 Nov 2026 09:00:00 +0000") -> Conversation:
    messages_ingest(messages=parse_twilio(as_raw(callback(sid, "no-answer", customer=number, timestamp=when)), account_id=account.id))
    return Conversation.objects.get(messages__external_id=f"twilio:{sid}")


def log_call(user, customer_id, **body):
    return client_for(user).post(f"/api/customers/{customer_id}/calls/", body, format="json")


def test_a_logged_call_back_answers_the_missed_call(phone_account, make_user):
    # given a missed call waiting for a call-back
    conversation = missed_call(phone_account)
    agent = make_user(role=Role.AGENT)
    # when the agent logs the call-back they made from their desk phone
    response = log_call(agent, conversation.customer_id, direction="outbound", status="completed", duration_seconds=95,
                        notes="Pedido 5512 reenviado", started_at="2026-11-20T09:30:00Z")
    # then a call message in the same conversation, and the customer no longer waits
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["direction"], body["text"]) == ("call", "out", "Outbound call, 1 min 35 s\n\nPedido 5512 reenviado")
    assert body["details"]["call"] | {"started_at": None} == {
        "from": "+34910000000", "to": "+34600112233", "direction": "outbound", "status": "completed", "started_at": None,
        "duration_seconds": 95, "recording_url": "", "needs_callback": False, "source": "manual",
        "notes": "Pedido 5512 reenviado", "logged_by": agent.id,
    }
    conversation.refresh_from_db()
    assert (conversation.message_count, conversation.waiting_since) == (2, None)
    assert conversation.first_response_at.isoformat() == "2026-11-20T09:30:00+00:00"
    assert Message.objects.get(pk=body["id"]).external_id.startswith("manual:")


def test_an_unanswered_call_back_leaves_the_customer_waiting(phone_account, make_user):
    conversation = missed_call(phone_account)
    response = log_call(make_user(role=Role.SUPERVISOR), conversation.customer_id, direction="outbound", status="no-answer")
    assert response.status_code == 201
    conversation.refresh_from_db()
    assert (conversation.message_count, conversation.first_response_at, conversation.waiting_since is not None) == (2, None, True)


def test_an_agent_who_cannot_see_the_customer_gets_404_and_nothing_is_logged(make_account, make_user, team):
    # given the call came in on a team's phone line, and an agent of another team
    line = make_account(kind=ChannelKind.PHONE, team=team)
    conversation = missed_call(line)
    outsider = make_user(role=Role.AGENT, teams=[Team.objects.create(name="Otro equipo")])
    member = make_user(role=Role.AGENT, teams=[team])
    # when / then
    assert log_call(outsider, conversation.customer_id, direction="outbound", status="completed").status_code == 404
    assert Message.objects.count() == 1
    assert log_call(member, conversation.customer_id, direction="outbound", status="completed").status_code == 201


def test_anonymous_requests_are_refused(client, phone_account):
    conversation = missed_call(phone_account)
    response = client.post(f"/api/customers/{conversation.customer_id}/calls/", {"direction": "outbound", "status": "completed"})
    assert response.status_code in (401, 403) and Message.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"direction": "sideways", "status": "completed"}, "direction"),
    ({"direction": "inbound", "status": "ringing"}, "status"),
    ({"direction": "inbound", "status": "completed", "duration_seconds": -1}, "duration_seconds"),
])
def test_invalid_input_is_400_with_the_field(phone_account, make_user, body, field):
    conversation = missed_call(phone_account)
    response = log_call(make_user(role=Role.SUPERVISOR), conversation.customer_id, **body)
    assert response.status_code == 400 and field in response.json()["extra"]["fields"]


def test_a_bad_number_or_someone_elses_number_is_refused(phone_account, make_user):
    ana = missed_call(phone_account, "+34600112233", "CA1").customer
    other = missed_call(phone_account, "+34911234567", "CA2").customer
    supervisor = make_user(role=Role.SUPERVISOR)
    bad = log_call(supervisor, ana.id, direction="inbound", status="completed", phone="12")
    theirs = log_call(supervisor, ana.id, direction="inbound", status="completed", phone="0034 911 234 567")
    assert bad.status_code == 400 and "not a possible phone number" in bad.json()["message"]
    assert theirs.status_code == 400 and theirs.json()["extra"] == {"phone": "+34911234567", "customer_id": other.id}
    assert Message.objects.count() == 2


def test_a_number_of_a_customer_the_agent_may_not_see_is_refused_without_revealing_that_customer(
    phone_account, make_account, make_user, team
):
    # given Ana, whom every agent sees, and Luis, who only ever called a team's line
    ana = missed_call(phone_account, "+34600112233", "CA1").customer
    luis = missed_call(make_account(kind=ChannelKind.PHONE, team=team), "+34911234567", "CA2").customer
    outsider = make_user(role=Role.AGENT, teams=[Team.objects.create(name="Otro equipo")])
    # when an agent of another team logs a call of Ana's made from Luis's number
    response = log_call(outsider, ana.id, direction="inbound", status="completed", phone="911 234 567")
    # then it is refused, but nothing says a customer (let alone which) owns the number
    assert response.status_code == 400
    assert response.json() == {
        "message": "This number cannot be logged for this customer: ask a supervisor to log the call",
        "extra": {"phone": "+34911234567"},
    }
    # while an agent who sees Luis is told whose number it is, as a supervisor is
    member = make_user(role=Role.AGENT, teams=[team])
    for user in (member, make_user(role=Role.SUPERVISOR)):
        told = log_call(user, ana.id, direction="inbound", status="completed", phone="911 234 567")
        assert told.status_code == 400 and told.json()["extra"] == {"phone": "+34911234567", "customer_id": luis.id}
    assert Message.objects.count() == 2


def test_a_customer_known_only_by_email_gets_the_number_of_a_logged_call(make_account, make_user, inbound):
    # given a customer who only ever wrote an email
    email_account = make_account(kind=ChannelKind.EMAIL)
    messages_ingest(messages=[inbound(email_account, "<m1@example.com>", email="ana@example.com")])
    ana = Customer.objects.get()
    # when an agent logs the call Ana made to the shop's landline (no phone account exists yet)
    response = log_call(make_user(role=Role.SUPERVISOR), ana.id, direction="inbound", status="completed",
                        duration_seconds=60, phone="600 11 22 33")
    # then the call is hers, her number joins her identities, and a manual phone account was made for it
    assert response.status_code == 201 and response.json()["customer_id"] == ana.id
    assert set(Identity.objects.filter(customer=ana).values_list("kind", "value")) == {("email", "ana@example.com"), ("phone", "+34600112233")}
    assert ChannelAccount.objects.get(kind=ChannelKind.PHONE).name == "Manual call log"
    # and a later Twilio call from that number finds her
    assert missed_call(ChannelAccount.objects.get(kind=ChannelKind.PHONE), "+34600112233", "CA9").customer_id == ana.id


def test_a_customer_without_a_number_must_be_given_one(make_account, make_user, inbound):
    messages_ingest(messages=[inbound(make_account(kind=ChannelKind.EMAIL), "<m2@example.com>", email="luis@example.com")])
    response = log_call(make_user(role=Role.SUPERVISOR), Customer.objects.get().id, direction="outbound", status="completed")
    assert response.status_code == 400 and "no phone number" in response.json()["message"]


def test_a_call_can_be_filed_in_a_given_conversation(make_account, make_user, inbound, phone_account):
    # given Ana's email conversation and a phone number of hers
    email_account = make_account(kind=ChannelKind.EMAIL)
    messages_ingest(messages=[inbound(email_account, "<m3@example.com>", email="ana@example.com", phone="+34600112233")])
    email_conversation = Conversation.objects.get()
    # when the agent files the call they made about it in that conversation
    response = log_call(make_user(role=Role.SUPERVISOR), email_conversation.customer_id, direction="outbound",
                        status="completed", duration_seconds=30, conversation_id=email_conversation.id)
    # then it is there, and it answered the email
    assert response.status_code == 201
    email_conversation.refresh_from_db()
    assert (email_conversation.message_count, email_conversation.waiting_since) == (2, None)
    # another customer's conversation is not found
    other = missed_call(phone_account, "+34911234567", "CA5")
    response = log_call(make_user(role=Role.SUPERVISOR), email_conversation.customer_id, direction="outbound",
                        status="completed", conversation_id=other.id)
    assert response.status_code == 404


def test_every_format_of_one_number_finds_the_same_customer(phone_account, make_user):
    # given Twilio saw the caller as +34 911 23 45 67 (E.164)
    customer = missed_call(phone_account, "+34911234567", "CA1").customer
    # when the Asterisk PBX logs him as 0034911234567 and an agent types 0911 234 567
    row = ('"","0034911234567","100","from-pstn","""Juan"" <0034911234567>","SIP/t-1","SIP/100-2","Dial","SIP/100","2026-11-20 10:00:00",'
           '"","2026-11-20 10:00:11",11,0,"NO ANSWER","DOCUMENTATION","1763629200.1",""')
    payloads_import(kind="asterisk", account=phone_account, payloads=[("Master.csv:1", row.encode())])
    response = log_call(make_user(role=Role.SUPERVISOR), customer.id, direction="outbound", status="completed", phone="0911 234 567")
    # then one customer, one phone identity, three calls
    assert response.status_code == 201
    assert Identity.objects.filter(kind="phone").count() == 1 and Customer.objects.count() == 1
    assert Message.objects.filter(customer=customer, kind="call").count() == 3
    assert parse_asterisk(row.encode(), account_id=phone_account.id)[0].senders[0].value == "+34911234567"
