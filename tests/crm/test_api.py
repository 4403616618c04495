import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Role
from apps.crm.models import Customer, Identity, MergeSuggestion
from apps.crm.services import customer_merge
from apps.inbox.inbound import SenderIdentity
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_account, inbound):
    """Ana (email + phone + twitter), Bea (email), Carlos (facebook only)."""
    api, twitter, facebook = make_account(), make_account(kind="twitter"), make_account(kind="facebook")
    messages_ingest(messages=[
        inbound(api, email="ana.garcia@example.com", phone="+34 600 11 22 33", name="Ana García"),
        inbound(twitter, senders=[SenderIdentity("twitter", "1234567", display_name="Ana García", handle="@anagarcia")], minutes=1),
        inbound(api, email="bea@example.org", name="Beatriz Ruiz", minutes=2),
        inbound(facebook, senders=[SenderIdentity("facebook", "99887766", display_name="Carlos Pérez")], minutes=3),
    ])
    ana = Identity.objects.get(kind="email", value="ana.garcia@example.com").customer
    # the tweet came from a new identity: link it to Ana as an agent would
    tweeter = Identity.objects.get(kind="twitter").customer
    customer_merge(target=ana, source=tweeter, actor=None)
    return {
        "ana": ana,
        "bea": Identity.objects.get(value="bea@example.org").customer,
        "carlos": Identity.objects.get(kind="facebook").customer,
    }


@pytest.mark.parametrize(
    "q, who",
    [
        ("garcía", "ana"),  # part of the name, any case
        ("ANA.GARCIA@example.com", "ana"),  # exact email, normalized
        ("600 11 22 33", "ana"),  # phone, normalized to E.164
        ("0034600112233", "ana"),
        ("@anagarcia", "ana"),  # handle, with or without @
        ("anagarcia", "ana"),
        ("99887766", "carlos"),  # provider id
        ("ruiz", "bea"),
    ],
)
def test_search_by_name_or_any_identity(people, make_user, q, who):
    body = client_for(make_user(role=Role.SUPERVISOR)).get("/api/customers/", {"q": q}).json()
    assert [c["id"] for c in body["results"]] == [people[who].id]


def test_search_without_q_lists_everyone_but_tombstones(people, make_user):
    body = client_for(make_user(role=Role.SUPERVISOR)).get("/api/customers/").json()
    assert {c["id"] for c in body["results"]} == {p.id for p in people.values()}
    ana = next(c for c in body["results"] if c["id"] == people["ana"].id)
    assert {i["kind"] for i in ana["identities"]} == {"email", "phone", "twitter"}


def test_customer_detail(people, make_user, make_account, inbound):
    # given Ana with an open merge suggestion against a second record of hers
    messages_ingest(messages=[inbound(make_account(kind="phone"), phone="+34 611 000 000", name="A. García")])
    other = Identity.objects.get(value="+34611000000").customer
    messages_ingest(messages=[inbound(make_account(), email="ana.garcia@example.com", phone="611000000", minutes=5)])
    # when
    body = client_for(make_user()).get(f"/api/customers/{people['ana'].id}/").json()
    # then
    assert (body["id"], body["display_name"], body["merged_into"]) == (people["ana"].id, "Ana García", None)
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("email", "ana.garcia@example.com"), ("phone", "+34600112233"), ("twitter", "1234567")
    }
    twitter = next(i for i in body["identities"] if i["kind"] == "twitter")
    assert twitter["handle"] == "@anagarcia"
    (suggestion,) = body["open_merge_suggestions"]
    assert suggestion["other"] == {"id": other.id, "display_name": "A. García", "name": "A. García", "avatar": "A"}
    assert "belongs to another customer" in suggestion["reason"]


def test_a_merged_id_answers_with_the_survivor(people, make_user):
    ana = people["ana"]
    tombstone = Customer.objects.get(merged_into=ana)
    body = client_for(make_user()).get(f"/api/customers/{tombstone.id}/").json()
    assert (body["id"], body["merged_into"]) == (ana.id, ana.id)


