"""What the reports read instead of the inbox's big tables: kept in step with them by PostgreSQL
triggers (apps/reports/rollups.py holds their SQL, migration 0002 installs them), so a figure is
right the moment the inbox's transaction commits, whoever wrote (services, imports, SQL).

- Fact: one row per response, reply, resolution or opening of a conversation, with the
  conversation's current team and channel, the wall-clock seconds and (filled by
  services.facts_working_time_fill from the SLA calendar) the working-time seconds.
- InboundRollup: inbound messages counted per 15 minutes x channel x team (delta rows,
  merged by services.rollups_compact).
"""
from django.db import models


class Fact(models.Model):
    class Kind(models.TextChoices):
        FIRST = "first"  # the first response of a conversation; `at` = the first inbound message
        REPLY = "reply"  # a reply sent ("replied" event); wall = how long the customer had waited
        RESOLVED = "resolved"  # a change to resolved; wall = from the first inbound message (or creation)
        OPENED = "opened"  # created or reopened

    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(help_text="The instant that places the fact in a period")
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    event_id = models.BigIntegerField(null=True, unique=True)
    team_id = models.BigIntegerField(null=True)
    channel_kind = models.CharField(max_length=16)
    agent_id = models.BigIntegerField(null=True)
    first_response = models.BooleanField(null=True)
    policy_id = models.IntegerField(null=True, help_text="The conversation's SLA policy when the fact was recorded")
    start_at = models.DateTimeField(null=True)
    end_at = models.DateTimeField(null=True)
    wall_seconds = models.FloatField(null=True)
    work_seconds = models.FloatField(null=True, help_text="Working time of the policy's calendar (24/7: the wall-clock time)")

    class Meta:
        indexes = [
            # every report's range, covering what they read: index-only scans
            models.Index(fields=["kind", "at"], name="reports_fact_kind_at", include=[
                "id", "team_id", "channel_kind", "agent_id", "first_response", "conversation_id", "wall_seconds", "work_seconds"]),
            models.Index(fields=["conversation", "kind"], name="reports_fact_conversation"),
            # the wallboard's first responses given today
            models.Index(fields=["end_at"], name="reports_fact_first_end", condition=models.Q(kind="first"),
                         include=["id", "team_id", "channel_kind", "wall_seconds"]),
            models.Index(fields=["id"], name="reports_fact_work_todo", condition=models.Q(work_seconds__isnull=True, start_at__isnull=False)),
        ]


class InboundRollup(models.Model):
    bucket = models.DateTimeField(help_text="Start of a 15-minute slot (UTC-aligned)")
    channel_kind = models.CharField(max_length=16)
    team_id = models.BigIntegerField(null=True)
    messages = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["bucket"], name="reports_inbound_bucket", include=["channel_kind", "team_id", "messages"])]
