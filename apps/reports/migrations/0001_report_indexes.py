"""Indexes the reports read through, on the inbox's tables (created IF NOT EXISTS, so the inbox
may adopt them later). Partial where a report reads a slice only.

- messages by sent_at, inbound only, covering the channel account and conversation: the volume
  and heatmap reports scan one index range per period (index-only once vacuumed);
- conversations by first_inbound_at (first-response report, SLA compliance) and by
  first_response_at (today's first responses on the wallboard).
"""
from django.db import migrations

INDEXES = [
    ("reports_msg_in_sent", "inbox_message", "(sent_at, channel_account_id, conversation_id) WHERE direction = 'in'"),
    ("reports_conv_first_inbound", "inbox_conversation", "(first_inbound_at) WHERE first_inbound_at IS NOT NULL"),
    ("reports_conv_first_response", "inbox_conversation", "(first_response_at) WHERE first_response_at IS NOT NULL"),
]


class Migration(migrations.Migration):
    dependencies = [("inbox", "0006_search_indexes")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}", f"DROP INDEX IF EXISTS {name}")
        for name, table, columns in INDEXES
    ]
