"""Every table of the reports, declared once: its columns (label, unit) and the selector that
fills it. The REST API (JSON and CSV), the reports page and the CSV links all read this list."""
from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext_lazy as _, pgettext_lazy

from . import selectors
from .selectors import BUCKETS, ReportFilters

SECONDS, MESSAGES, CONVERSATIONS, PERCENT = "s", "messages", "conversations", "%"
SURVEYS, SCORE = "surveys", "1-5"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""
    kind: str = "int"  # int, float, str, date


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[ReportFilters], list[dict]]
    chart: bool = True  # reports.js draws one; False: the table alone

    @property
    def reads_working_time(self) -> bool:
        """Its rows include working-time figures, which the facts may still lack (facts.py fills them)."""
        return any(c.key.endswith("work_seconds") for c in self.columns)


_BUCKET_LABELS = {
    "under_5m": _("Under 5 min"), "5m_15m": _("5–15 min"), "15m_1h": _("15–60 min"),
    "1h_4h": _("1–4 h"), "4h_24h": _("4–24 h"), "over_24h": _("Over 24 h"),
}


def _times(first: str) -> tuple[Column, ...]:
    return (
        Column("label", first, kind="str"),
        Column("count", _("Count"), CONVERSATIONS),
        Column("median_seconds", _("Median"), SECONDS, "float"),
        Column("p90_seconds", _("90th percentile"), SECONDS, "float"),
        Column("median_work_seconds", _("Median, working time"), SECONDS, "float"),
        Column("p90_work_seconds", _("90th percentile, working time"), SECONDS, "float"),
        *(Column(key, _BUCKET_LABELS[key], CONVERSATIONS) for key, _upper in BUCKETS),
    )


TABLES = [
    Table("volume", _("Inbound volume by channel per day"),
          _("Messages customers sent, per day (company time zone) and channel."),
          (Column("day", _("Day"), kind="date"), Column("channel", _("Channel"), kind="str"),
           Column("channel_label", _("Channel name"), kind="str"), Column("messages", _("Messages"), MESSAGES)),
          selectors.volume_by_channel),
    Table("heatmap", _("Inbound messages by hour of the week"),
          _("When customers write: weekday (1 = Monday) and hour, company time zone. Staff the dark cells."),
          (Column("weekday", _("Weekday")), Column("hour", _("Hour")), Column("messages", _("Messages"), MESSAGES)),
          selectors.heatmap),
    Table("first-response-by-channel", _("First response time by channel"),
          _("Conversations that started in the period and were answered: time to the first reply."),
          _times(_("Channel")), lambda f: selectors.first_response_times(f, by="channel")),
    Table("first-response-by-team", _("First response time by team"),
          _("The same, per team."), _times(_("Team")), lambda f: selectors.first_response_times(f, by="team")),
    Table("next-response-by-channel", _("Next response time by channel"),
          _("Later replies in the period: how long the customer had waited for each."),
          _times(_("Channel")), lambda f: selectors.next_response_times(f, by="channel")),
    Table("next-response-by-team", _("Next response time by team"),
          _("The same, per team."), _times(_("Team")), lambda f: selectors.next_response_times(f, by="team")),
    Table("resolution-by-channel", _("Resolution time by channel"),
          _("Resolutions in the period: from the first customer message to resolved."),
          _times(_("Channel")), lambda f: selectors.resolution_times(f, by="channel")),
    Table("resolution-by-team", _("Resolution time by team"),
          _("The same, per team."), _times(_("Team")), lambda f: selectors.resolution_times(f, by="team")),
    Table("sla-trend", _("SLA compliance trend"),
          _("First responses settled in each day or week (answered, or overdue), and the share answered in time."),
          (Column("period", _("Period start"), kind="date"), Column("due", _("Due"), CONVERSATIONS),
           Column("met", _("Met"), CONVERSATIONS), Column("missed", _("Missed"), CONVERSATIONS),
           Column("compliance_pct", _("Compliance"), PERCENT, "float")),
          selectors.sla_compliance_trend),
    Table("sla-by-policy", _("SLA compliance by policy"),
          _("The same for the whole period, per SLA policy and its first-response target."),
          (Column("policy", _("Policy"), kind="str"), Column("target_minutes", _("Target"), "min"),
           Column("due", _("Due"), CONVERSATIONS), Column("met", _("Met"), CONVERSATIONS),
           Column("missed", _("Missed"), CONVERSATIONS), Column("compliance_pct", _("Compliance"), PERCENT, "float")),
          selectors.sla_compliance_by_policy),
    Table("agents", _("Agent performance"),
          _("Per person: conversations replied to, replies, first responses given and their median, resolutions, and "
            "their customers' satisfaction (ratings received, average from 1 to 5)."),
          (Column("agent", _("Agent"), kind="str"), Column("handled", _("Handled"), CONVERSATIONS),
           Column("replies", _("Replies"), MESSAGES), Column("first_responses", _("First responses"), CONVERSATIONS),
           Column("median_first_response_seconds", _("Median first response"), SECONDS, "float"),
           Column("resolved", _("Resolved"), CONVERSATIONS),
           Column("csat_answered", _("Ratings"), SURVEYS), Column("csat_average", _("Satisfaction"), SCORE, "float")),
          selectors.agent_performance),
    Table("backlog", _("Backlog: opened vs resolved"),
          _("Conversations opened (new or reopened) and resolved per day; net change of the backlog."),
          (Column("day", _("Day"), kind="date"), Column("opened", _("Opened"), CONVERSATIONS),
           Column("resolved", _("Resolved"), CONVERSATIONS), Column("net", _("Net change"), CONVERSATIONS)),
          selectors.backlog),
]


