"""The desk's server-rendered pages and fragments: permissions, bounded queries, safe rendering."""
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import Role, Team
from apps.connectors.models import ChannelKind
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Conversation, Message
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import note_create
from tests.builders import conversations

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="row[^"]*" data-id="(\d+)"', html)]


# --- permissions --------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    # when an anonymous browser asks for the desk or a fragment
    for url in ("/", "/c/1/", "/desk/list/", "/desk/rows/?ids=1", "/desk/conversations/1/"):
        response = client.get(url)
        # then it is redirected to sign in
        assert response.status_code == 302 and response.url.startswith("/login/"), url


def test_a_conversation_of_another_team_is_a_404_on_every_page_and_fragment(make_user, team, make_account, inbound):
    # given a conversation of a team, and an agent of another team
    (conv,) = conversations(inbound, make_account(team=team), 1)
    outsider = make_user(teams=[Team.objects.create(name="Elsewhere")])
    client = browser_for(outsider)
    # when the outsider asks for it in any form, then it does not exist for them
    for url in (
        f"/c/{conv.id}/",
        f"/desk/conversations/{conv.id}/",
        f"/desk/conversations/{conv.id}/header/",
        f"/desk/conversations/{conv.id}/messages/?ids=1",
        f"/desk/customers/{conv.customer_id}/timeline/",
    ):
        assert client.get(url).status_code == 404, url
    # and the rows fragment leaves it out
    assert row_ids(page(client, f"/desk/rows/?ids={conv.id}")) == []
    # while an agent of the team sees it
    member = browser_for(make_user(teams=[team]))
    assert row_ids(page(member, f"/desk/rows/?ids={conv.id}")) == [conv.id]
    assert "Ana García" in page(member, f"/c/{conv.id}/")


# --- the list ----------------------------------------------------------------------------------------


def test_the_first_page_is_rendered_on_the_server_newest_first_with_view_counts(make_user, team, make_account, inbound):
    # given three conversations of a team, one assigned to the agent
    agent = make_user(teams=[team])
    convs = conversations(inbound, make_account(team=team), 3, subject="Pedido")
    conversation_update(conversation=convs[0], actor=agent, assignee=agent)
    # when the agent opens the desk
    html = page(browser_for(agent), "/")
    # then the rows are in the HTML, newest activity first
    assert row_ids(html) == [c.id for c in reversed(convs)]
    # and the views carry their counts of open work
    assert 'data-count="all">3<' in html
    assert 'data-count="mine">1<' in html
    assert 'data-count="unassigned">2<' in html


def test_views_and_filters_narrow_the_rows(make_user, team, make_account, inbound):
    # given an email and an API conversation, one resolved
    agent = make_user(teams=[team])
    (api_conv,) = conversations(inbound, make_account(team=team), 1)
    (mail_conv,) = conversations(inbound, make_account(kind=ChannelKind.EMAIL, team=team), 1)
    conversation_update(conversation=api_conv, actor=agent, assignee=agent)
    client = browser_for(agent)
    # then each view and filter serves the rows that match it, through the same fragment the client uses
    assert row_ids(page(client, "/desk/list/?view=mine")) == [api_conv.id]
    assert row_ids(page(client, "/desk/list/?view=unassigned")) == [mail_conv.id]
    assert row_ids(page(client, "/desk/list/?channel=email")) == [mail_conv.id]
    conversation_update(conversation=mail_conv, actor=agent, status=Conversation.Status.RESOLVED)
    assert row_ids(page(client, "/desk/list/")) == [api_conv.id]  # default: open and pending work
    assert row_ids(page(client, "/desk/list/?status=resolved")) == [mail_conv.id]
    # and a live update for a row that left the filter gives nothing back (the client removes it)
    assert row_ids(page(client, f"/desk/rows/?ids={mail_conv.id},{api_conv.id}")) == [api_conv.id]
    # a filter the server does not know is refused, not ignored
    assert client.get("/desk/list/?status=bogus").status_code == 400


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_the_desk_page_runs_a_bounded_number_of_queries(role, make_user, team, make_account, inbound, django_assert_max_num_queries):
    # given a user and a few conversations, then many more
    user = make_user(role=role, teams=[team])
    account = make_account(team=team)
    conversations(inbound, account, 3)
    client = browser_for(user)
    with django_assert_max_num_queries(10) as few:
        page(client, "/")
    conversations(inbound, account, 40)
    # when the page is served again with a full first page
    with django_assert_max_num_queries(10) as many:
        html = page(client, "/")
    # then it costs the same: rows, tags, counts, people are each one query
    assert len(row_ids(html)) == 43
    assert len(many.captured_queries) == len(few.captured_queries)


