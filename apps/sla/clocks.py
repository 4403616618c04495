"""The clocks of a conversation, brought in line with its state (connected to apps/inbox/clocks.py).

One rule, applied whenever the inbox changes something a clock depends on:

- the policy: the first enabled one matching (channel, team, priority, tag); when it changes the
  running clocks keep the working time already used and take the new target (audited);
- a response clock (first response until the first reply is sent, then next response) runs while
  a customer waits (Conversation.waiting_since: set by a customer message that opens or reopens
  a conversation, cleared by a reply actually sent, an echo or a call-back; a note, spam or an
  automated mail never touch it), from the moment they started waiting;
- a resolution clock runs from the (re)opening until resolved; reopening starts a new one;
- open: clocks run; pending or snoozed: paused (the working time left is kept); resolved or spam:
  stopped.

Time is working time of the policy's calendar. The conversation's summary (the clock due first)
goes back through the inbox's service; this module writes only Clock rows.
Callers hold the conversation rows locked (lock order: conversation, then its clocks).
"""
from collections import defaultdict
from datetime import datetime, timedelta

from apps.core.bulk import rows_insert, rows_update
from apps.crm.models import Customer
from apps.inbox.channels import account_kinds
from apps.inbox.events import tags_of
from apps.inbox.models import UNFINISHED, Conversation, ConversationEvent
from apps.inbox.services.clocks import conversations_sla_set

from .book import Book, book
from .models import Clock, SlaPolicy
from .worktime import Schedule, add_working, next_change, working_seconds

RUNNING_STATUS = Conversation.Status.OPEN


def clocks_sync(conversations: list[Conversation], *, now: datetime) -> None:
    current = book()
    if not current.policies and not any(c.sla_clock or c.sla_policy_id for c in conversations):
        return  # no policy, no clock: nothing to do (and no query)
    kinds = account_kinds({c.channel_account_id for c in conversations})
    tags = _tags(conversations) if any(p.tag for p in current.policies) else {}
    open_clocks = defaultdict(list)
    # A conversation has open clocks exactly when its summary names one: new ones cost no query.
    with_clocks = [c.pk for c in conversations if c.sla_clock]
    if with_clocks:
        for clock in Clock.objects.filter(conversation_id__in=with_clocks).exclude(status=Clock.Status.STOPPED).order_by("id"):
            open_clocks[clock.conversation_id].append(clock)

    new, changed, summaries, events = [], [], [], []
    for c in conversations:
        policy = _policy(current, c, kinds, tags.get(c.pk, ()))
        clocks = open_clocks.get(c.pk, [])
        made, touched = _sync_one(c, policy, clocks, now, current)
        new += made
        changed += touched
        summary = _summary(policy, [k for k in clocks + made if k.status != Clock.Status.STOPPED])
        if c.sla_policy_id is not None and summary["sla_policy_id"] != c.sla_policy_id:
            events.append(ConversationEvent(
                conversation_id=c.pk, kind=ConversationEvent.Kind.SLA_POLICY,
                data={"from": c.sla_policy_id, "to": summary["sla_policy_id"], "name": policy.name if policy else None},
            ))
        if any(getattr(c, name) != value for name, value in summary.items()):
            summaries.append((c, summary))
    rows_insert(new)
    rows_update(changed, _CLOCK_FIELDS)
    conversations_sla_set(changes=summaries, events=events)


def clocks_start(conversations: list[Conversation], *, now: datetime):
    """New conversations, before their INSERT: the same rule as clocks_sync for a conversation with
    no clock yet, the summary set on the objects (the INSERT stores it) and their clocks written by
    the returned write(saved) once they have ids. A new conversation has no tags of its own yet:
    only its customer's count."""
    current = book()
    if not current.policies:
        return lambda saved: None
    kinds = account_kinds({c.channel_account_id for c in conversations})
    tags = _customer_tags(conversations) if any(p.tag for p in current.policies) else {}
    clocks_of = {}
    for c in conversations:
        policy = _policy(current, c, kinds, tags.get(c.customer_id, ()))
        made, _ = _sync_one(c, policy, [], now, current)
        for name, value in _summary(policy, made).items():
            setattr(c, name, value)
        clocks_of[id(c)] = made

    def write(saved: list[Conversation]) -> None:
        rows_insert([clock for c in saved for clock in clocks_of.get(id(c), ())])

    return write


def _policy(current: Book, c: Conversation, kinds: dict, tags) -> SlaPolicy | None:
    """The policy of a conversation: by its channel, team, priority and tags (clocks_sync, clocks_start)."""
    return current.pick(channel_kind=kinds.get(c.channel_account_id, ""), team_id=c.team_id, priority=c.priority, tags=tags)


def _customer_tags(conversations: list[Conversation]) -> dict[int, set[str]]:
    rows = Customer.objects.filter(pk__in={c.customer_id for c in conversations}).values_list("id", "tags")
    return {customer_id: {t.lower() for t in tags or ()} for customer_id, tags in rows}


def _tags(conversations: list[Conversation]) -> dict[int, set[str]]:
    """A policy's tag matches the conversation's tags and its customer's (a VIP customer is VIP on
    every conversation): two queries for the whole batch."""
    by_conversation = tags_of(conversations)
    customer_tags = _customer_tags(conversations)
    return {c.pk: {*by_conversation.get(c.pk, ()), *customer_tags.get(c.customer_id, ())} for c in conversations}