def _satisfaction(first: str) -> tuple[Column, ...]:
    return (
        Column("label", first, kind="str"),
        Column("asked", pgettext_lazy("surveys", "Asked"), SURVEYS), Column("skipped", pgettext_lazy("surveys", "Not sent"), SURVEYS),
        Column("answered", pgettext_lazy("surveys", "Answered"), SURVEYS), Column("response_rate_pct", _("Response rate"), PERCENT, "float"),
        Column("average_score", _("Average score"), SCORE, "float"), Column("satisfied_pct", _("Satisfied (4-5)"), PERCENT, "float"),
        Column("low", _("Low scores"), SURVEYS),
    )


_SATISFACTION_HELP = _("Surveys made after resolutions in the period: asked, not sent (public, automated, asked recently, "
                       "channel closed), answered, and the customers' scores from 1 to 5.")
TABLES += [
    Table("csat-by-channel", _("Customer satisfaction by channel"), _SATISFACTION_HELP,
          _satisfaction(_("Channel")), lambda f: selectors.satisfaction(f, by="channel"), chart=False),
    Table("csat-by-team", _("Customer satisfaction by team"), _("The same, per team."),
          _satisfaction(_("Team")), lambda f: selectors.satisfaction(f, by="team"), chart=False),
    Table("csat-by-agent", _("Customer satisfaction by agent"),
          _("The same, per agent who held the conversation when it was resolved."),
          _satisfaction(_("Agent")), lambda f: selectors.satisfaction(f, by="agent"), chart=False),
]
BY_SLUG = {t.slug: t for t in TABLES}


def table_register(table: Table) -> None:
    """A table another app adds to the reports (page, JSON and CSV), from its AppConfig.ready():
    the reports import nothing of that app (e.g. the help center's deflection rate)."""
    if table.slug not in BY_SLUG:
        TABLES.append(table)
        BY_SLUG[table.slug] = table

TOPIC_COLUMNS = (
    Column("topic", _("Topic")), Column("label", _("Top words"), kind="str"),
    Column("messages", _("Messages"), MESSAGES), Column("conversations", _("Conversations"), CONVERSATIONS),
    Column("previous_messages", _("Previous period"), MESSAGES), Column("trend_pct", _("Trend"), PERCENT, "float"),
    Column("channels_text", _("Channels"), kind="str"), Column("peak_hours_text", _("Busiest hours"), kind="str"),
    Column("examples_text", _("Example conversations"), kind="str"),
)


def topic_rows(report: dict) -> list[dict]:
    """Flat rows of the topics report (CSV and the page's table)."""
    rows = []
    for t in report.get("topics", []):
        rows.append({
            **t,
            "channels_text": ", ".join(f"{c['channel_label']} {c['messages']}" for c in t["channels"]),
            "peak_hours_text": ", ".join(f"{h:02d}:00" for h in t["peak_hours"]),
            "examples_text": " | ".join(f"#{e['conversation_id']} {e['text'][:60]}" for e in t["examples"]),
        })
    return rows
