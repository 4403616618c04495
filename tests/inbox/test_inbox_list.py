"""The inbox list: views, filters (priority, tag, SLA), full-text search, unread, query counts, plans."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Role
from apps.inbox.models import Conversation
from apps.inbox.selectors import ConversationFilters, _common_by_statistics, conversation_list, messages_matching
from apps.inbox.services.conversations import conversation_mark_read, conversation_update
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for, conversations
from tests.conftest import T0

pytestmark = pytest.mark.django_db


def _ids(client, query="") -> list[int]:
    response = client.get(f"/api/conversations/?{query}")
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_views_and_their_default_statuses(make_user, team, make_account, inbound):
    # given an agent of a team with conversations: theirs, a colleague's, unassigned, resolved, snoozed,
    # and one of no team (visible to everyone)
    agent, colleague = make_user(teams=[team]), make_user(teams=[team])
    mine, theirs, free, done, later = conversations(inbound, make_account(team=team), 5)
    (unteamed,) = conversations(inbound, make_account(), 1, sent_at=T0 + timedelta(minutes=10))
    conversation_update(conversation=mine, actor=agent, assignee=agent)
    conversation_update(conversation=theirs, actor=agent, assignee=colleague)
    conversation_update(conversation=done, actor=agent, status="resolved")
    conversation_update(conversation=later, actor=agent, snoozed_until=timezone.now() + timedelta(hours=2))
    client = client_for(agent)
    # then each view lists its open and pending conversations, newest activity first
    assert _ids(client, "view=mine") == [mine.id]
    assert _ids(client, "view=unassigned") == [unteamed.id, free.id]
    assert _ids(client, "view=teams") == [free.id, theirs.id, mine.id]
    assert _ids(client, "view=all") == [unteamed.id, free.id, theirs.id, mine.id]
    # and status widens it: one status, several, or any
    assert _ids(client, "view=teams&status=snoozed") == [later.id]
    assert _ids(client, "view=teams&status=any") == [later.id, done.id, free.id, theirs.id, mine.id]
    # and without a view the list is every status, as before views existed
    assert len(_ids(client)) == 6
    assert client.get("/api/conversations/?view=everything").status_code == 400
    # and a supervisor of no team has an empty "my teams" view, one of the team sees it
    assert _ids(client_for(make_user(role=Role.SUPERVISOR)), "view=teams") == []
    assert _ids(client_for(make_user(role=Role.SUPERVISOR, teams=[team])), "view=teams") == [free.id, theirs.id, mine.id]


def test_priority_tag_and_channel_filters(make_user, make_account, inbound):
    admin = make_user(role=Role.ADMIN)
    a, b, c = conversations(inbound, make_account(), 3)
    (e,) = conversations(inbound, make_account(kind="email"), 1)
    conversation_update(conversation=a, actor=admin, priority=3, tags=["VIP", "billing"])
    conversation_update(conversation=b, actor=admin, priority=2, tags=["billing"])
    client = client_for(admin)
    assert _ids(client, "priority=3") == [a.id]
    assert _ids(client, "priority=2,3") == [b.id, a.id]
    assert _ids(client, "tag=billing") == [b.id, a.id]
    assert _ids(client, "tag=vip") == [a.id]  # names are lower-cased
    assert _ids(client, "view=all&channel=email") == [e.id]
    assert _ids(client, "tag=billing&priority=2") == [b.id]
    row = client.get("/api/conversations/?tag=vip").json()["results"][0]
    assert row["tags"] == ["billing", "vip"]
    assert client.get("/api/conversations/?priority=7").status_code == 400
    assert c.id in _ids(client)


def test_sla_filter_and_row_state(make_user, make_account, inbound):
    # given conversations waiting 5, 50 and 70 minutes at High priority (the default 24/7 policy:
    # target 60 min, warning from 45; apps/sla/migrations/0002_default_policies.py)
    admin = make_user(role=Role.ADMIN)
    now = timezone.now()
    account = make_account()
    fresh, late, breached = (
        conversations(inbound, account, 1, sent_at=now - timedelta(minutes=m))[0] for m in (5, 50, 70)
    )
    for conv in (fresh, late, breached):
        conversation_update(conversation=conv, actor=admin, priority=2)
    (answered,) = conversations(inbound, account, 1, sent_at=now - timedelta(minutes=100))
    conversation_update(conversation=answered, actor=admin, status="resolved")
    client = client_for(admin)
    # then
    assert _ids(client, "sla=ok") == [fresh.id]
    assert _ids(client, "sla=warning") == [late.id]
    assert _ids(client, "sla=breached") == [breached.id]
    assert answered.id in _ids(client, "sla=none")
    rows = {r["id"]: r["sla"] for r in client.get("/api/conversations/").json()["results"]}
    assert rows[late.id]["state"] == "warning"
    assert (rows[answered.id]["state"], rows[answered.id]["clock"], rows[answered.id]["due_at"]) == ("none", None, None)
    due = fresh.waiting_since + timedelta(minutes=60)
    assert rows[fresh.id]["due_at"].replace("Z", "+00:00")[:19] == due.isoformat()[:19]
    assert client.get("/api/conversations/?sla=late").status_code == 400


@pytest.mark.parametrize("dense_from", [2000, 1], ids=["rare words", "common words"])
def test_search_messages_names_and_identities(make_user, make_account, inbound, monkeypatch, dense_from):
    # given conversations of different people saying different things (and the PostgreSQL search
    # planned either way: from the matches, or checking each conversation in the inbox's order)
    monkeypatch.setattr("apps.inbox.selectors.SEARCH_DENSE_MATCHES", dense_from)
    admin = make_user(role=Role.ADMIN)
    account = make_account()
    messages_ingest(messages=[
        inbound(account, email="ana@example.com", name="Ana García", text="El pedido AH-77 no ha llegado"),
        inbound(account, email="bob@example.com", name="Bob Brown", text="Where is my refund?", minutes=1),
        inbound(account, phone="+34600112233", name="Carla Ruiz", text="Llamadme por favor", minutes=2),
    ])
    by_name = {c.customer.display_name: c.id for c in Conversation.objects.select_related("customer")}
    client = client_for(admin)
    # then words of any message (also as a prefix, as people type), names, emails and phones find them
    assert _ids(client, "q=refund") == [by_name["Bob Brown"]]
    assert _ids(client, "q=pedido lleg") == [by_name["Ana García"]]
    assert _ids(client, "q=REFUN") == [by_name["Bob Brown"]]
    assert _ids(client, "q=garcía") == [by_name["Ana García"]]
    assert _ids(client, "q=bob@example.com") == [by_name["Bob Brown"]]
    assert _ids(client, "q=600 11 22 33") == [by_name["Carla Ruiz"]]
    assert _ids(client, "q=nothing-like-this") == []


@pytest.mark.postgres
@pytest.mark.parametrize("q", ["?", "+", "@", "¿?", "...", "²"])
def test_a_search_with_no_searchable_word_is_an_answer_not_an_error(make_user, make_account, inbound, q):
    # given a conversation, and a customer whose name holds punctuation
    admin = make_user(role=Role.ADMIN)
    messages_ingest(messages=[
        inbound(make_account(), email="ana@example.com", name="Ana García", text="¿Dónde está mi pedido?"),
        inbound(make_account(), email="x@example.com", name=f"Who {q} Knows", text="hola", minutes=1),
    ])
    # when an agent types only punctuation in the search box
    response = client_for(admin).get("/api/conversations/", {"q": q})
    # then an answer: no message matches a word, a name holding those characters still does
    assert response.status_code == 200, response.content
    names = [row["customer"]["display_name"] for row in response.json()["results"]]
    assert names == [f"Who {q} Knows"]


def test_search_respects_visibility(make_user, team, make_account, inbound):
    other = make_user().teams.create(name="Other")
    agent = make_user(teams=[team])
    messages_ingest(messages=[inbound(make_account(team=other), email="x@example.com", text="secreto interno")])
    assert _ids(client_for(agent), "q=secreto") == []
    assert len(_ids(client_for(make_user(role=Role.SUPERVISOR)), "q=secreto")) == 1


def test_unread_per_user_until_the_next_inbound_message(make_user, make_account, inbound):
    # given a conversation two agents see
    a, b = make_user(), make_user()
    account = make_account()
    messages_ingest(messages=[inbound(account, email="ana@example.com", thread_key="t")])
    conv = Conversation.objects.get()

    def unread(user):
        return client_for(user).get("/api/conversations/").json()["results"][0]["unread"]

    assert (unread(a), unread(b)) == (True, True)
    # when A reads it
    response = client_for(a).post(f"/api/conversations/{conv.id}/read/")
    assert response.status_code == 204
    # then it is read for A only
    assert (unread(a), unread(b)) == (False, True)
    # and A's own reply does not make it unread, the customer's next message does
    client_for(a).post(f"/api/conversations/{conv.id}/messages/", {"text": "hola", "kind": "note"}, format="json")
    assert unread(a) is False
    messages_ingest(messages=[inbound(account, email="ana@example.com", thread_key="t", minutes=5,
                                      sent_at=timezone.now() + timedelta(seconds=1))])
    assert unread(a) is True
    # and reading twice is one row, updated
    conversation_mark_read(conversation=conv, user=a)
    conversation_mark_read(conversation=conv, user=a)
    assert conv.reads.filter(user=a).count() == 1


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_the_list_costs_the_same_queries_at_3_and_30_rows(role, make_user, team, make_account, inbound,
                                                          django_assert_max_num_queries):
    # given rows with tags, read markers, assignees and a search and filters on top
    user = make_user(role=role, teams=[team])
    account = make_account(team=team)

    def grow_to(n):
        for conv in conversations(inbound, account, n - Conversation.objects.count(), text="pedido roto"):
            conversation_update(conversation=conv, actor=user, assignee=user, priority=2, tags=["a", f"t{conv.id}"])
            conversation_mark_read(conversation=conv, user=user)

    client = client_for(user)
    for query in ("view=mine", "view=all&q=pedido&sla=breached&tag=a&priority=2"):
        grow_to(3 if query == "view=mine" else 30)
        # then: session + user, teams (agents), rows (with the read marker), tags; a search on
        # PostgreSQL reads first how common its words are (the index's statistics) and, when rare,
        # the matches' conversations (selectors.search_q)
        with django_assert_max_num_queries(7 if "q=" in query else 5):
            rows = client.get(f"/api/conversations/?{query}").json()["results"]
        assert len(rows) == Conversation.objects.count()
        assert all(r["tags"][0] == "a" and r["unread"] is False for r in rows)


def test_a_conversation_with_its_timeline_costs_bounded_queries(make_user, make_account, inbound, django_assert_max_num_queries):
    # given a customer with 2 conversations on 2 channels, a call among the messages
    admin = make_user(role=Role.ADMIN)
    email, phone = make_account(kind="email"), make_account(kind="phone")
    messages_ingest(messages=[
        inbound(email, email="ana@example.com", phone="+34600112233", text="hola"),
        inbound(phone, phone="+34600112233", kind="call", text="Missed call", minutes=1,
                metadata={"call": {"direction": "inbound", "status": "no-answer", "needs_callback": True}}),
    ])
    conv = Conversation.objects.get(channel_account=phone)
    client = client_for(admin)
    # when the desk loads the conversation, its thread, the customer and the timeline
    # (each request: session + user, then conversation 2 / thread 3 / customer 4 / timeline 4)
    with django_assert_max_num_queries(21):
        assert client.get(f"/api/conversations/{conv.id}/").status_code == 200
        assert client.get(f"/api/conversations/{conv.id}/messages/").status_code == 200
        assert client.get(f"/api/customers/{conv.customer_id}/").status_code == 200
        timeline = client.get(f"/api/customers/{conv.customer_id}/timeline/").json()["results"]
    # then the timeline says which conversation and channel each message belongs to, with the call's details
    assert [(m["channel"]["kind"], m["conversation"]["id"]) for m in timeline] == [("phone", conv.id), ("email", conv.id - 1)]
    assert timeline[0]["details"]["call"]["needs_callback"] is True
    assert timeline[0]["conversation"]["status"] == "open"


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tables are tiny here: make the planner show its index choice
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_query_plans_use_the_indexes(make_user, team, make_account, inbound):
    # given the inbox as an agent, the first page, and a search
    agent = make_user(teams=[team])
    conversations(inbound, make_account(team=team), 3)
    page = conversation_list(user=agent, filters=ConversationFilters(view="all", statuses=("open", "pending")))[:51]
    search = conversation_list(user=agent, filters=ConversationFilters(q="pedido llegado"))[:51]
    # then the page walks an index in the list's order; a (rare) search finds its messages with the
    # full-text GIN index first, so the list's query holds their conversations' ids (no estimate of
    # a prefix match left to the planner), and the customers by name (trigram)
    page_plan, matches_plan, search_plan = _plan(page), _plan(messages_matching("pedido llegado")), _plan(search)
    assert "Index Scan" in page_plan and "conv_" in page_plan, page_plan
    assert "inbox_message_text_fts" in matches_plan, matches_plan
    assert "inbox_message" not in search_plan and "unnest(" in search_plan, search_plan
    assert "crm_customer_name_trgm" in search_plan, search_plan


@pytest.mark.postgres
def test_how_common_a_search_is_comes_from_the_index_statistics(make_user, make_account, inbound, monkeypatch):
    # given messages where "pedido" is in every one and "roto" in none, and the index analyzed
    conversations(inbound, make_account(), 30, text="pedido llegado")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_message")
    # then with a threshold of 20 messages, a word (or a prefix of one) of the 30 is common, a word of none is not
    monkeypatch.setattr("apps.inbox.selectors.SEARCH_DENSE_MATCHES", 20)
    assert _common_by_statistics(["pedido"]) and _common_by_statistics(["pedid", "llega"])
    assert not _common_by_statistics(["roto"]) and not _common_by_statistics(["pedido", "roto"])
    # and at a threshold above the table's size nothing is
    monkeypatch.setattr("apps.inbox.selectors.SEARCH_DENSE_MATCHES", 31)
    assert not _common_by_statistics(["pedido"])


@pytest.mark.postgres
def test_a_deep_timeline_page_is_an_index_range(make_user, make_account, inbound):
    # given a customer with 8 messages, and the desk 3 pages (of 3) into their timeline
    admin = make_user(role=Role.ADMIN)
    conv, = conversations(inbound, make_account(), 1)
    messages_ingest(messages=[inbound(conv.channel_account, email=conv.customer.identities.get().value, text=f"m{i}",
                                      minutes=i + 1) for i in range(7)])
    client = client_for(admin)
    url = f"/api/customers/{conv.customer_id}/timeline/?page_size=3"
    url = client.get(url).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).json()
    # then the page is the next 3, and its query bounds (sent_at, id) inside the timeline index:
    # a deep page reads its own rows, not every older message to sort them
    assert [m["text"] for m in page["results"]] == ["m3", "m2", "m1"]
    sql = next(q["sql"] for q in queries.captured_queries if 'FROM "inbox_message"' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "msg_customer_timeline" in plan and "Index Cond: ((customer_id = " in plan, plan
    assert "ROW(sent_at, id) < ROW(" in plan, plan


@pytest.mark.postgres
def test_a_receipt_finds_its_reply_through_indexes_not_by_reading_the_whole_account(account, inbound):
    from apps.inbox.inbound import InboundStatus
    from apps.inbox.services.statuses import _targets

    # given an account with a few hundred messages (statistics taken), and a bounce or receipt naming
    # provider ids (a reply's own id, or the one its echo left in metadata)
    conversations(inbound, account, 400)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_message")
    with CaptureQueriesContext(connection) as queries:
        _targets(InboundStatus(account_id=account.id, kind="failed", external_ids=["<a@x>", "<b@x>"]))
    # then its lookup reads the unique external-id index and the partial provider-id index
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 400 rows still fit a few pages: show the index choice
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_unique_external_id" in plan and "msg_provider_id" in plan, plan