def test_timeline_spans_every_channel_newest_first(people, make_user):
    # given Ana wrote on the API channel and on Twitter
    body = client_for(make_user()).get(f"/api/customers/{people['ana'].id}/timeline/").json()
    # then both messages, newest first, each saying where it happened
    results = body["results"]
    assert [m["channel"]["kind"] for m in results] == ["twitter", "api"]
    assert results[0]["sent_at"] > results[1]["sent_at"]
    assert all(m["customer_id"] == people["ana"].id for m in results)
    assert {m["conversation_id"] for m in results} == set(people["ana"].conversations.values_list("id", flat=True))


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_timeline_runs_a_constant_number_of_queries(role, make_user, team, make_account, inbound):
    # given a customer with 3 messages on 3 channels, then 30
    user = make_user(role=role, teams=[team])
    accounts = [make_account(team=team), make_account(kind="email", team=team), make_account(kind="phone")]

    def write(start, n):
        messages_ingest(messages=[
            inbound(accounts[i % 3], email="ana@example.com", thread_key=f"t{i}", minutes=i) for i in range(start, start + n)
        ])

    client = client_for(user)

    def count():
        customer = Customer.objects.get()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/customers/{customer.id}/timeline/")
        return len(ctx.captured_queries), response.json()

    write(0, 3)
    few, few_body = count()
    write(3, 27)
    many, many_body = count()
    # then
    assert (len(few_body["results"]), len(many_body["results"])) == (3, 30)
    # (the token and its user, the user's teams, the customer or its survivor, the page, its attachments)
    assert few == many <= 5


def test_timeline_pages_newest_first(make_user, make_account, inbound):
    account = make_account()
    messages_ingest(messages=[inbound(account, email="ana@example.com", thread_key=f"t{i}", minutes=i) for i in range(5)])
    client = client_for(make_user(role=Role.ADMIN))
    customer = Customer.objects.get()
    first = client.get(f"/api/customers/{customer.id}/timeline/?page_size=2").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    sent = [m["sent_at"] for page in (first, second, third) for m in page["results"]]
    assert len(sent) == 5 and sent == sorted(sent, reverse=True)
    assert third["next"] is None


def test_merge_suggestions_list_and_dismiss(make_user, make_account, inbound):
    # given a suggestion raised by ingest
    account = make_account()
    messages_ingest(messages=[inbound(account, email="ana@example.com")])
    messages_ingest(messages=[inbound(account, phone="+34600112233", name="Ana G", minutes=1)])
    messages_ingest(messages=[inbound(account, email="ana@example.com", phone="+34600112233", minutes=2)])
    suggestion = MergeSuggestion.objects.get()
    client = client_for(make_user())
    # when listed, then dismissed
    listed = client.get("/api/merge-suggestions/?status=open").json()["results"]
    dismissed = client.post(f"/api/merge-suggestions/{suggestion.id}/dismiss/")
    # then
    assert [s["id"] for s in listed] == [suggestion.id]
    assert listed[0]["customer"]["id"] == suggestion.customer_id and listed[0]["other"]["display_name"] == "Ana G"
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert client.get("/api/merge-suggestions/").json()["results"] == []
    assert [s["id"] for s in client.get("/api/merge-suggestions/?status=dismissed").json()["results"]] == [suggestion.id]
    assert client.post(f"/api/merge-suggestions/{suggestion.id}/dismiss/").status_code == 409
    assert client.get("/api/merge-suggestions/?status=nope").status_code == 400


@pytest.mark.postgres
def test_name_search_uses_the_trigram_index(make_user):
    # given the migration's index, and a planner told not to scan whole tables (they are tiny here)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'crm_customer_name_trgm'")
        (indexdef,) = cursor.fetchone()
        assert "gin_trgm_ops" in indexdef
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # else a full scan of another index may win
        sql, params = Customer.objects.filter(display_name__icontains="garcía").order_by().query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "crm_customer_name_trgm" in plan
