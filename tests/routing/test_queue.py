"""The queue is handed out when room appears: an agent comes online or back from away, resolves,
snoozes or is unassigned, a conversation is reopened or wakes — highest priority first, then oldest.
An agent offline past the team's grace period hands their unanswered work back. On PostgreSQL."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.db import connection

from apps.accounts import presence
from apps.inbox.models import Conversation, ConversationEvent, Notification
from apps.inbox.queue import agent_available
from apps.inbox.services.conversations import conversation_update, conversations_wake_snoozed
from apps.inbox.services.ingest import messages_ingest
from apps.routing.assignment import agents_offline_release, queue_order
from apps.routing.models import TeamRouting
from tests.builders import client_for
from tests.conftest import frame_events
from tests.live_server import desk_socket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(autouse=True)
def nobody_connected():
    presence._clear()
    yield
    presence._clear()


def _online(*users, status=presence.ONLINE):
    for user in users:
        presence.socket_seen(user_id=user.id, socket=f"test-socket-{user.id}")
        presence.status_set(user_id=user.id, status=status)


def _offline(*users):
    for user in users:
        presence.socket_gone(user_id=user.id, socket=f"test-socket-{user.id}")


def _arrive(inbound, account, *priorities, start=0):
    """One new conversation per priority, a minute apart (the first is the oldest)."""
    convs = []
    for i, priority in enumerate(priorities):
        ids = messages_ingest(messages=[inbound(account, email=f"q{start + i}-{account.id}@example.com",
                                                minutes=start + i, priority=priority)]).message_ids
        convs.append(Conversation.objects.get(messages__id=ids[0]))
    return convs


def _holder(conv) -> int | None:
    return Conversation.objects.values_list("assignee_id", flat=True).get(pk=conv.pk)


@pytest.mark.django_db
def test_coming_online_hands_out_the_queue_by_priority_then_age(make_user, team, make_account, inbound):
    # given a round-robin team with capacity 2 and nobody online: four conversations wait
    agent = make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, max_open_per_agent=2)
    low, normal_old, normal_new, urgent = _arrive(inbound, make_account(team=team), 0, 1, 1, 3)
    assert [_holder(c) for c in (low, normal_old, normal_new, urgent)] == [None] * 4
    # when the agent comes online
    _online(agent)
    agent_available(user_id=agent.id)
    # then they get the urgent one and the older normal one, and nothing past capacity
    assert [_holder(c) for c in (low, normal_old, normal_new, urgent)] == [None, agent.id, None, agent.id]
    event = ConversationEvent.objects.get(conversation=urgent, kind="assigned")
    assert (event.actor, event.data) == (None, {"from": None, "to": agent.id, "by": "routing"})
    assert Notification.objects.filter(user=agent, kind="assigned").count() == 2


@pytest.mark.django_db
def test_the_queue_order_is_one_function():
    # highest priority first, then the SLA due first, then the oldest waiting, then the oldest created
    sql = str(Conversation.objects.order_by(*queue_order()).query)
    order = sql.split("ORDER BY")[1]
    assert (order.index('"priority" DESC') < order.index('"sla_due_at" ASC NULLS LAST')
            < order.index('"waiting_since" ASC NULLS LAST') < order.index('"created_at" ASC'))


@pytest.mark.django_db
def test_within_a_priority_the_conversation_due_first_is_handed_out_first(make_user, team, make_account, inbound):
    # given: two Normal conversations waiting; the newer one's SLA clock is due first (a stricter policy)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    older, newer = _arrive(inbound, make_account(team=team), 1, 1)
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    Conversation.objects.filter(pk=older.pk).update(sla_due_at=soon + timedelta(hours=4))
    Conversation.objects.filter(pk=newer.pk).update(sla_due_at=soon)
    agent = make_user(teams=[team], max_open=1)
    # when the agent comes online with room for one
    _online(agent)
    agent_available(user_id=agent.id)
    # then the one due first is theirs
    assert [_holder(c) for c in (older, newer)] == [None, agent.id]


@pytest.mark.django_db
def test_resolving_or_snoozing_below_capacity_hands_out_the_next(make_user, team, make_account, inbound, django_assert_max_num_queries):
    # given an online agent with capacity 1 holding one conversation, two more waiting (the newer one High)
    agent = make_user(teams=[team], max_open=1)
    _online(agent)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    account = make_account(team=team)
    (held,) = _arrive(inbound, account, 1)
    older, high = _arrive(inbound, account, 1, 2, start=1)
    assert [_holder(c) for c in (held, older, high)] == [agent.id, None, None]
    # when they resolve theirs: the High one comes next, in the same transaction
    with django_assert_max_num_queries(30):  # the resolve, its SLA clocks, then one hand-out (26 measured)
        conversation_update(conversation=held, actor=agent, status=Conversation.Status.RESOLVED)
    assert [_holder(c) for c in (older, high)] == [None, agent.id]
    # and when they snooze that one, the older Normal one comes
    conversation_update(conversation=high, actor=agent, snoozed_until=datetime.now(timezone.utc) + timedelta(hours=1))
    assert _holder(older) == agent.id


@pytest.mark.django_db
def test_unassigning_and_waking_from_snooze_hand_out_at_once(make_user, team, make_account, inbound):
    # given two online agents of a round-robin team, capacity 1 each, both busy, an Urgent one waiting
    a, b = make_user(teams=[team]), make_user(teams=[team])
    boss = make_user(role="supervisor")
    _online(a, b)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, max_open_per_agent=1)
    account = make_account(team=team)
    first, second, urgent = _arrive(inbound, account, 1, 1, 3)
    assert [_holder(c) for c in (first, second, urgent)] == [a.id, b.id, None]
    # when a supervisor unassigns A's conversation: A has room, and the Urgent one goes first
    conversation_update(conversation=first, actor=boss, assignee=None)
    assert [_holder(c) for c in (first, urgent)] == [None, a.id]
    # when B resolves theirs, the one just unassigned goes to B
    conversation_update(conversation=second, actor=b, status="resolved")
    assert _holder(first) == b.id
    # when the resolved one is snoozed unassigned, B then resolves, and the snooze ends: it goes to B
    conversation_update(conversation=second, actor=boss, assignee=None,
                        snoozed_until=datetime.now(timezone.utc) + timedelta(minutes=5))
    conversation_update(conversation=first, actor=b, status="resolved")
    assert _holder(second) is None
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=6)):
        _online(a, b)  # their sockets' heartbeats
        assert conversations_wake_snoozed() == 1
    assert _holder(second) == b.id


@pytest.mark.django_db
def test_a_resolved_conversation_reopened_by_the_customer_is_handed_out(make_user, team, make_account, inbound):
    agent = make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    account = make_account(team=team)
    messages_ingest(messages=[inbound(account, email="back@example.com", thread_key="t-back")])
    conv = Conversation.objects.get(thread_key="t-back")
    conversation_update(conversation=conv, actor=None, status="resolved")
    _online(agent)
    # when the customer writes back
    messages_ingest(messages=[inbound(account, email="back@example.com", thread_key="t-back", minutes=30)])
    # then it is open again, with the online agent
    conv.refresh_from_db()
    assert (conv.status, conv.assignee_id) == ("open", agent.id)


@pytest.mark.django_db
def test_an_agents_own_capacity_overrides_the_teams_and_claiming_beyond_it_needs_force(make_user, team, make_account, inbound):
    # given a team capacity of 1 and an agent whose own capacity is 3
    senior = make_user(teams=[team], max_open=3)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, max_open_per_agent=1)
    convs = _arrive(inbound, make_account(team=team), 1, 1, 1, 1)
    _online(senior)
    agent_available(user_id=senior.id)
    assert [_holder(c) for c in convs] == [senior.id] * 3 + [None]
    # when they claim the fourth: 409 (at capacity); with force it is theirs
    client = client_for(senior)
    refused = client.post(f"/api/conversations/{convs[3].id}/claim/")
    assert refused.status_code == 409
    assert "capacity" in refused.json()["message"]
    assert _holder(convs[3]) is None
    assert client.post(f"/api/conversations/{convs[3].id}/claim/?force=1").status_code == 200
    assert _holder(convs[3]) == senior.id
    # a supervisor stepping in is not held to an agent's capacity
    boss = make_user(role="supervisor", max_open=0)
    assert client_for(boss).post(f"/api/conversations/{convs[3].id}/claim/?force=1").status_code == 200
    _offline(senior)  # (or the queue would hand it straight back to them)
    conversation_update(conversation=convs[2], actor=None, assignee=None)
    assert client_for(boss).post(f"/api/conversations/{convs[2].id}/claim/").status_code == 200


@pytest.mark.django_db
def test_back_from_away_counts_as_coming_online(make_user, team, make_account, inbound):
    agent = make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.LEAST_LOADED)
    _online(agent, status=presence.AWAY)
    (conv,) = _arrive(inbound, make_account(team=team), 1)
    assert _holder(conv) is None  # away: not a candidate
    presence.status_set(user_id=agent.id, status=presence.ONLINE)
    agent_available(user_id=agent.id)
    assert _holder(conv) == agent.id


@pytest.mark.django_db
def test_an_agent_offline_past_the_grace_period_hands_unanswered_work_back(make_user, team, make_account, inbound):
    # given a team with a 15-minute grace: A holds an unanswered and an answered (pending) conversation
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    a, b = make_user(teams=[team]), make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, offline_grace_minutes=15)
    account = make_account(team=team)
    with time_machine.travel(start, tick=False) as clock:
        _online(a)
        unanswered, answered = _arrive(inbound, account, 1, 1)
        conversation_update(conversation=answered, actor=a, status="pending")
        assert [_holder(c) for c in (unanswered, answered)] == [a.id, a.id]
        # when A's last socket closes and B comes online
        _offline(a)
        _online(b)
        agent_available(user_id=b.id)
        # then nothing moves within the grace period
        clock.shift(timedelta(minutes=14))
        presence.socket_seen(user_id=b.id, socket=f"test-socket-{b.id}")  # B's heartbeat
        assert agents_offline_release() == 0
        assert _holder(unanswered) == a.id
        # and past it the unanswered one returns to the queue and goes on to B; the pending one stays
        clock.shift(timedelta(minutes=2))
        presence.socket_seen(user_id=b.id, socket=f"test-socket-{b.id}")
        assert agents_offline_release() == 1
        assert agents_offline_release() == 0  # once
    assert [_holder(c) for c in (unanswered, answered)] == [b.id, a.id]
    back = ConversationEvent.objects.get(conversation=unanswered, kind="assigned", data__to=None)
    assert back.data == {"from": a.id, "to": None, "by": "routing", "reason": "offline", "grace_minutes": 15}


@pytest.mark.django_db
def test_no_grace_no_release_and_an_agent_whose_server_died_counts_as_offline(make_user, team, make_account, inbound, settings):
    # given two teams: one hands work back after 5 minutes, one never (blank grace)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    other = make_user().teams.create(name="No grace")
    a = make_user(teams=[team, other])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, offline_grace_minutes=5)
    TeamRouting.objects.create(team=other, mode=TeamRouting.Mode.ROUND_ROBIN, offline_grace_minutes=None)
    with time_machine.travel(start, tick=False) as clock:
        _online(a)
        (mine,) = _arrive(inbound, make_account(team=team), 1)
        (kept,) = _arrive(inbound, make_account(team=other), 1, start=5)
        # when A's server process dies (no disconnect: the socket entry just stops being refreshed)
        clock.shift(timedelta(seconds=settings.PRESENCE_TTL_SECONDS + 5 * 60 + 1))
        assert agents_offline_release() == 1
    assert [_holder(mine), _holder(kept)] == [None, a.id]


@pytest.mark.django_db(transaction=True)
def test_two_agents_coming_online_at_once_never_get_the_same_conversation(make_user, team, make_account, inbound):
    """Real threads on their own PostgreSQL connections. Each round: four conversations wait, two agents
    of capacity 1 come online at the same instant. The team's TeamRouting row (FOR UPDATE) makes
    the two hand-outs take turns: without it both read "A and B have room" and the queue, and the
    second gives A and B a second conversation each (or the same conversation twice)."""
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN, max_open_per_agent=1)
    account = make_account(team=team)
    for round_ in range(4):
        a, b = make_user(teams=[team]), make_user(teams=[team])
        convs = _arrive(inbound, account, 1, 1, 1, 1, start=10 * round_)
        barrier, errors = threading.Barrier(2), []

        def come_online(user):
            try:
                presence.socket_seen(user_id=user.id, socket=f"test-socket-{user.id}")
                barrier.wait(timeout=10)  # both are online before either hand-out starts
                agent_available(user_id=user.id)
            except Exception as exc:  # noqa: BLE001 — reported by the assertion below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=come_online, args=(u,)) for u in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        holders = [_holder(c) for c in convs]
        events = ConversationEvent.objects.filter(conversation__in=convs, kind="assigned").count()
        # then each got one (their capacity), two still wait, and no conversation was handed out twice
        assert sorted(h for h in holders if h) == sorted([a.id, b.id]), holders
        assert events == 2
        for conv in convs:  # the next round starts from an empty queue with everyone at capacity
            conversation_update(conversation=conv, actor=None, status="spam")
        _offline(a, b)


def test_a_real_desk_socket_opening_hands_out_the_queue(desk_server, make_user, team, make_account, inbound):
    # given a queued conversation of a round-robin team, nobody online
    agent = make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    (conv,) = _arrive(inbound, make_account(team=team), 2)
    assert _holder(conv) is None
    # when the agent opens the desk (a real websocket on the real server)
    with desk_socket(desk_server, user=agent) as ws:
        frames = []
        while not any(f["type"] == "hello" for f in frames):
            frames.extend(frame_events(ws.recv(timeout=10)))
        # then it is theirs before the server says hello, and they hear it
        assert _holder(conv) == agent.id
        while not any(f["type"] == "notification" for f in frames):
            frames.extend(frame_events(ws.recv(timeout=10)))
    assert any(f["type"] == "conversation.updated" and f["conversation"]["assignee_id"] == agent.id for f in frames)


@pytest.mark.django_db(transaction=True)
def test_on_the_desk_socket_away_then_back_online_hands_out_what_queued_meanwhile(make_user, team, make_account, inbound):
    from asgiref.sync import async_to_sync, sync_to_async
    from channels.testing import WebsocketCommunicator

    from config.asgi import application
    from tests.live_server import session_cookie

    agent = make_user(teams=[team])
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    account = make_account(team=team)
    headers = [(b"origin", b"http://testserver"), (b"cookie", session_cookie(agent).encode())]

    async def scenario():
        ws = WebsocketCommunicator(application, "/ws/desk/", headers=headers)
        await ws.connect()
        assert (await ws.receive_json_from(timeout=10))["type"] == "hello"
        # when the agent goes away, a conversation arrives and waits
        await ws.send_json_to({"type": "presence", "status": "away"})
        await ws.receive_nothing(timeout=0.5)
        (conv,) = await sync_to_async(_arrive)(inbound, account, 1)
        waiting = await sync_to_async(_holder)(conv)
        # and when they are back online, it is theirs
        await ws.send_json_to({"type": "presence", "status": "online"})
        heard = []
        while not await ws.receive_nothing(timeout=1):  # until a quiet second: the frame was handled
            heard.extend(e["type"] for e in frame_events(await ws.receive_json_from()))
        back = await sync_to_async(_holder)(conv)
        assert "notification" in heard  # they heard it live
        await ws.disconnect()
        return waiting, back

    assert async_to_sync(scenario)() == (None, agent.id)