_CLOCK_FIELDS = ["policy", "status", "target_seconds", "warning_percent", "elapsed_seconds", "segment_start", "due_at",
                 "warn_at", "stopped_at", "next_check_at"]


def _sync_one(c: Conversation, policy: SlaPolicy | None, clocks: list[Clock], now: datetime, current: Book):
    wanted = {}  # "response" / "resolution" -> (kind, started_at)
    if policy is not None and c.status in UNFINISHED:
        if c.waiting_since is not None:
            kind = Clock.Kind.FIRST_RESPONSE if c.first_response_at is None else Clock.Kind.NEXT_RESPONSE
            if policy.target_minutes(kind):
                wanted["response"] = (kind, min(c.waiting_since, now))
        if policy.resolution_minutes:
            wanted["resolution"] = (Clock.Kind.RESOLUTION, min(c.waiting_since or now, now))
    running = c.status == RUNNING_STATUS
    schedule = current.schedule_of(policy.id) if policy else None
    touched, have = [], set()
    for clock in clocks:
        group = "response" if clock.is_response else "resolution"
        if group not in wanted or wanted[group][0] != clock.kind:
            _stop(clock, now, current)
            touched.append(clock)
            continue
        have.add(group)
        if clock.policy_id != policy.id:
            _rebase(clock, policy, now, current)
        _run_or_pause(clock, running, now, schedule)
        touched.append(clock)
    made = []
    for group, (kind, started_at) in wanted.items():
        if group in have:
            continue
        clock = Clock(
            conversation=c, policy=policy, kind=kind, status=Clock.Status.RUNNING,  # its id once saved (clocks_start)
            target_seconds=policy.target_minutes(kind) * 60, warning_percent=policy.warning_percent,
            started_at=started_at, segment_start=started_at,
        )
        _run_or_pause(clock, running, now, schedule)
        made.append(clock)
    return made, touched


def _stop(clock: Clock, now: datetime, current: Book) -> None:
    if clock.status == Clock.Status.RUNNING:
        clock.elapsed_seconds += max(0.0, working_seconds(clock.segment_start, now, current.schedule_of(clock.policy_id)))
    clock.status = Clock.Status.STOPPED
    clock.stopped_at = now
    clock.segment_start = None
    clock.next_check_at = None


def _rebase(clock: Clock, policy: SlaPolicy, now: datetime, current: Book) -> None:
    """A new policy mid-clock: the working time used so far (on the old calendar) is kept; the new
    target and calendar count from here."""
    if clock.status == Clock.Status.RUNNING:
        clock.elapsed_seconds += max(0.0, working_seconds(clock.segment_start, now, current.schedule_of(clock.policy_id)))
        clock.segment_start = now
    clock.policy = policy
    clock.target_seconds = policy.target_minutes(clock.kind) * 60
    clock.warning_percent = policy.warning_percent


def _run_or_pause(clock: Clock, running: bool, now: datetime, schedule: Schedule) -> None:
    if running and clock.status == Clock.Status.PAUSED:
        clock.segment_start = now
    elif not running and clock.status == Clock.Status.RUNNING:
        clock.elapsed_seconds += max(0.0, working_seconds(clock.segment_start, now, schedule))
        clock.segment_start = None
    clock.status = Clock.Status.RUNNING if running else Clock.Status.PAUSED
    if running:
        left = clock.target_seconds - clock.elapsed_seconds
        clock.due_at = add_working(clock.segment_start, left, schedule)
        clock.warn_at = add_working(clock.segment_start, left - clock.target_seconds * (100 - clock.warning_percent) / 100, schedule)
    else:
        clock.due_at = clock.warn_at = None
    clock.next_check_at = _next_check(clock)


def _next_check(clock: Clock) -> datetime | None:
    if clock.status != Clock.Status.RUNNING or clock.breached_at is not None:
        return None
    return clock.warn_at if clock.warned_at is None else clock.due_at


def remaining_seconds(clock: Clock) -> int:
    return int(clock.target_seconds - clock.elapsed_seconds)


def _summary(policy: SlaPolicy | None, clocks: list[Clock]) -> dict:
    """The clock that matters on the conversation's row: the running one due first, else the paused
    one with the least working time left."""
    summary = {"sla_policy_id": policy.id if policy else None, "sla_clock": "", "sla_due_at": None, "sla_warn_at": None,
               "sla_paused_seconds": None}
    running = [k for k in clocks if k.status == Clock.Status.RUNNING]
    paused = [k for k in clocks if k.status == Clock.Status.PAUSED]
    if running:
        active = min(running, key=lambda k: k.due_at)
        summary.update(sla_clock=active.kind, sla_due_at=active.due_at, sla_warn_at=active.warn_at)
    elif paused:
        active = min(paused, key=remaining_seconds)
        summary.update(sla_clock=active.kind, sla_paused_seconds=remaining_seconds(active))
    return summary


COUNT_OVERDUE_FOR = timedelta(days=31)


def describe(conversation: Conversation, now: datetime) -> dict:
    """Working-time detail of the row's active clock, for the badge's countdown."""
    if conversation.sla_due_at is None:
        return {}
    if now - conversation.sla_due_at > COUNT_OVERDUE_FOR:
        return {"remaining_seconds": None}  # long breached: "breached" says it all, no day-by-day count
    schedule = book().schedule_of(conversation.sla_policy_id)
    ticking, until = next_change(now, schedule)
    return {
        "remaining_seconds": int(working_seconds(now, conversation.sla_due_at, schedule)),
        "ticking": ticking,
        "until": until.isoformat() if until else None,
    }
