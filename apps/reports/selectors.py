"""Reads of the supervisor's room: the wallboard snapshot and the period reports.

Every figure is an SQL aggregate (GROUP BY with COUNT / percentile_cont / FILTER); no
conversation or message row is loaded into Python (the at-risk list, at most
WALLBOARD_AT_RISK rows, is the one list). Days and hours are the company's
(settings.REPORTS_TIME_ZONE, default TIME_ZONE). SLA facts come from the SLA clocks, read in one place (sla.py).

Sources on PostgreSQL: the app's own narrow tables, kept in step with the inbox by triggers in
the writer's transaction (models.py, rollups.py), so every figure is exact at once:
- inbound volume and the heatmap: InboundRollup, inbound messages per 15 minutes x channel x team;
- first response, next response, resolution times, agent performance, the backlog: Fact rows
  (one per first response, reply, resolution, opening), with wall-clock and working-time seconds;
  medians and p90 are exact percentile_cont over those rows (no histogram approximation).
Elsewhere (the embedded SQLite quick start: no triggers) the same figures come straight from the
inbox's tables: messages by sent_at; Conversation.first_inbound_at / first_response_at; the audit
trail's "replied" events (which carry how long the customer had waited), "status" events to
resolved, "created" / "reopened" events.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, FloatField, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, ExtractHour, ExtractIsoWeekDay, TruncDate, TruncWeek
from django.utils import timezone

from apps.accounts import presence
from apps.accounts.models import Role, Team, User
from apps.connectors.models import ChannelKind
from apps.csat.selectors import csat_figures
from apps.inbox.models import IN_QUEUE, Conversation, ConversationEvent, Message
from apps.inbox.visibility import report_team_scope
from apps.routing.assignment import capacity_of
from apps.routing.models import TeamRouting

from . import sla
from .models import Fact, InboundRollup
from .sql import Percentile, Seconds

MAX_PERIOD_DAYS = 366
WALLBOARD_AT_RISK = 20
# Distribution buckets of response / resolution times: (key, upper bound in seconds).
BUCKETS = [("under_5m", 300), ("5m_15m", 900), ("15m_1h", 3600), ("1h_4h", 14400), ("4h_24h", 86400), ("over_24h", None)]
CHANNEL_LABELS = dict(ChannelKind.choices)


def company_tz() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "REPORTS_TIME_ZONE", None) or settings.TIME_ZONE)


@dataclass(frozen=True)
class ReportFilters:
    """A period of whole days in the company's time zone [start, end], and who / what."""

    start: date
    end: date
    team_ids: tuple[int, ...] | None = None  # None: every team (and conversations with none)
    channel: str | None = None
    bucket: str = "day"  # SLA trend: day or week
    tz: ZoneInfo = field(default_factory=company_tz)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def previous(self) -> "ReportFilters":
        """The period of the same length just before (topic trends)."""
        length = (self.end - self.start).days + 1
        return ReportFilters(
            start=self.start - timedelta(days=length), end=self.start - timedelta(days=1),
            team_ids=self.team_ids, channel=self.channel, bucket=self.bucket, tz=self.tz,
        )

    def conversation_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.team_ids is not None:
            q &= Q(**{f"{prefix}team_id__in": self.team_ids})
        if self.channel:
            q &= Q(**{f"{prefix}channel_account__kind": self.channel})
        return q

    def key(self) -> str:
        teams = ",".join(map(str, self.team_ids)) if self.team_ids is not None else "all"
        return f"{self.start}:{self.end}:{teams}:{self.channel or 'all'}:{self.bucket}:{self.tz.key}"


class ReportInputError(ValueError):
    pass


