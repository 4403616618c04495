"""Notes with @mentions and assignments notify; notifications are listed and marked read per user."""
import pytest

from apps.accounts.models import Role
from apps.inbox.models import Notification
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.notifications import mentioned_usernames
from apps.inbox.visibility import user_group
from tests.builders import client_for, conversations, events_heard

pytestmark = pytest.mark.django_db


def test_mentions_are_read_from_the_text():
    assert mentioned_usernames("@laura mira esto, y @david.r también. Thanks @laura.") == ["laura", "david.r"]
    assert mentioned_usernames("write to ana@example.com") == []


def test_a_mention_in_a_note_notifies_who_can_see_it(make_user, team, make_account, inbound, django_capture_on_commit_callbacks):
    # given an author, a colleague of the team, an agent of another team, a supervisor
    author = make_user(username="sara", teams=[team])
    laura = make_user(username="laura", teams=[team])
    outsider = make_user(username="david", teams=[make_user().teams.create(name="Social")])
    make_user(username="boss", role=Role.SUPERVISOR)  # sees everything: notified
    (conv,) = conversations(inbound, make_account(team=team), 1)

    def post_note():
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(author).post(
                f"/api/conversations/{conv.id}/messages/",
                {"text": "@laura @david @boss @sara @nobody cliente VIP", "kind": "note"}, format="json",
            )
        assert response.status_code == 201, response.content

    # when the note is posted (listening on Laura's own group)
    heard = events_heard([user_group(laura.id)], post_note)
    # then Laura and the supervisor are notified; not the outsider (cannot see it), the author, or an unknown name
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"laura", "boss"}
    (event,) = [e for e in heard if e["type"] == "notification"]
    n = event["notification"]
    assert (n["kind"], n["conversation_id"]) == ("mention", conv.id)
    assert n["text"].startswith("sara mentioned you: @laura")
    assert set(n) == {"id", "kind", "conversation_id", "link", "text", "created_at", "read_at"}
    assert not Notification.objects.filter(user=outsider).exists()


def test_assignment_by_someone_else_notifies_the_assignee(make_user, team, make_account, inbound):
    boss, agent = make_user(role=Role.SUPERVISOR), make_user(teams=[team])
    a, b = conversations(inbound, make_account(team=team), 2)
    conversation_update(conversation=a, actor=boss, assignee=agent)
    conversation_update(conversation=b, actor=agent, assignee=agent)  # took it themselves: no notification
    (n,) = Notification.objects.filter(user=agent)
    assert (n.kind, n.conversation_id, n.actor_id) == ("assigned", a.id, boss.id)
    assert n.text.startswith(f"Conversation #{a.id} assigned to you by {boss.username}")


def test_list_unread_and_mark_read(make_user, team, make_account, inbound, django_assert_max_num_queries):
    boss, agent, other = make_user(role=Role.SUPERVISOR), make_user(teams=[team]), make_user(teams=[team])
    convs = conversations(inbound, make_account(team=team), 3)
    for conv in convs:
        conversation_update(conversation=conv, actor=boss, assignee=agent)
    conversation_update(conversation=convs[0], actor=boss, assignee=other)
    client = client_for(agent)
    # when the agent lists them (newest first), then marks two read (and tries someone else's)
    with django_assert_max_num_queries(3):
        listed = client.get("/api/notifications/?unread=1").json()["results"]
    assert [n["conversation_id"] for n in listed] == [c.id for c in reversed(convs)]
    theirs = Notification.objects.get(user=other).id
    response = client.post("/api/notifications/read/", {"ids": [listed[0]["id"], listed[1]["id"], theirs]}, format="json")
    # then only the agent's own two changed
    assert response.json() == {"updated": 2}
    assert [n["id"] for n in client.get("/api/notifications/?unread=1").json()["results"]] == [listed[2]["id"]]
    assert len(client.get("/api/notifications/").json()["results"]) == 3
    assert Notification.objects.get(pk=theirs).read_at is None


def test_a_supervisor_mentioned_hears_it_live_on_the_groups_their_socket_joins(make_user, team, make_account, inbound, django_capture_on_commit_callbacks):
    # given a supervisor (whose socket joins the everything-group) and an agent's conversation
    from apps.inbox.visibility import groups_for_user

    boss = make_user(username="jefa", role=Role.SUPERVISOR)
    author = make_user(username="ana", teams=[team])
    (conv,) = conversations(inbound, make_account(team=team), 1)

    def post_note():
        with django_capture_on_commit_callbacks(execute=True):
            client_for(author).post(f"/api/conversations/{conv.id}/messages/", {"text": "@jefa ¿lo aprobamos?", "kind": "note"}, format="json")

    # when the note mentions her, listening on exactly the groups her socket joins
    heard = events_heard(groups_for_user(boss), post_note)
    # then the notification reaches her desk live (once, whatever the groups' overlap)
    assert [e["notification"]["kind"] for e in heard if e["type"] == "notification"] == ["mention"]
