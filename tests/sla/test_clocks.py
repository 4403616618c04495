"""SLA clocks through the real services on PostgreSQL, with a controlled clock (time-machine):
due times in working time, pauses, the answer that stops a clock only once sent, next-response
and resolution clocks, reopening, a policy change mid-clock, and what never touches a clock."""
import pytest
import time_machine

from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.conversations import conversation_update, conversations_wake_snoozed
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import message_retry, note_create, reply_create
from apps.sla.models import Clock
from tests.builders import client_for
from tests.inbox.test_replies import SECRET, receiver  # noqa: F401  (a loopback customer system)

from .conftest import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_our_policies")]


def ingest(inbound, account, at, **kwargs):
    kwargs.setdefault("email", "ana@example.com")
    with time_machine.travel(at, tick=False):
        messages_ingest(messages=[inbound(account, sent_at=at, **kwargs)])
    return Conversation.objects.order_by("-last_activity_at", "-id").first()


def fresh(conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def row_sla(user, conversation, at) -> dict:
    with time_machine.travel(at, tick=False):
        return client_for(user).get(f"/api/conversations/{conversation.id}/").json()["sla"]


def test_a_tweet_on_friday_evening_is_due_on_saturday_morning(make_account, inbound, make_policy, make_user):
    # given a social policy: first response in 120 working minutes, warning at 75%
    make_policy(name="Social", channel_kind="twitter", first_response_minutes=120, next_response_minutes=60)
    twitter = make_account(kind="twitter")
    # when a customer tweets on Friday at 19:55
    conv = ingest(inbound, twitter, local(2026, 11, 20, 19, 55))
    # then the clock counts 5 minutes on Friday and the rest from Saturday 10:00
    assert (conv.sla_clock, conv.sla_due_at, conv.sla_warn_at) == (
        "first_response", local(2026, 11, 21, 11, 55), local(2026, 11, 21, 11, 25))
    # and the row says so: running now, until the desk closes at 20:00
    supervisor = make_user(role="supervisor")
    sla = row_sla(supervisor, conv, local(2026, 11, 20, 19, 55))
    assert (sla["state"], sla["remaining_seconds"], sla["ticking"]) == ("ok", 7200, True)
    assert sla["until"].startswith("2026-11-20T19:00:00")  # 20:00 in Madrid
    # and on Saturday at 09:00 (closed) nothing has been used up overnight: 115 minutes left, not ticking
    sla = row_sla(supervisor, conv, local(2026, 11, 21, 9, 0))
    assert (sla["state"], sla["remaining_seconds"], sla["ticking"]) == ("ok", 115 * 60, False)
    assert sla["until"].startswith("2026-11-21T09:00:00")  # opens at 10:00 Madrid
    # and at 11:30 it is due soon, at 12:00 breached (also as range filters on the stored times)
    assert row_sla(supervisor, conv, local(2026, 11, 21, 11, 30))["state"] == "warning"
    late = row_sla(supervisor, conv, local(2026, 11, 21, 12, 5))
    assert (late["state"], late["remaining_seconds"]) == ("breached", -600)  # 10 working minutes over
    # long breached, the badge just says so (no day-by-day count over months)
    assert row_sla(supervisor, conv, local(2027, 1, 15, 12, 0))["remaining_seconds"] is None
    with time_machine.travel(local(2026, 11, 21, 11, 30), tick=False):
        ids = [r["id"] for r in client_for(supervisor).get("/api/conversations/?sla=warning").json()["results"]]
    assert ids == [conv.id]


def test_pending_pauses_and_the_customer_writing_resumes_with_the_time_left(make_account, inbound, make_policy):
    make_policy(channel_kind="email", first_response_minutes=60, next_response_minutes=60)
    email = make_account(kind="email")
    conv = ingest(inbound, email, local(2026, 11, 17, 10, 0))
    assert conv.sla_due_at == local(2026, 11, 17, 11, 0)
    # when it waits on the customer (pending) at 10:20
    with time_machine.travel(local(2026, 11, 17, 10, 20), tick=False):
        conversation_update(conversation=conv, actor=None, status="pending")
    conv = fresh(conv)
    # then the clock is paused with 40 working minutes left, and no due time to breach
    assert (conv.sla_clock, conv.sla_due_at, conv.sla_warn_at, conv.sla_paused_seconds) == ("first_response", None, None, 2400)
    assert Conversation.objects.filter(sla_due_at__lte=local(2026, 11, 30)).count() == 0
    # when the customer writes at 13:50: open again, 10 minutes before lunch and 30 after it
    conv = ingest(inbound, email, local(2026, 11, 17, 13, 50))
    assert (conv.status, conv.sla_due_at, conv.sla_paused_seconds) == ("open", local(2026, 11, 17, 16, 30), None)
    assert Clock.objects.filter(conversation=conv).count() == 1  # the same clock went on


def test_snooze_pauses_and_waking_up_resumes(make_account, inbound, make_policy):
    make_policy(channel_kind="email", first_response_minutes=60)
    conv = ingest(inbound, make_account(kind="email"), local(2026, 11, 17, 10, 0))
    with time_machine.travel(local(2026, 11, 17, 10, 20), tick=False):
        conversation_update(conversation=conv, actor=None, snoozed_until=local(2026, 11, 17, 11, 0))
    assert fresh(conv).sla_paused_seconds == 2400
    with time_machine.travel(local(2026, 11, 17, 11, 0), tick=False):
        assert conversations_wake_snoozed() == 1
    assert (fresh(conv).status, fresh(conv).sla_due_at) == ("open", local(2026, 11, 17, 11, 40))


def test_a_failed_reply_does_not_stop_the_clock_a_sent_one_does(
    make_account, inbound, make_policy, make_user, receiver, eager_celery, django_capture_on_commit_callbacks  # noqa: F811
):
    # given a conversation on an API channel whose customer system refuses the first reply
    make_policy(channel_kind="api", first_response_minutes=60, next_response_minutes=30)
    account = make_account(settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET})
    conv = ingest(inbound, account, local(2026, 11, 17, 10, 0))
    agent = make_user()
    receiver.answers.append((400, {}, b'{"error": "unknown customer"}'))
    # when the agent replies at 10:10 and sending fails
    with time_machine.travel(local(2026, 11, 17, 10, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(conversation=conv, author=agent, text="Hola Ana")
    assert Message.objects.get(pk=reply.pk).delivery_status == "failed"
    # then the customer still waits: first response clock running, due at 11:00
    conv = fresh(conv)
    assert (conv.waiting_since is not None, conv.first_response_at, conv.sla_clock, conv.sla_due_at) == (
        True, None, "first_response", local(2026, 11, 17, 11, 0))
    # when it is retried at 10:30 and sent
    with time_machine.travel(local(2026, 11, 17, 10, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        message_retry(message=reply, actor=agent)
    assert Message.objects.get(pk=reply.pk).delivery_status == "sent"
    # then the clock stops, met
    conv = fresh(conv)
    assert (conv.waiting_since, conv.first_response_at, conv.sla_clock, conv.sla_due_at) == (
        None, local(2026, 11, 17, 10, 30), "", None)
    first = Clock.objects.get(conversation=conv, kind="first_response")
    assert (first.status, first.stopped_at, first.breached_at) == ("stopped", local(2026, 11, 17, 10, 30), None)
    # when the customer writes again at 13:45: the next-response clock (30 min) runs across lunch
    conv = ingest(inbound, account, local(2026, 11, 17, 13, 45))
    assert (conv.sla_clock, conv.sla_due_at) == ("next_response", local(2026, 11, 17, 16, 15))


def test_resolving_stops_and_reopening_starts_a_new_resolution_clock(make_account, inbound, make_policy):
    make_policy(channel_kind="email", first_response_minutes=60, resolution_minutes=8 * 60)
    email = make_account(kind="email")
    conv = ingest(inbound, email, local(2026, 11, 17, 10, 0), thread_key="order-1")
    # two clocks: the response due first is the one on the row
    due = dict(Clock.objects.filter(conversation=conv).values_list("kind", "due_at"))
    assert due == {"first_response": local(2026, 11, 17, 11, 0), "resolution": local(2026, 11, 17, 20, 0)}
    assert (conv.sla_clock, conv.sla_due_at) == ("first_response", local(2026, 11, 17, 11, 0))
    # when resolved at 12:00, every clock stops
    with time_machine.travel(local(2026, 11, 17, 12, 0), tick=False):
        conversation_update(conversation=conv, actor=None, status="resolved")
    conv = fresh(conv)
    assert (conv.sla_clock, conv.sla_due_at) == ("", None)
    assert set(Clock.objects.filter(conversation=conv).values_list("status", flat=True)) == {"stopped"}
    # when the customer writes back on Wednesday at 10:00, it reopens with a new resolution clock
    conv = ingest(inbound, email, local(2026, 11, 18, 10, 0), thread_key="order-1")
    assert conv.status == "open" and ConversationEvent.objects.filter(conversation=conv, kind="reopened").exists()
    resolution = list(Clock.objects.filter(conversation=conv, kind="resolution").order_by("id").values_list("status", "due_at"))
    assert resolution == [("stopped", local(2026, 11, 17, 20, 0)), ("running", local(2026, 11, 18, 20, 0))]


def test_a_policy_change_mid_clock_keeps_the_time_used_and_is_audited(make_account, inbound, make_policy, team):
    # given Normal: 240 working minutes, Urgent: 120, and the VIP team's own policy: 90
    normal = make_policy(name="Normal", priority=1, first_response_minutes=240, position=30)
    urgent = make_policy(name="Urgent", priority=3, first_response_minutes=120, position=20)
    vip = make_policy(name="VIP team", team=team, first_response_minutes=90, position=10)
    conv = ingest(inbound, make_account(kind="email"), local(2026, 11, 17, 10, 0))
    assert (conv.sla_policy_id, conv.sla_due_at) == (normal.id, local(2026, 11, 17, 14, 0))
    # when it becomes urgent at 11:00 (60 minutes used): 60 of the 120 are left
    with time_machine.travel(local(2026, 11, 17, 11, 0), tick=False):
        conversation_update(conversation=conv, actor=None, priority=3)
    conv = fresh(conv)
    assert (conv.sla_policy_id, conv.sla_due_at) == (urgent.id, local(2026, 11, 17, 12, 0))
    # when moved to the VIP team at 11:10 (70 used): 20 of the 90 are left
    with time_machine.travel(local(2026, 11, 17, 11, 10), tick=False):
        conversation_update(conversation=conv, actor=None, team=team)
    conv = fresh(conv)
    assert (conv.sla_policy_id, conv.sla_due_at) == (vip.id, local(2026, 11, 17, 11, 30))
    # then each re-pick is in the audit trail
    picks = list(ConversationEvent.objects.filter(conversation=conv, kind="sla_policy").order_by("id").values_list("data", flat=True))
    assert picks == [
        {"from": normal.id, "to": urgent.id, "name": "Urgent"},
        {"from": urgent.id, "to": vip.id, "name": "VIP team"},
    ]


def test_a_tag_picks_the_vip_policy(make_account, inbound, make_policy):
    make_policy(name="Email", channel_kind="email", first_response_minutes=240, position=20)
    vip = make_policy(name="VIP", tag="vip", first_response_minutes=30, position=10)
    conv = ingest(inbound, make_account(kind="email"), local(2026, 11, 17, 10, 0))
    with time_machine.travel(local(2026, 11, 17, 10, 5), tick=False):
        conversation_update(conversation=conv, actor=None, tags=["vip"])
    conv = fresh(conv)
    assert (conv.sla_policy_id, conv.sla_due_at) == (vip.id, local(2026, 11, 17, 10, 30))


def test_a_vip_customer_gets_the_vip_policy_on_a_new_conversation(make_account, inbound, make_policy):
    # given a customer tagged VIP (apps/crm: customer tags) from an earlier conversation
    from apps.crm.services import customer_tags_set

    make_policy(name="Email", channel_kind="email", first_response_minutes=240, position=20)
    vip = make_policy(name="VIP", tag="vip", first_response_minutes=30, position=10)
    email = make_account(kind="email")
    first = ingest(inbound, email, local(2026, 11, 16, 10, 0))
    customer_tags_set(customer=first.customer, tags=["VIP"])
    # when she writes a new conversation
    conv = ingest(inbound, email, local(2026, 11, 17, 10, 0), thread_key="another-order")
    # then the VIP policy counts it, though the conversation itself carries no tag
    conv = fresh(conv)
    assert conv.customer_id == first.customer_id and conv.id != first.id
    assert (conv.sla_policy_id, conv.sla_due_at) == (vip.id, local(2026, 11, 17, 10, 30))


def test_notes_spam_and_automated_mail_never_start_or_stop_a_clock(make_account, inbound, make_policy, make_user):
    make_policy(channel_kind="email", first_response_minutes=60)
    email = make_account(kind="email")
    conv = ingest(inbound, email, local(2026, 11, 17, 10, 0))
    # a note does not answer the customer
    with time_machine.travel(local(2026, 11, 17, 10, 30), tick=False):
        note_create(conversation=conv, author=make_user(), text="@nadie mirando el pedido")
    assert (fresh(conv).sla_clock, fresh(conv).sla_due_at) == ("first_response", local(2026, 11, 17, 11, 0))
    # an automated mail (an auto-reply, a bounce) starts nothing
    auto = ingest(inbound, email, local(2026, 11, 17, 10, 40), email="mailer-daemon@example.com", opens_conversation=False)
    assert (auto.status, auto.sla_clock) == ("resolved", "")
    assert not Clock.objects.filter(conversation=auto).exists()
    # spam: every clock stops, and a new message on it starts none
    with time_machine.travel(local(2026, 11, 17, 10, 50), tick=False):
        conversation_update(conversation=conv, actor=None, status="spam")
    ingest(inbound, email, local(2026, 11, 17, 11, 0), thread_key="", references=[m.external_id for m in conv.messages.all()])
    conv = fresh(conv)
    assert (conv.status, conv.sla_clock, conv.sla_due_at) == ("spam", "", None)
    assert not Clock.objects.filter(conversation=conv).exclude(status="stopped").exists()


def test_a_call_back_answers_a_missed_call(make_account, inbound, make_policy):
    make_policy(channel_kind="phone", first_response_minutes=30)
    phone = make_account(kind="phone")
    missed = ingest(inbound, phone, local(2026, 11, 17, 10, 0), email=None, phone="+34600111222", kind="call",
                    text="Missed call", thread_key="")
    assert (missed.sla_clock, missed.sla_due_at) == ("first_response", local(2026, 11, 17, 10, 30))
    # the agent calls back (an answered outbound call): the customer no longer waits
    back = ingest(inbound, phone, local(2026, 11, 17, 10, 20), email=None, phone="+34600111222", kind="call",
                  text="Call back", direction="out", thread_key="")
    assert back.pk == missed.pk
    assert (back.sla_clock, back.sla_due_at) == ("", None)
    assert Clock.objects.get(conversation=back).stopped_at == local(2026, 11, 17, 10, 20)


@pytest.mark.django_db(transaction=True)  # foreign keys are checked at commit: this one commits
def test_a_process_with_a_moment_old_policy_cache_does_not_fail_ingest(make_account, inbound, make_policy):
    # given this process holds a policy that another process has just deleted (its cache lags ~2 s)
    from apps.sla.book import book
    from apps.sla.models import SlaPolicy

    policy = make_policy(channel_kind="email", first_response_minutes=60)
    assert book().pick(channel_kind="email", team_id=None, priority=1, tags=()).id == policy.id
    SlaPolicy.objects.filter(pk=policy.pk).delete()  # a bare delete: nobody told this process
    # when a message arrives, then it is stored, with a clock naming the stale policy (not an error)
    conv = ingest(inbound, make_account(kind="email"), local(2026, 11, 17, 10, 0))
    assert (conv.sla_clock, conv.sla_due_at) == ("first_response", local(2026, 11, 17, 11, 0))
