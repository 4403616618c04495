"""The facts and the inbound rollup the reports read (models.py), the triggers that keep them in
step with the inbox (rollups.py), and a backfill of what exists. PostgreSQL only: elsewhere (the
embedded SQLite quick start) the reports read the inbox's tables directly (selectors.py)."""
from django.db import migrations, models

from apps.reports import rollups


# The wallboard's queues: the few waiting conversations, read from the index alone.
WAITING_BOARD = (
    "CREATE INDEX IF NOT EXISTS reports_conv_waiting_board ON inbox_conversation (team_id, channel_account_id) "
    "INCLUDE (id, waiting_since, assignee_id, sla_warn_at, sla_due_at) WHERE status IN ('open', 'pending') AND waiting_since IS NOT NULL"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(WAITING_BOARD)
        cursor.execute(rollups.TRIGGERS_SQL)
        for _label, sql in rollups.BACKFILL_SQL:
            cursor.execute(sql)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(rollups.DROP_TRIGGERS_SQL)
            cursor.execute("DROP INDEX IF EXISTS reports_conv_waiting_board")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_report_indexes"), ("inbox", "0011_merge_20261205_1340"), ("connectors", "0004_account_errors"), ("sla", "0003_clock_policy_no_constraint")]

    operations = [
        migrations.CreateModel(
            name="Fact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("first", "First"), ("reply", "Reply"), ("resolved", "Resolved"), ("opened", "Opened")], max_length=12)),
                ("at", models.DateTimeField(help_text="The instant that places the fact in a period")),
                ("conversation", models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE, related_name="+", to="inbox.conversation")),
                ("event_id", models.BigIntegerField(null=True, unique=True)),
                ("team_id", models.BigIntegerField(null=True)),
                ("channel_kind", models.CharField(max_length=16)),
                ("agent_id", models.BigIntegerField(null=True)),
                ("first_response", models.BooleanField(null=True)),
                ("policy_id", models.IntegerField(help_text="The conversation's SLA policy when the fact was recorded", null=True)),
                ("start_at", models.DateTimeField(null=True)),
                ("end_at", models.DateTimeField(null=True)),
                ("wall_seconds", models.FloatField(null=True)),
                ("work_seconds", models.FloatField(help_text="Working time of the policy's calendar (24/7: the wall-clock time)", null=True)),
            ],
            options={"indexes": [
                models.Index(fields=["kind", "at"], include=["id", "team_id", "channel_kind", "agent_id", "first_response", "conversation_id", "wall_seconds", "work_seconds"], name="reports_fact_kind_at"),
                models.Index(fields=["conversation", "kind"], name="reports_fact_conversation"),
                models.Index(condition=models.Q(("kind", "first")), fields=["end_at"], include=["id", "team_id", "channel_kind", "wall_seconds"], name="reports_fact_first_end"),
                models.Index(condition=models.Q(("start_at__isnull", False), ("work_seconds__isnull", True)), fields=["id"], name="reports_fact_work_todo"),
            ]},
        ),
        migrations.CreateModel(
            name="InboundRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bucket", models.DateTimeField(help_text="Start of a 15-minute slot (UTC-aligned)")),
                ("channel_kind", models.CharField(max_length=16)),
                ("team_id", models.BigIntegerField(null=True)),
                ("messages", models.IntegerField()),
            ],
            options={"indexes": [models.Index(fields=["bucket"], include=["channel_kind", "team_id", "messages"], name="reports_inbound_bucket")]},
        ),
        migrations.RunPython(install, uninstall),
    ]
