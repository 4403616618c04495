"""A missed call, the call-back, then an email from the same person: one customer history.

How the phone and the email of one person meet: the calls arrive with the number only and the
email with the address only, so the desk cannot know they are one person until someone says
so. The realistic path is the agent's: on the customer's page they see the merge candidate
(same name) and merge the two records (POST /api/customers/<id>/merge/); from then on both
identities belong to one customer and new mail or calls go straight to it. A channel that
carries both (a web form, the API channel) links them without an agent.
"""
import pytest

from apps.accounts.models import Role
from apps.connectors.email.parse import parse as parse_email
from apps.connectors.models import ChannelKind
from apps.connectors.drain import inbound_drain
from apps.crm.models import Customer
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for

from .conftest import callback, post_signed

pytestmark = pytest.mark.django_db

MAIL = b"""From: =?utf-8?q?Ana_Garc=C3=ADa?= <ana@example.com>
To: soporte@tienda.example
Subject: Pedido 5512
Date: Fri, 20 Nov 2026 10:15:00 +0100
Message-ID: <%s@example.com>
Content-Type: text/plain; charset=utf-8

Gracias por la llamada. Os paso la foto del paquete.
"""


def timeline(user, customer_id):
    response = client_for(user).get(f"/api/customers/{customer_id}/timeline/")
    assert response.status_code == 200
    return response.json()["results"]


def test_missed_call_call_back_then_email_form_one_history(client, phone_account, make_account, make_user):
    supervisor = make_user(role=Role.SUPERVISOR)
    email_account = make_account(kind=ChannelKind.EMAIL, name="soporte@tienda.example")
    # given Ana's call is missed (signed Twilio callback), then the agent calls her back and she answers
    post_signed(client, phone_account, callback("CA1", "no-answer", CallerName="ANA GARCIA", timestamp="Fri, 20 Nov 2026 08:50:00 +0000"))
    post_signed(client, phone_account, callback("CA2", "completed", "outbound-api", duration=120, timestamp="Fri, 20 Nov 2026 09:05:00 +0000"))
    inbound_drain()
    ana = Customer.objects.get()
    # when she then writes an email (a real RFC 5322 mail through the email parser)
    messages_ingest(messages=parse_email(MAIL % b"m1", account_id=email_account.id))
    by_email = Customer.objects.exclude(pk=ana.pk).get()
    # and the agent merges the two records of Ana from her page
    merged = client_for(supervisor).post(f"/api/customers/{ana.id}/merge/", {"other_id": by_email.id}, format="json")
    assert merged.status_code == 200, merged.json()
    # then one history, newest first, across both channels
    history = timeline(supervisor, ana.id)
    assert [(m["kind"], m["direction"], m["channel"]["kind"]) for m in history] == [
        ("message", "in", "email"), ("call", "out", "phone"), ("call", "in", "phone"),
    ]
    assert [m["details"].get("call", {}).get("status") for m in history] == [None, "completed", "no-answer"]
    # and the email record's id now resolves to Ana, whose next mail goes straight to her
    messages_ingest(messages=parse_email(MAIL % b"m2", account_id=email_account.id))
    assert len(timeline(supervisor, by_email.id)) == 4
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_the_timeline_costs_the_same_queries_for_3_calls_or_30(client, phone_account, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    supervisor = make_user(role=Role.SUPERVISOR)
    api = client_for(supervisor)

    def calls_then_page(first, last):
        for i in range(first, last):
            post_signed(client, phone_account, callback(f"CA{i}", "no-answer" if i % 2 else "completed", duration=i,
                                                        timestamp=f"Fri, 20 Nov 2026 09:{i:02d}:00 +0000"))
        inbound_drain()
        customer_id = Customer.objects.get().id
        with CaptureQueriesContext(connection) as queries:
            page = api.get(f"/api/customers/{customer_id}/timeline/").json()["results"]
        return len(page), len(queries)

    # given 3 calls, then 27 more
    few, few_queries = calls_then_page(0, 3)
    many, many_queries = calls_then_page(3, 30)
    # then the page grows, the queries do not (the call facts are in the row, no query per call)
    assert (few, many) == (3, 30)
    assert many_queries == few_queries <= 12


def test_a_message_that_carries_both_identities_links_them_without_an_agent(phone_account, make_account, inbound, client):
    # given a missed call from Ana
    post_signed(client, phone_account, callback("CA1", "no-answer"))
    inbound_drain()
    # when she fills the shop's contact form (API channel) with her email and phone
    messages_ingest(messages=[inbound(make_account(kind=ChannelKind.PUSH), email="ana@example.com", phone="600 11 22 33")])
    # then it is the same customer
    assert Customer.objects.count() == 1
    assert set(Customer.objects.get().identities.values_list("kind", flat=True)) == {"phone", "email"}


def test_a_missed_call_is_answered_when_the_customer_calls_again_and_gets_through(client, phone_account):
    # given Ana's missed call: the conversation waits for a call-back
    post_signed(client, phone_account, callback("CA7", "no-answer", timestamp="Fri, 20 Nov 2026 08:50:00 +0000"))
    inbound_drain()
    conversation = Customer.objects.get().conversations.get()
    assert conversation.waiting_since is not None
    # when she calls again and an agent takes the call
    post_signed(client, phone_account, callback("CA8", "completed", duration=95, timestamp="Fri, 20 Nov 2026 09:30:00 +0000"))
    inbound_drain()
    # then it is the same conversation, and nobody waits any more: the call was the answer
    conversation.refresh_from_db()
    assert conversation.message_count == 2
    assert conversation.waiting_since is None
    assert conversation.first_response_at.isoformat().startswith("2026-11-20T09:2")  # the call's start (09:30 minus 95 s)
