"""Auto-assignment of new conversations to the team's ONLINE agents (presence), from ingest."""
import pytest

from apps.accounts import presence
from apps.inbox.models import Conversation, ConversationEvent, Notification
from apps.inbox.services.conversations import conversation_update
from apps.routing.models import TeamRouting
from tests.builders import conversations, events_heard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nobody_connected():
    presence._clear()
    yield
    presence._clear()


def _online(*users, status=presence.ONLINE):
    for user in users:
        presence.socket_seen(user_id=user.id, socket=f"test-socket-{user.id}")
        presence.status_set(user_id=user.id, status=status)


def _assignees(convs):
    by_id = dict(Conversation.objects.filter(pk__in=[c.id for c in convs]).values_list("id", "assignee_id"))
    return [by_id[c.id] for c in convs]


def test_round_robin_among_online_agents_only(make_user, team, make_account, inbound):
    # given a team routed round robin: two agents online, one away, one offline, a supervisor online
    a, b, away, offline = (make_user(teams=[team]) for _ in range(4))
    boss = make_user(role="supervisor", teams=[team])
    _online(a, b, boss)
    _online(away, status=presence.AWAY)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    # when 5 conversations arrive, in two batches
    first = conversations(inbound, make_account(team=team), 3)
    second = conversations(inbound, make_account(team=team), 2)
    # then they alternate between the two online agents, the turn carrying across batches
    assert _assignees(first + second) == [a.id, b.id, a.id, b.id, a.id]
    # and each assignment is audited as routing's and notified to the assignee
    event = ConversationEvent.objects.get(conversation=first[0], kind="assigned")
    assert (event.actor_id, event.data) == (None, {"from": None, "to": a.id, "by": "routing"})
    assert Notification.objects.filter(user=a, kind="assigned").count() == 3


def test_least_loaded_and_capacity(make_user, team, make_account, inbound):
    # given two online agents, A already holding 2 open conversations, capacity 3
    a, b = make_user(teams=[team]), make_user(teams=[team])
    held = conversations(inbound, make_account(team=team), 2)
    for conv in held:
        conversation_update(conversation=conv, actor=a, assignee=a)
    _online(a, b)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.LEAST_LOADED, max_open_per_agent=3)
    # when 5 new conversations arrive at once
    new = conversations(inbound, make_account(team=team), 5)
    # then B gets work until level with A, then turns alternate, and nobody goes past 3: one waits unassigned
    assert _assignees(new) == [b.id, b.id, a.id, b.id, None]


def test_nobody_online_or_manual_leaves_it_in_the_queue(make_user, team, make_account, inbound):
    other = make_user().teams.create(name="Manual team")
    agent = make_user(teams=[team, other])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    TeamRouting.objects.create(team=other, mode=TeamRouting.Mode.MANUAL)
    (offline_case,) = conversations(inbound, make_account(team=team), 1)
    _online(agent)
    (manual_case,) = conversations(inbound, make_account(team=other), 1)
    assert _assignees([offline_case, manual_case]) == [None, None]


def test_the_conversation_is_announced_already_assigned(make_user, team, make_account, inbound, django_capture_on_commit_callbacks):
    # given an online agent of a round-robin team, listening on their own group
    from apps.inbox.visibility import user_group

    agent = make_user(teams=[team])
    _online(agent)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    account = make_account(team=team)

    def arrive():
        with django_capture_on_commit_callbacks(execute=True):
            conversations(inbound, account, 1)

    # when a conversation arrives, then the agent hears it created with them as assignee, then the notification
    heard = events_heard([user_group(agent.id)], arrive)
    assert [e["type"] for e in heard] == ["conversation.created", "message.created", "notification"]
    assert heard[0]["conversation"]["assignee_id"] == agent.id
    assert heard[2]["notification"]["kind"] == "assigned"
