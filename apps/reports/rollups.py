"""The SQL that keeps reports_fact and reports_inboundrollup in step with the inbox (models.py).

Two ways, one definition each, side by side so they cannot drift (tests/reports/test_rollups.py
checks that a backfill reproduces exactly what the triggers built):

- TRIGGERS (installed by migration 0002): on every insert / change of a conversation event, a
  conversation or a message, in the writer's own transaction. They append rows (facts, or count
  deltas for the inbound rollup) and never update a shared counter row, so two ingest workers
  never wait on each other's report rows.
- BACKFILL: the same rows from the existing data, set-based (manage.py reports_backfill).

A fact's team and channel are its conversation's current ones (a transfer moves its facts and its
inbound counts), as the reports always counted. Buckets of the inbound rollup are 15 minutes,
aligned on UTC: every time zone's offset is a multiple of 15 minutes, so days and hours of any
company time zone are sums of whole buckets (exact).

Changing the SQL here needs a migration that runs DROP_TRIGGERS_SQL, TRIGGERS_SQL and (when the rows'
definition changed) the backfill, as 0002 does.
"""

BUCKET = "date_bin('15 minutes', {col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"

# --- facts from conversation events ---------------------------------------------------------------

_EVENT_FACT_COLUMNS = (
    "kind, at, conversation_id, event_id, team_id, channel_kind, agent_id, first_response, policy_id, "
    "start_at, end_at, wall_seconds, work_seconds"
)
# Working time where no calendar counts it (no policy, or a 24/7 calendar: apps.sla.book's
# schedule_of is then always open) is the wall-clock time; otherwise NULL, for facts.py to fill
# with apps.sla.worktime (the one working-time arithmetic).
_WORK = """CASE WHEN NOT EXISTS (SELECT 1 FROM sla_slapolicy p JOIN sla_businesscalendar c ON c.id = p.calendar_id
                           WHERE p.id = v.sla_policy_id AND NOT c.always_open) THEN {wall} END"""
# The rows one conversation event (e) of a conversation (v, its account a) yields. Used by the
# trigger (e = NEW) and by the backfill (e = every event).
_EVENT_FACT_SELECT = """
SELECT f.kind, e.created_at, e.conversation_id, e.id, v.team_id, a.kind, e.actor_id, f.first_response,
       CASE WHEN f.kind <> 'opened' THEN v.sla_policy_id END,
       f.start_at, CASE WHEN f.kind = 'opened' THEN NULL ELSE e.created_at END,
       EXTRACT(EPOCH FROM e.created_at - f.start_at),
       """ + _WORK.format(wall="EXTRACT(EPOCH FROM e.created_at - f.start_at)") + """
  FROM {events} e
  JOIN inbox_conversation v ON v.id = e.conversation_id
  JOIN connectors_channelaccount a ON a.id = v.channel_account_id
  CROSS JOIN LATERAL (SELECT
      CASE WHEN e.kind IN ('created', 'reopened') THEN 'opened' WHEN e.kind = 'replied' THEN 'reply' ELSE 'resolved' END AS kind,
      CASE WHEN e.kind = 'replied' THEN (e.data ->> 'first_response')::boolean END AS first_response,
      CASE WHEN e.kind = 'replied' THEN e.created_at - (e.data ->> 'wait_seconds')::float * interval '1 second'
           WHEN e.kind = 'status' THEN coalesce(v.first_inbound_at, v.created_at) END AS start_at) f
 WHERE e.kind IN ('created', 'reopened', 'replied') OR (e.kind = 'status' AND e.data ->> 'to' = 'resolved')
"""

# The first-response fact of conversations (v): answered at or after the first inbound message.
_FIRST_FACT_SELECT = """
SELECT 'first', v.first_inbound_at, v.id, NULL::bigint, v.team_id, a.kind, NULL::bigint, NULL::boolean, v.sla_policy_id,
       v.first_inbound_at, v.first_response_at, EXTRACT(EPOCH FROM v.first_response_at - v.first_inbound_at),
       """ + _WORK.format(wall="EXTRACT(EPOCH FROM v.first_response_at - v.first_inbound_at)") + """
  FROM {conversations} v JOIN connectors_channelaccount a ON a.id = v.channel_account_id
 WHERE v.first_response_at >= v.first_inbound_at
"""

