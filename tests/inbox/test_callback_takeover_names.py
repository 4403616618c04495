"""Issue 15: a call-back scheduled from the conversation, the takeover refusal that says who and
since when, and readable names for customers known only by a number or a network id."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.utils import translation

from apps.accounts.models import Role
from apps.crm.models import Customer
from apps.crm.naming import customer_avatar, customer_name
from apps.inbox.models import Conversation, ConversationEvent
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.inbound import SenderIdentity
from tests.builders import client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def conversation(inbound, account, team):
    account.team = team
    account.save(update_fields=["team"])
    messages_ingest(messages=[inbound(account, phone="+34 612 34 56 78", name="")])
    return Conversation.objects.get()


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stored, english, spanish, avatar", [
    ("7481023395518600", "Messenger user ·8600", "Usuario de Messenger ·8600", "?"),
    ("1500000000000000888", "X user ·0888", "Usuario de X ·0888", "?"),
    ("+34612345678", "+34 612 34 56 78", "+34 612 34 56 78", "phone"),
    ("0034 612 345 678", "+34 612 34 56 78", "+34 612 34 56 78", "phone"),
    ("Mesa 2", "Mesa 2", "Mesa 2", "M"),
    ("Lucía Fernández", "Lucía Fernández", "Lucía Fernández", "L"),
    ("", "Unknown customer", "Cliente desconocido", "?"),
])
def test_a_raw_id_or_number_is_never_the_name_shown(stored, english, spanish, avatar):
    with translation.override("en"):
        assert customer_name(stored) == english
    with translation.override("es"):
        assert customer_name(stored) == spanish
    assert customer_avatar(stored) == avatar


def test_the_inbox_and_the_customer_api_name_a_phone_only_customer_by_the_formatted_number(conversation, make_user, team):
    # given: a missed call from a number, no name (ingest stores the number as the name)
    agent = client_for(make_user(teams=[team]))
    assert conversation.customer.display_name == "+34 612 34 56 78"  # as the caller id gave it
    # when
    row = agent.get("/api/conversations/").json()["results"][0]
    detail = agent.get(f"/api/customers/{conversation.customer_id}/").json()
    # then: formatted, with the phone avatar; the stored value stays as it was (searchable, replaceable)
    assert (row["customer"]["name"], row["customer"]["avatar"]) == ("+34 612 34 56 78", "phone")
    assert (detail["name"], detail["avatar"]) == ("+34 612 34 56 78", "phone")


def test_a_messenger_customer_without_a_profile_shows_the_placeholder_in_the_desk(make_account, inbound, make_user):
    # given: a Messenger message whose sender is only a PSID
    page = make_account(kind="facebook", settings={"page_id": "104857600123456"})
    messages_ingest(messages=[inbound(page, senders=[SenderIdentity("facebook", "7481023395518600")], thread_key="psid:7481023395518600")])
    conversation = Conversation.objects.get()
    supervisor = make_user(role=Role.SUPERVISOR, language="es")
    client = client_for(supervisor)
    client.force_login(supervisor)
    # when: the desk renders it (Spanish)
    html = client.get(f"/c/{conversation.id}/").content.decode()
    # then: the readable placeholder, never the 16 digits as the name
    assert "Usuario de Messenger ·8600" in html
    assert '<h2 id="customer-name">7481023395518600</h2>' not in html


# --- takeover ----------------------------------------------------------------------------------


def test_the_takeover_refusal_says_who_holds_it_and_since_when(conversation, make_user, team):
    laura = make_user(teams=[team], first_name="Laura", last_name="Sánchez")
    david = make_user(teams=[team])
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        conversation_update(conversation=conversation, actor=laura, assignee=laura)
    # when: David claims it
    with time_machine.travel(NOW, tick=False):
        response = client_for(david).post(f"/api/conversations/{conversation.id}/claim/")
    # then: 409 naming Laura and when she took it
    assert response.status_code == 409
    body = response.json()
    assert body["message"] == "Laura Sánchez holds this conversation"
    assert body["extra"]["assignee"]["name"] == "Laura Sánchez"
    assert body["extra"]["since"] == (NOW - timedelta(hours=2)).isoformat()


# --- call-back -----------------------------------------------------------------------------------


def test_scheduling_a_call_back_snoozes_it_until_then_and_assigns_it_to_me(conversation, make_user, team):
    agent = make_user(teams=[team])
    at = NOW + timedelta(hours=3)
    with time_machine.travel(NOW, tick=False):
        response = client_for(agent).post(f"/api/conversations/{conversation.id}/callback/", {"at": at.isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["assignee"]["id"]) == ("snoozed", agent.id)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until, conversation.assignee_id) == ("snoozed", at, agent.id)
    kinds = set(ConversationEvent.objects.filter(conversation=conversation, data__callback=True).values_list("kind", flat=True))
    assert kinds == {"assigned", "status", "snoozed"}


def test_a_call_back_in_the_past_is_refused(conversation, make_user, team):
    agent = make_user(teams=[team])
    with time_machine.travel(NOW, tick=False):
        response = client_for(agent).post(f"/api/conversations/{conversation.id}/callback/",
                                          {"at": (NOW - timedelta(minutes=5)).isoformat()}, format="json")
    assert response.status_code == 400
    assert Conversation.objects.get().status == "open"


def test_another_teams_agent_cannot_schedule_it(conversation, make_user):
    stranger = make_user(teams=[])
    response = client_for(stranger).post(f"/api/conversations/{conversation.id}/callback/",
                                         {"at": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()}, format="json")
    assert response.status_code == 404