def report_filters(*, user, params) -> ReportFilters:
    """Validated filters from query parameters (start, end: YYYY-MM-DD; team: id; channel: kind;
    bucket: day|week). Default: the last 30 days up to today. A scoped supervisor (see
    report_team_scope) is held to their teams."""
    tz = company_tz()
    today = timezone.now().astimezone(tz).date()
    try:
        end = date.fromisoformat(params.get("end")) if params.get("end") else today
        start = date.fromisoformat(params.get("start")) if params.get("start") else end - timedelta(days=29)
    except ValueError:
        raise ReportInputError("start and end must be dates as YYYY-MM-DD")
    if start > end:
        raise ReportInputError("start must not be after end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ReportInputError(f"a period spans at most {MAX_PERIOD_DAYS} days")
    channel = params.get("channel") or None
    if channel is not None and channel not in CHANNEL_LABELS:
        raise ReportInputError(f"unknown channel {channel!r}")
    bucket = params.get("bucket") or "day"
    if bucket not in ("day", "week"):
        raise ReportInputError("bucket must be day or week")
    scope = report_team_scope(user)
    team = params.get("team") or None
    if team is not None:
        try:
            team_id = int(team)
        except ValueError:
            raise ReportInputError("team must be a team id")
        if scope is not None and team_id not in scope:
            raise PermissionError("You see the reports of your own teams only")
        team_ids = (team_id,)
    else:
        team_ids = tuple(scope) if scope is not None else None
    return ReportFilters(start=start, end=end, team_ids=team_ids, channel=channel, bucket=bucket, tz=tz)


def _channel(kind: str | None) -> str:
    return str(CHANNEL_LABELS.get(kind, kind or ""))


def _team_names() -> dict[int | None, str]:
    names = dict(Team.objects.values_list("id", "name"))
    names[None] = "No team"
    return names


def _facts() -> bool:
    """Read the facts and rollups (PostgreSQL, where the triggers keep them) or the inbox's tables."""
    return connection.vendor == "postgresql"


def _bucket_counts(seconds: str) -> dict:
    counts, lower = {}, 0
    for key, upper in BUCKETS:
        q = Q(**{f"{seconds}__gte": lower})
        if upper is not None:
            q &= Q(**{f"{seconds}__lt": upper})
        counts[key] = Count("pk", filter=q)
        lower = upper
    return counts


# --- volume and heatmap ------------------------------------------------------------------------


def _inbound(f: ReportFilters):
    return Message.objects.filter(
        f.conversation_q("conversation__") if f.team_ids is not None else Q(),
        Q(channel_account__kind=f.channel) if f.channel else Q(),
        direction=Message.Direction.IN, sent_at__gte=f.start_at, sent_at__lt=f.end_at,
    )


def _rollup(f: ReportFilters):
    """Inbound count rows of the period; 15-minute buckets add up to the company's days and hours."""
    qs = InboundRollup.objects.filter(bucket__gte=f.start_at, bucket__lt=f.end_at)
    if f.team_ids is not None:
        qs = qs.filter(team_id__in=f.team_ids)
    if f.channel:
        qs = qs.filter(channel_kind=f.channel)
    return qs


def volume_by_channel(f: ReportFilters) -> list[dict]:
    """Inbound messages per day and channel: [{day, channel, channel_label, messages}]."""
    if _facts():
        rows = (
            _rollup(f).annotate(day=TruncDate("bucket", tzinfo=f.tz)).values("day", "channel_kind")
            .annotate(messages=Sum("messages")).filter(messages__gt=0).order_by("day", "channel_kind")
        )
        return [{"day": r["day"], "channel": r["channel_kind"], "channel_label": _channel(r["channel_kind"]), "messages": r["messages"]} for r in rows]
    rows = (
        _inbound(f)
        .annotate(day=TruncDate("sent_at", tzinfo=f.tz), channel_kind=F("channel_account__kind"))
        .values("day", "channel_kind")
        .annotate(messages=Count("pk"))
        .order_by("day", "channel_kind")
    )
    return [{"day": r["day"], "channel": r["channel_kind"], "channel_label": _channel(r["channel_kind"]), "messages": r["messages"]} for r in rows]


def heatmap(f: ReportFilters) -> list[dict]:
    """Inbound messages per weekday (1 Monday .. 7 Sunday) and hour (0-23), company time: all 168 cells."""
    if _facts():
        cells = (
            _rollup(f).annotate(weekday=ExtractIsoWeekDay("bucket", tzinfo=f.tz), hour=ExtractHour("bucket", tzinfo=f.tz))
            .values("weekday", "hour").annotate(messages=Sum("messages")).order_by()
        )
        found = {(r["weekday"], r["hour"]): r["messages"] for r in cells}
        return [{"weekday": d, "hour": h, "messages": found.get((d, h), 0)} for d in range(1, 8) for h in range(24)]
    found = {
        (r["weekday"], r["hour"]): r["messages"]
        for r in _inbound(f)
        .annotate(weekday=ExtractIsoWeekDay("sent_at", tzinfo=f.tz), hour=ExtractHour("sent_at", tzinfo=f.tz))
        .values("weekday", "hour")
        .annotate(messages=Count("pk"))
        .order_by()
    }
    return [{"weekday": d, "hour": h, "messages": found.get((d, h), 0)} for d in range(1, 8) for h in range(24)]


# --- response and resolution times -----------------------------------------------------------


def _dimension(by: str, prefix: str) -> str:
    """The inbox field of the channel or the team, through `prefix` (the conversation's)."""
    return f"{prefix}channel_account__kind" if by == "channel" else f"{prefix}team_id"


def _time_rows(queryset, *, by: str, key: str, seconds, work=None) -> list[dict]:
    """count, median, p90 and the bucket counts of `seconds` (wall-clock), the median and p90 of
    `work` (working time, when known), per channel or per team (the field `key`)."""
    rows = (
        queryset.alias(secs=seconds)
        .values(key)
        .annotate(
            count=Count("pk"),
            median_seconds=Percentile(F("secs"), 0.5),
            p90_seconds=Percentile(F("secs"), 0.9),
            **({"median_work_seconds": Percentile(work, 0.5), "p90_work_seconds": Percentile(work, 0.9)} if work is not None else {}),
            **_bucket_counts("secs"),
        )
        .order_by(key)
    )
    names = _team_names() if by == "team" else None
    out = []
    for r in rows:
        value = r.pop(key)
        label = _channel(value) if by == "channel" else names.get(value, str(value))
        r.setdefault("median_work_seconds", None)
        r.setdefault("p90_work_seconds", None)
        out.append({"dimension": by, "key": value, "label": label, **r})
    return out


def _fact_rows(f: ReportFilters, kind: str, *, by: str, q: Q = Q()) -> list[dict]:
    """The time table of one kind of fact placed in the period: wall-clock and working time."""
    qs = Fact.objects.filter(q, kind=kind, at__gte=f.start_at, at__lt=f.end_at)
    if f.team_ids is not None:
        qs = qs.filter(team_id__in=f.team_ids)
    if f.channel:
        qs = qs.filter(channel_kind=f.channel)
    return _time_rows(qs, by=by, key="channel_kind" if by == "channel" else "team_id", seconds=F("wall_seconds"), work=F("work_seconds"))


def first_response_times(f: ReportFilters, *, by: str) -> list[dict]:
    """Conversations whose first inbound message arrived in the period and that were answered:
    first_response_at - first_inbound_at."""
    if _facts():
        return _fact_rows(f, Fact.Kind.FIRST, by=by)
    qs = Conversation.objects.filter(
        f.conversation_q(), first_inbound_at__gte=f.start_at, first_inbound_at__lt=f.end_at,
        first_response_at__gte=F("first_inbound_at"),
    )
    return _time_rows(qs, by=by, key=_dimension(by, ""), seconds=Seconds(F("first_response_at"), F("first_inbound_at")))


def _events(f: ReportFilters, kind: str):
    return ConversationEvent.objects.filter(
        f.conversation_q("conversation__"), kind=kind, created_at__gte=f.start_at, created_at__lt=f.end_at
    )


def _wait_seconds():
    return Cast(KeyTextTransform("wait_seconds", "data"), FloatField())


def next_response_times(f: ReportFilters, *, by: str) -> list[dict]:
    """Replies in the period that ended a wait other than the first: how long the customer had waited."""
    if _facts():
        return _fact_rows(f, Fact.Kind.REPLY, by=by, q=Q(first_response=False, wall_seconds__isnull=False))
    qs = _events(f, ConversationEvent.Kind.REPLIED).filter(data__first_response=False, data__wait_seconds__isnull=False)
    return _time_rows(qs, by=by, key=_dimension(by, "conversation__"), seconds=_wait_seconds())


def _resolved_events(f: ReportFilters):
    return _events(f, ConversationEvent.Kind.STATUS).filter(data__to=Conversation.Status.RESOLVED)


def resolution_times(f: ReportFilters, *, by: str) -> list[dict]:
    """Resolutions in the period: from the conversation's first inbound message (or creation) to
    the change to resolved. A conversation resolved twice counts twice."""
    if _facts():
        return _fact_rows(f, Fact.Kind.RESOLVED, by=by)
    start = Coalesce(F("conversation__first_inbound_at"), F("conversation__created_at"))
    return _time_rows(_resolved_events(f), by=by, key=_dimension(by, "conversation__"), seconds=Seconds(F("created_at"), start))


# --- SLA compliance ------------------------------------------------------------------------------


def _sla_settled_in_period(f: ReportFilters, now: datetime):
    """First-response clocks settled in the period (up to now): reports/sla.py says how."""
    return sla.first_response_clocks(start=f.start_at, until=min(f.end_at, now), conversation_q=f.conversation_q("conversation__"))


def _compliance(met: int, due: int) -> float | None:
    return round(100.0 * met / due, 1) if due else None


def sla_compliance_trend(f: ReportFilters, *, now: datetime | None = None) -> list[dict]:
    """Per day or week of settling: first responses due, met in time, compliance %."""
    now = now or timezone.now()
    trunc = TruncDate("settled_at", tzinfo=f.tz) if f.bucket == "day" else TruncWeek("settled_at", tzinfo=f.tz)
    rows = (
        _sla_settled_in_period(f, now)
        .annotate(period=trunc)
        .values("period")
        .annotate(due_count=Count("pk"), met=Count("pk", filter=sla.MET))
        .order_by("period")
    )
    out = []
    for r in rows:
        period = r["period"].date() if isinstance(r["period"], datetime) else r["period"]
        out.append({"period": period, "due": r["due_count"], "met": r["met"], "missed": r["due_count"] - r["met"],
                    "compliance_pct": _compliance(r["met"], r["due_count"])})
    return out


def sla_compliance_by_policy(f: ReportFilters, *, now: datetime | None = None) -> list[dict]:
    """The same per SLA policy (the one that counted each clock), with its first-response target."""
    now = now or timezone.now()
    rows = (
        _sla_settled_in_period(f, now)
        .values("policy_id", "policy__name", "target_seconds")
        .annotate(due_count=Count("pk"), met=Count("pk", filter=sla.MET))
        .order_by("policy__name", "target_seconds")
    )
    return [
        {"policy_id": r["policy_id"], "policy": r["policy__name"] or "—", "target_minutes": r["target_seconds"] // 60,
         "due": r["due_count"], "met": r["met"], "missed": r["due_count"] - r["met"],
         "compliance_pct": _compliance(r["met"], r["due_count"])}
        for r in rows
    ]


# --- customer satisfaction (apps/csat) -------------------------------------------------------------


def satisfaction(f: ReportFilters, *, by: str) -> list[dict]:
    """Surveys made in the period per channel, team or agent: asked, skipped, answered, response
    rate, average score, share satisfied (4-5), low scores."""
    rows = csat_figures(f, by=by)
    if by == "team":
        names = _team_names()
        labels = {r["key"]: names.get(r["key"], str(r["key"])) for r in rows}
    elif by == "agent":
        users = User.objects.filter(pk__in=[r["key"] for r in rows if r["key"] is not None]).only("id", "username", "first_name", "last_name")
        labels = {u.id: u.get_full_name() or u.username for u in users}
        labels[None] = "—"
    else:
        labels = {r["key"]: _channel(r["key"]) for r in rows}
    return [{"dimension": by, **r, "label": labels.get(r["key"], str(r["key"]))} for r in rows]


# --- agents and backlog ----------------------------------------------------------------------------


def agent_performance(f: ReportFilters) -> list[dict]:
    """Per person who replied or resolved in the period: conversations handled (replied to),
    replies, first responses given and their median, conversations resolved, and their customers'
    satisfaction (surveys of the period answered, average score 1-5)."""
    if _facts():
        facts = Fact.objects.filter(at__gte=f.start_at, at__lt=f.end_at, agent_id__isnull=False)
        if f.team_ids is not None:
            facts = facts.filter(team_id__in=f.team_ids)
        if f.channel:
            facts = facts.filter(channel_kind=f.channel)
        first = Q(first_response=True)
        replies = (
            facts.filter(kind=Fact.Kind.REPLY).values("agent_id")
            .annotate(
                handled=Count("conversation_id", distinct=True), replies=Count("pk"), first_responses=Count("pk", filter=first),
                median_first_response_seconds=Percentile(F("wall_seconds"), 0.5, filter=first),
            )
            .order_by()
        )
        by_actor = {r.pop("agent_id"): r for r in replies}
        resolved = dict(facts.filter(kind=Fact.Kind.RESOLVED).values("agent_id").annotate(n=Count("pk")).order_by().values_list("agent_id", "n"))
        return _agent_rows(f, by_actor, resolved)
    replies = (
        _events(f, ConversationEvent.Kind.REPLIED)
        .filter(actor__isnull=False)
        .alias(wait=_wait_seconds())
        .values("actor_id")
        .annotate(
            handled=Count("conversation_id", distinct=True),
            replies=Count("pk"),
            first_responses=Count("pk", filter=Q(data__first_response=True)),
            median_first_response_seconds=Percentile(F("wait"), 0.5, filter=Q(data__first_response=True)),
        )
        .order_by()
    )
    resolved = dict(
        _resolved_events(f).filter(actor__isnull=False).values("actor_id").annotate(n=Count("pk")).order_by().values_list("actor_id", "n")
    )
    return _agent_rows(f, {r.pop("actor_id"): r for r in replies}, resolved)


def _agent_rows(f: ReportFilters, by_actor: dict, resolved: dict) -> list[dict]:
    # Satisfaction: the answered surveys of the conversations each agent held when they were resolved.
    csat = {r["key"]: r for r in csat_figures(f, by="agent") if r["key"] is not None and r["answered"]}
    ids = set(by_actor) | set(resolved) | set(csat)
    names = {u.id: u.get_full_name() or u.username for u in User.objects.filter(pk__in=ids).only("id", "username", "first_name", "last_name")}
    out = []
    for actor_id in ids:
        r = by_actor.get(actor_id, {})
        out.append({
            "agent_id": actor_id, "agent": names.get(actor_id, str(actor_id)),
            "handled": r.get("handled", 0), "replies": r.get("replies", 0),
            "first_responses": r.get("first_responses", 0),
            "median_first_response_seconds": r.get("median_first_response_seconds"),
            "resolved": resolved.get(actor_id, 0),
            "csat_answered": csat.get(actor_id, {}).get("answered", 0),
            "csat_average": csat.get(actor_id, {}).get("average_score"),
        })
    out.sort(key=lambda row: (-row["replies"], -row["resolved"], row["agent"]))
    return out


def backlog(f: ReportFilters) -> list[dict]:
    """Per day: conversations opened (new, or reopened after resolution) and resolved; the net change."""
    if _facts():
        facts = Fact.objects.filter(kind__in=(Fact.Kind.OPENED, Fact.Kind.RESOLVED), at__gte=f.start_at, at__lt=f.end_at)
        if f.team_ids is not None:
            facts = facts.filter(team_id__in=f.team_ids)
        if f.channel:
            facts = facts.filter(channel_kind=f.channel)
        rows = (
            facts.annotate(day=TruncDate("at", tzinfo=f.tz)).values("day")
            .annotate(opened=Count("pk", filter=Q(kind=Fact.Kind.OPENED)), resolved=Count("pk", filter=Q(kind=Fact.Kind.RESOLVED)))
            .order_by("day")
        )
        return _backlog_days(f, {r["day"]: r for r in rows})
    opened_q = Q(kind=ConversationEvent.Kind.CREATED) | Q(kind=ConversationEvent.Kind.REOPENED)
    resolved_q = Q(kind=ConversationEvent.Kind.STATUS, data__to=Conversation.Status.RESOLVED)
    rows = (
        ConversationEvent.objects.filter(
            f.conversation_q("conversation__"),
            kind__in=(ConversationEvent.Kind.CREATED, ConversationEvent.Kind.REOPENED, ConversationEvent.Kind.STATUS),
            created_at__gte=f.start_at, created_at__lt=f.end_at,
        )
        .annotate(day=TruncDate("created_at", tzinfo=f.tz))
        .values("day")
        .annotate(opened=Count("pk", filter=opened_q), resolved=Count("pk", filter=resolved_q))
        .order_by("day")
    )
    return _backlog_days(f, {r["day"]: r for r in rows})


def _backlog_days(f: ReportFilters, found: dict) -> list[dict]:
    out = []
    for day in f.days:
        r = found.get(day, {"opened": 0, "resolved": 0})
        out.append({"day": day, "opened": r["opened"], "resolved": r["resolved"], "net": r["opened"] - r["resolved"]})
    return out


# --- the wallboard -----------------------------------------------------------------------------------


def _today_start(now: datetime, tz: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date(), time.min, tzinfo=tz)


def _today_rows(now: datetime, tz: ZoneInfo, group: list[str], *, counts_from: list[dict] | None = None) -> list[dict]:
    """Today's first responses (count, p50, p90), SLA due / met and resolutions, grouped by
    `group` (team_id and/or channel_kind). Three aggregate queries; with `counts_from` (finer
    rows already computed) the additive counts are summed from them and only the percentiles
    are queried."""
    start = _today_start(now, tz)
    kind = F("channel_account__kind")
    if _facts():
        frt = Fact.objects.filter(kind=Fact.Kind.FIRST, end_at__gte=start, end_at__lte=now).alias(secs=F("wall_seconds"))
    else:
        frt = Conversation.objects.filter(
            first_response_at__gte=start, first_response_at__lte=now, first_inbound_at__lte=F("first_response_at")
        ).alias(secs=Seconds(F("first_response_at"), F("first_inbound_at"))).annotate(channel_kind=kind)
    frt = (
        frt.values(*group)
        .annotate(first_responses=Count("pk"), frt_p50=Percentile(F("secs"), 0.5), frt_p90=Percentile(F("secs"), 0.9))
        .order_by()
    )
    sla_today = (
        sla.first_response_clocks(start=start, until=now)
        .annotate(team_id=F("conversation__team_id"), channel_kind=F("conversation__channel_account__kind"))
        .values(*group)
        .annotate(sla_due=Count("pk"), sla_met=Count("pk", filter=sla.MET))
        .order_by()
    )
    if _facts():
        resolved = Fact.objects.filter(kind=Fact.Kind.RESOLVED, at__gte=start, at__lte=now)
    else:
        resolved = (
            ConversationEvent.objects.filter(kind=ConversationEvent.Kind.STATUS, data__to=Conversation.Status.RESOLVED,
                                             created_at__gte=start, created_at__lte=now)
            .annotate(team_id=F("conversation__team_id"), channel_kind=F("conversation__channel_account__kind"))
        )
    resolved = (
        resolved.values(*group)
        .annotate(resolved=Count("pk"))
        .order_by()
    )
    if counts_from is not None:
        sums: dict[tuple, dict] = {}
        for r in counts_from:
            k = tuple(r["channel"] if g == "channel_kind" else r[g] for g in group)
            row = sums.setdefault(k, {**{g: v for g, v in zip(group, k)}, "sla_due": 0, "sla_met": 0, "resolved": 0})
            for n in ("sla_due", "sla_met", "resolved"):
                row[n] += r[n]
        sla_today, resolved = list(sums.values()), []
    merged: dict[tuple, dict] = {}
    for rows in (frt, sla_today, resolved):
        for r in rows:
            k = tuple(r[g] for g in group)
            merged.setdefault(k, {g: r[g] for g in group}).update({n: v for n, v in r.items() if n not in group})
    out = []
    for row in merged.values():
        row.setdefault("first_responses", 0)
        row.setdefault("frt_p50", None)
        row.setdefault("frt_p90", None)
        row.setdefault("sla_due", 0)
        row.setdefault("sla_met", 0)
        row.setdefault("resolved", 0)
        row["sla_compliance_pct"] = _compliance(row["sla_met"], row["sla_due"])
        if "channel_kind" in row:
            row["channel"] = row.pop("channel_kind")
            row["channel_label"] = _channel(row["channel"])
        out.append(row)
    out.sort(key=lambda r: (r.get("team_id") or 0, r.get("channel") or ""))
    return out


def wallboard_snapshot(*, now: datetime | None = None) -> dict:
    """Everything the wallboard shows, for every team: queues, agents, today's figures, the
    conversations about to breach. Sliced per viewer by `wallboard_slice`."""
    now = now or timezone.now()
    tz = company_tz()
    names = _team_names()
    waiting = Conversation.objects.filter(status__in=IN_QUEUE, waiting_since__isnull=False)
    queues = [
        {
            "team_id": r["team_id"], "team": names.get(r["team_id"], ""), "channel": r["kind"], "channel_label": _channel(r["kind"]),
            "waiting": r["waiting"], "unassigned": r["unassigned"],
            "oldest_wait_seconds": max(0, int((now - r["oldest"]).total_seconds())) if r["oldest"] else None,
            "due_soon": r["due_soon"], "breached": r["breached"],
        }
        for r in waiting.annotate(kind=F("channel_account__kind"))
        .values("team_id", "kind")
        .annotate(
            waiting=Count("pk"), unassigned=Count("pk", filter=Q(assignee__isnull=True)), oldest=Min("waiting_since"),
            due_soon=Count("pk", filter=sla.due_soon_q(now=now)), breached=Count("pk", filter=sla.breached_q(now=now)),
        )
        .order_by("team_id", "kind")
    ]
    at_risk = [
        {
            "id": c.id, "title": c.subject or c.last_message_preview[:80] or f"#{c.id}", "team_id": c.team_id,
            "team": names.get(c.team_id, ""), "channel": c.channel_account.kind, "channel_label": _channel(c.channel_account.kind),
            "priority": c.priority, "assignee": (c.assignee.get_full_name() or c.assignee.username) if c.assignee else None,
            "waiting_since": c.waiting_since.isoformat(), "due_at": c.due_at.isoformat(), "state": c.sla_state,
            "url": f"/c/{c.id}/",
        }
        for c in sla.at_risk(
            waiting.select_related("channel_account", "assignee").only(
                "id", "subject", "last_message_preview", "team_id", "priority", "waiting_since", "sla_due_at",
                "channel_account__kind", "assignee__username", "assignee__first_name", "assignee__last_name",
            ),
            now=now, limit=WALLBOARD_AT_RISK,
        )
    ]
    by_team_channel = _today_rows(now, tz, ["team_id", "channel_kind"])
    return {
        "generated_at": now.isoformat(),
        "queues": queues,
        "agents": _agents(),
        "today_by_team_channel": by_team_channel,
        "today_by_channel": _today_rows(now, tz, ["channel_kind"], counts_from=by_team_channel),
        "at_risk": at_risk,
    }


def _agents() -> list[dict]:
    """Agents with presence, open load (open or pending conversations they hold) and capacity as
    routing counts it (routing.assignment.capacity_of: their own, else their team's, else the
    desk's default; in several teams, the smallest)."""
    agents = list(
        User.objects.filter(is_active=True, role=Role.AGENT).order_by("username")
        .values("id", "username", "first_name", "last_name", "max_open")
    )
    # Open load from the (assignee, status, ...) index: one short range per agent, not a join of every assignment.
    load = dict(
        Conversation.objects.filter(assignee_id__in=[a["id"] for a in agents], status__in=IN_QUEUE)
        .values("assignee_id").annotate(n=Count("pk")).order_by().values_list("assignee_id", "n")
    )
    for a in agents:
        a["open_load"] = load.get(a["id"], 0)
    memberships: dict[int, list[int]] = {}
    for user_id, team_id in User.teams.through.objects.filter(user__in=[a["id"] for a in agents]).values_list("user_id", "team_id"):
        memberships.setdefault(user_id, []).append(team_id)
    routings = {r.team_id: r for r in TeamRouting.objects.only("team_id", "max_open_per_agent")}
    status = presence.statuses(a["id"] for a in agents)
    out = []
    for a in agents:
        teams = sorted(memberships.get(a["id"], []))
        capacity = min(capacity_of(agent_max_open=a["max_open"], routing=routings.get(t)) for t in teams or [None])
        out.append({
            "id": a["id"], "name": f"{a['first_name']} {a['last_name']}".strip() or a["username"], "team_ids": teams,
            "status": status[a["id"]], "open": a["open_load"], "capacity": capacity,
        })
    return out


def wallboard_slice(snapshot: dict, team_ids) -> dict:
    """What a viewer scoped to `team_ids` may see (None: everything). Per-channel totals over all
    teams are only for unscoped viewers; a scoped one reads the per team and channel rows."""
    if team_ids is None:
        return snapshot
    teams = set(team_ids)
    return {
        "generated_at": snapshot["generated_at"],
        "queues": [r for r in snapshot["queues"] if r["team_id"] in teams],
        "agents": [a for a in snapshot["agents"] if teams.intersection(a["team_ids"])],
        "today_by_team_channel": [r for r in snapshot["today_by_team_channel"] if r["team_id"] in teams],
        "today_by_channel": [],
        "at_risk": [r for r in snapshot["at_risk"] if r["team_id"] in teams],
    }


def wallboard_for(user, *, now: datetime | None = None) -> dict:
    """{"slices": {"all": snapshot}} for an unscoped viewer, else one slice per team of theirs (the
    shape the socket updates: a frame replaces the slice of its team_id, or "all")."""
    snapshot = wallboard_snapshot(now=now)
    scope = report_team_scope(user)
    if scope is None:
        return {"slices": {"all": snapshot}}
    return {"slices": {str(t): wallboard_slice(snapshot, [t]) for t in scope}}