def test_pages_of_the_list_follow_the_keyset_cursor(make_user, team, make_account, inbound):
    # given 55 conversations (the page holds 50)
    agent = make_user(teams=[team])
    convs = conversations(inbound, make_account(team=team), 55)
    client = browser_for(agent)
    first = page(client, "/desk/list/")
    cursor = re.search(r'data-next="([^"]+)"', first).group(1)
    # when the next page is asked for
    second = page(client, f"/desk/list/?cursor={cursor}")
    # then together they hold every conversation once, newest first
    assert row_ids(first) + row_ids(second) == [c.id for c in reversed(convs)]
    assert client.get("/desk/list/?cursor=not-a-cursor").status_code == 404


# --- the conversation ------------------------------------------------------------------------------------


def test_a_conversation_with_its_customer_timeline_runs_a_bounded_number_of_queries(
    make_user, team, make_account, inbound, django_assert_max_num_queries
):
    # given a customer's one-message email conversation
    agent = make_user(teams=[team])
    email = make_account(kind=ChannelKind.EMAIL, team=team)
    phone = make_account(kind=ChannelKind.PHONE, team=team)
    messages_ingest(messages=[inbound(email, thread_key="t-1", email="eva@example.es")])
    conv = Conversation.objects.get(thread_key="t-1")
    client = browser_for(agent)
    # (list, thread, customer, timeline: one query each whatever their length; the visibility
    # rule reads the user's teams once per selector)
    with django_assert_max_num_queries(26) as short:
        page(client, f"/c/{conv.id}/")
    with django_assert_max_num_queries(20) as short_panes:
        page(client, f"/desk/conversations/{conv.id}/")
    # when the thread grows long, with notes, and the customer calls on another channel
    batch = [inbound(email, thread_key="t-1", email="eva@example.es", minutes=i) for i in range(1, 30)]
    batch += [inbound(phone, thread_key=f"p-{i}", email="eva@example.es", phone="+34600000001", minutes=40 + i, kind="call",
                      metadata={"call": {"direction": "inbound", "status": "completed", "duration_seconds": 65}}) for i in range(5)]
    messages_ingest(messages=batch)
    for i in range(5):
        note_create(conversation=conv, author=agent, text=f"nota {i}")
    with django_assert_max_num_queries(26) as long:
        html = page(client, f"/c/{conv.id}/")
    with django_assert_max_num_queries(20) as long_panes:
        page(client, f"/desk/conversations/{conv.id}/")
    # then it costs the same queries, and the thread and the timeline (calls of other conversations included) are all there
    assert (len(long.captured_queries), len(long_panes.captured_queries)) == (len(short.captured_queries), len(short_panes.captured_queries))
    assert html.count('class="msg ') == 35
    assert "Call in · completed · 1:05" in html


def test_channel_details_are_rendered_and_nothing_untrusted_becomes_markup(make_user, team, make_account):
    # given a call with a javascript: recording URL, a form with markup in a field, an email with HTML,
    # and a Facebook comment that can be hidden
    agent = make_user(teams=[team])
    phone = make_account(kind=ChannelKind.PHONE, team=team)
    facebook = make_account(kind=ChannelKind.FACEBOOK, team=team)
    sender = [SenderIdentity("phone", "+34600111222", "Eva <b>Ruiz</b>")]
    now = timezone.now()
    messages_ingest(messages=[
        InboundMessage(account_id=phone.id, external_id="c1", senders=sender, sent_at=now - timedelta(minutes=3), kind="call",
                       thread_key="eva", text="call",
                       metadata={"call": {"from": "+34600111222", "to": "+34910000000", "direction": "inbound", "status": "no-answer",
                                          "duration_seconds": 0, "recording_url": "javascript:alert(1)", "needs_callback": True}}),
        InboundMessage(account_id=phone.id, external_id="c2", senders=sender, sent_at=now - timedelta(minutes=2), kind="call",
                       thread_key="eva", text="call",
                       metadata={"call": {"direction": "outbound", "status": "completed", "duration_seconds": 125,
                                          "recording_url": "https://media.example.com/rec/1.mp3"}}),
        InboundMessage(account_id=phone.id, external_id="f1", senders=sender, sent_at=now - timedelta(minutes=1), kind="form",
                       thread_key="eva", text="form",
                       metadata={"form": {"slug": "c", "title": "Contacto", "fields": [{"name": "m", "label": "Mensaje", "value": "<script>alert(2)</script>"}]}}),
        InboundMessage(account_id=facebook.id, external_id="fb1", senders=[SenderIdentity("facebook", "fb-1", "Irene")], sent_at=now,
                       is_public=True, thread_key="post:1", text="comentario", html="<p>Hola <img src=x onerror=alert(3)></p>",
                       metadata={"facebook": {"comment_id": "fb1", "post_id": "1", "hidden": False, "can_hide": True,
                                              "permalink": "https://facebook.com/1"}}),
    ])
    call_conv = Conversation.objects.get(thread_key="eva")
    fb_conv = Conversation.objects.get(thread_key="post:1")
    client = browser_for(agent)
    # when the agent opens them
    call_html = page(client, f"/c/{call_conv.id}/")
    fb_html = page(client, f"/c/{fb_conv.id}/")
    # then the calls show tel: links, the call-back flag and only a real recording link
    assert 'href="tel:+34600111222"' in call_html
    assert "Needs call-back" in call_html
    assert "javascript:alert" not in call_html
    assert 'href="https://media.example.com/rec/1.mp3"' in call_html
    assert "2:05" in call_html
    # the form is a table whose values are text, the customer's name too
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in call_html and "<script>alert(2)" not in call_html
    assert "Eva &lt;b&gt;Ruiz&lt;/b&gt;" in call_html
    # the comment is marked public, can be hidden, and its HTML only lives escaped in a sandboxed iframe
    assert "mark-public" in fb_html
    assert 'data-action="hide-comment"' in fb_html
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in fb_html
    assert "&lt;p&gt;Hola" in fb_html and "<p>Hola" not in fb_html
    assert "onerror" not in fb_html  # stripped by the sanitizer at ingest
    # and the phone channel offers notes, not replies
    assert 'data-mode="reply" disabled' in call_html