# Inbound messages (m) counted per bucket, channel and their conversation's team.
_INBOUND_SELECT = """
SELECT """ + BUCKET.format(col="m.sent_at") + """, a.kind, v.team_id, {sign} count(*)
  FROM {messages} m JOIN connectors_channelaccount a ON a.id = m.channel_account_id
  LEFT JOIN inbox_conversation v ON v.id = m.conversation_id
 WHERE m.direction = 'in'
 GROUP BY 1, 2, 3
"""
_INBOUND_INSERT = "INSERT INTO reports_inboundrollup(bucket, channel_kind, team_id, messages) "

TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION reports_fact_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reports_fact({_EVENT_FACT_COLUMNS})
  {_EVENT_FACT_SELECT.format(events="(SELECT NEW.*) ")};
  RETURN NULL;
END $$;
CREATE TRIGGER reports_fact_event AFTER INSERT ON inbox_conversationevent FOR EACH ROW
  WHEN (NEW.kind IN ('created', 'reopened', 'replied', 'status')) EXECUTE FUNCTION reports_fact_event();

CREATE OR REPLACE FUNCTION reports_fact_event_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM reports_fact WHERE event_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER reports_fact_event_gone AFTER DELETE ON inbox_conversationevent FOR EACH ROW
  WHEN (OLD.kind IN ('created', 'reopened', 'replied', 'status')) EXECUTE FUNCTION reports_fact_event_gone();

-- A conversation: its first-response fact; a new team or channel moves its facts (and its
-- inbound counts, below); a new first inbound time moves the start of its resolutions.
CREATE OR REPLACE FUNCTION reports_fact_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR OLD.first_inbound_at IS DISTINCT FROM NEW.first_inbound_at
     OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at THEN
    DELETE FROM reports_fact WHERE conversation_id = NEW.id AND kind = 'first';
    INSERT INTO reports_fact({_EVENT_FACT_COLUMNS})
    {_FIRST_FACT_SELECT.format(conversations="(SELECT NEW.*) ")};
  END IF;
  IF TG_OP = 'INSERT' THEN
    RETURN NULL;
  END IF;
  IF OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.channel_account_id IS DISTINCT FROM NEW.channel_account_id THEN
    UPDATE reports_fact SET team_id = NEW.team_id,
           channel_kind = (SELECT kind FROM connectors_channelaccount WHERE id = NEW.channel_account_id)
     WHERE conversation_id = NEW.id;
  END IF;
  IF OLD.team_id IS DISTINCT FROM NEW.team_id THEN
    {_INBOUND_INSERT}
    SELECT g.bucket, g.kind, x.team_id, x.n FROM (
      SELECT {BUCKET.format(col="m.sent_at")} AS bucket, a.kind, count(*) AS n
        FROM inbox_message m JOIN connectors_channelaccount a ON a.id = m.channel_account_id
       WHERE m.conversation_id = NEW.id AND m.direction = 'in' GROUP BY 1, 2) g
    CROSS JOIN LATERAL (VALUES (OLD.team_id, -g.n), (NEW.team_id, g.n)) x(team_id, n);
  END IF;
  IF OLD.first_inbound_at IS DISTINCT FROM NEW.first_inbound_at OR OLD.created_at IS DISTINCT FROM NEW.created_at THEN
    UPDATE reports_fact SET start_at = coalesce(NEW.first_inbound_at, NEW.created_at),
           wall_seconds = EXTRACT(EPOCH FROM end_at - coalesce(NEW.first_inbound_at, NEW.created_at)), work_seconds = NULL
     WHERE conversation_id = NEW.id AND kind = 'resolved';
    UPDATE reports_fact f SET work_seconds = f.wall_seconds
      FROM (SELECT NEW.*) v WHERE f.conversation_id = NEW.id AND f.kind = 'resolved'
       AND {_WORK.format(wall="true")} IS TRUE;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reports_fact_conversation_new AFTER INSERT ON inbox_conversation FOR EACH ROW
  WHEN (NEW.first_response_at IS NOT NULL) EXECUTE FUNCTION reports_fact_conversation();