def test_message_and_header_fragments_follow_changes(make_user, team, make_account, inbound):
    # given a conversation with a note
    agent = make_user(teams=[team], username="marta")
    (conv,) = conversations(inbound, make_account(team=team), 1)
    note = note_create(conversation=conv, author=agent, text="revisar <b>ya</b>")
    client = browser_for(agent)
    # when the client asks for that message (as on a live event), then it gets it, escaped
    html = page(client, f"/desk/conversations/{conv.id}/messages/?ids={note.id}")
    assert f'id="m-{note.id}"' in html and "revisar &lt;b&gt;ya&lt;/b&gt;" in html and "Internal note" in html
    # a message of another conversation is not served through this one
    (other,) = conversations(inbound, make_account(team=team), 1)
    other_message = Message.objects.filter(conversation=other).first()
    assert 'class="msg' not in page(client, f"/desk/conversations/{conv.id}/messages/?ids={other_message.id}")
    # and the header shows a change made elsewhere
    conversation_update(conversation=conv, actor=agent, assignee=agent, priority=Conversation.Priority.URGENT)
    header = page(client, f"/desk/conversations/{conv.id}/header/")
    assert f'<option value="{agent.id}" selected>marta</option>' in header
    assert '<option value="3" selected>Urgent</option>' in header


def test_the_timeline_pages_back_through_older_history(make_user, team, make_account, inbound):
    # given a customer with 45 messages (a timeline page shows 30)
    agent = make_user(teams=[team])
    account = make_account(team=team)
    ids = messages_ingest(messages=[inbound(account, thread_key="long", email="leo@example.es", minutes=i) for i in range(45)]).message_ids
    conv = Conversation.objects.get(thread_key="long")
    client = browser_for(agent)
    html = page(client, f"/c/{conv.id}/")
    before = re.search(r'data-action="timeline-more" data-before="([^"]+)"', html).group(1)
    # when the older history is asked for
    older = page(client, f"/desk/customers/{conv.customer_id}/timeline/?before={before}")
    # then it holds the 15 oldest, and no further page
    assert [int(i) for i in re.findall(r'class="tl-item[^"]*" data-id="(\d+)"', older)] == list(reversed(ids))[30:]
    assert "timeline-more" not in older
    assert client.get(f"/desk/customers/{conv.customer_id}/timeline/?before=junk|1").status_code == 400


@pytest.mark.parametrize("before", ["2026-02-30T10:00:00+00:00|5", "2026-11-20T10:00:00+00:00|²", "2026-11-20T10:00:00+00:00|"])
def test_a_timeline_cursor_of_an_impossible_date_or_id_is_a_400(make_user, team, make_account, inbound, before):
    # given a customer an agent may see
    agent = make_user(teams=[team])
    (conv,) = conversations(inbound, make_account(team=team), 1)
    # when the older history is asked for with a cursor that cannot be (30 February, a superscript id)
    response = browser_for(agent).get(f"/desk/customers/{conv.customer_id}/timeline/", {"before": before})
    # then a 400, not a server error
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["ids=²", "ids=1,²", "ids=١", "ids=-1", "ids=1;2", "current=²"])
def test_an_id_that_is_not_ascii_digits_is_a_400_on_every_fragment(make_user, team, make_account, inbound, query):
    # given a conversation an agent may see
    agent = make_user(teams=[team])
    (conv,) = conversations(inbound, make_account(team=team), 1)
    client = browser_for(agent)
    # when a fragment is asked for with ids that str.isdigit() takes but int() does not (or that are no ids)
    urls = [f"/desk/customers/{conv.customer_id}/timeline/?{query}"] if query.startswith("current=") else [
        f"/desk/rows/?{query}", f"/desk/conversations/{conv.id}/messages/?{query}",
    ]
    # then a 400 each time
    for url in urls:
        assert client.get(url).status_code == 400, url
    # while plain ids still work
    assert row_ids(page(client, f"/desk/rows/?ids={conv.id}, 99")) == [conv.id]