CREATE TRIGGER reports_fact_conversation AFTER UPDATE ON inbox_conversation FOR EACH ROW
  WHEN (OLD.first_inbound_at IS DISTINCT FROM NEW.first_inbound_at OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
        OR OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.channel_account_id IS DISTINCT FROM NEW.channel_account_id
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION reports_fact_conversation();

-- Inbound messages: one grouped insert of count deltas per statement (a batch of 500 is a few rows).
CREATE OR REPLACE FUNCTION reports_inbound_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_INBOUND_INSERT} {_INBOUND_SELECT.format(sign="", messages="added")};
  RETURN NULL;
END $$;
CREATE TRIGGER reports_inbound_added AFTER INSERT ON inbox_message REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION reports_inbound_added();

CREATE OR REPLACE FUNCTION reports_inbound_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_INBOUND_INSERT} {_INBOUND_SELECT.format(sign="-", messages="removed")};
  RETURN NULL;
END $$;
CREATE TRIGGER reports_inbound_removed AFTER DELETE ON inbox_message REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION reports_inbound_removed();

CREATE OR REPLACE FUNCTION reports_inbound_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_INBOUND_INSERT} {_INBOUND_SELECT.format(sign="-", messages="(SELECT OLD.*)")};
  {_INBOUND_INSERT} {_INBOUND_SELECT.format(sign="", messages="(SELECT NEW.*)")};
  RETURN NULL;
END $$;
CREATE TRIGGER reports_inbound_moved AFTER UPDATE ON inbox_message FOR EACH ROW
  WHEN (OLD.sent_at IS DISTINCT FROM NEW.sent_at OR OLD.direction IS DISTINCT FROM NEW.direction
        OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id OR OLD.channel_account_id IS DISTINCT FROM NEW.channel_account_id)
  EXECUTE FUNCTION reports_inbound_moved();
"""

DROP_TRIGGERS_SQL = """
DROP TRIGGER IF EXISTS reports_fact_event ON inbox_conversationevent;
DROP TRIGGER IF EXISTS reports_fact_event_gone ON inbox_conversationevent;
DROP TRIGGER IF EXISTS reports_fact_conversation_new ON inbox_conversation;
DROP TRIGGER IF EXISTS reports_fact_conversation ON inbox_conversation;
DROP TRIGGER IF EXISTS reports_inbound_added ON inbox_message;
DROP TRIGGER IF EXISTS reports_inbound_removed ON inbox_message;
DROP TRIGGER IF EXISTS reports_inbound_moved ON inbox_message;
DROP FUNCTION IF EXISTS reports_fact_event(), reports_fact_event_gone(), reports_fact_conversation(),
  reports_inbound_added(), reports_inbound_removed(), reports_inbound_moved();
"""

# The backfill: both tables rebuilt from the inbox, in one transaction. The tables are locked
# first, so a write committing meanwhile waits for the backfill (its trigger needs them).
BACKFILL_SQL = [
    ("lock", "LOCK TABLE reports_fact, reports_inboundrollup IN ACCESS EXCLUSIVE MODE"),
    ("clear", "TRUNCATE reports_fact, reports_inboundrollup"),
    ("event facts", f"INSERT INTO reports_fact({_EVENT_FACT_COLUMNS}) {_EVENT_FACT_SELECT.format(events='inbox_conversationevent')}"),
    ("first-response facts", f"INSERT INTO reports_fact({_EVENT_FACT_COLUMNS}) {_FIRST_FACT_SELECT.format(conversations='inbox_conversation')}"),
    ("inbound rollup", _INBOUND_INSERT + _INBOUND_SELECT.format(sign="", messages="inbox_message")),
]

# Merge the count deltas into one row per (bucket, channel, team): one statement, so a reader
# never sees a half-merged state; deltas committed meanwhile stay as rows of their own.
COMPACT_SQL = """
WITH gone AS (DELETE FROM reports_inboundrollup WHERE bucket >= %s RETURNING bucket, channel_kind, team_id, messages)
""" + _INBOUND_INSERT + """
SELECT bucket, channel_kind, team_id, sum(messages) FROM gone GROUP BY 1, 2, 3 HAVING sum(messages) <> 0
"""
