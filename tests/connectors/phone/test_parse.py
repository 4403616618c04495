"""Pure parsing: Twilio status callbacks and Asterisk Master.csv rows -> calls."""
import pytest

from apps.connectors.phone.parse import RECEIVED_AT, call_duration_text, parse_asterisk, parse_twilio, phone_e164, split_asterisk, split_twilio
from apps.inbox.inbound import ParseError

from .conftest import FIXTURES, OUR_NUMBER, as_raw, callback


def test_a_missed_inbound_call_needs_a_callback():
    # given a no-answer status callback
    raw = as_raw(callback("CA77", "no-answer", timestamp="Fri, 20 Nov 2026 09:00:30 +0000", CallerName="ANA GARCIA"))
    # when
    [m] = parse_twilio(raw, account_id=5)
    # then
    assert (m.external_id, m.kind, m.direction, m.opens_conversation, m.text) == (
        "twilio:CA77", "call", "in", True, "Missed inbound call (no-answer)"
    )
    assert m.senders[0].value == "+34600112233" and m.senders[0].display_name == "ANA GARCIA"
    assert m.sent_at.isoformat() == "2026-11-20T09:00:30+00:00"
    assert m.metadata["call"] == {
        "from": "+34600112233", "to": OUR_NUMBER, "direction": "inbound", "status": "no-answer",
        "started_at": "2026-11-20T09:00:30+00:00", "duration_seconds": 0, "recording_url": "",
        "needs_callback": True, "source": "twilio", "notes": "", "logged_by": None,
    }


def test_a_completed_call_starts_its_duration_before_the_timestamp_and_keeps_the_recording():
    # given a completed call: Timestamp is when it ended
    raw = as_raw(callback(status="completed", duration=252, RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"))
    # when
    [m] = parse_twilio(raw, account_id=5)
    # then it started 4 min 12 s earlier; answered inbound calls do not open work
    assert m.text == "Inbound call, 4 min 12 s"
    assert m.metadata["call"]["started_at"] == "2026-11-20T09:00:00+00:00"
    assert (m.metadata["call"]["duration_seconds"], m.metadata["call"]["needs_callback"], m.opens_conversation) == (252, False, False)
    assert m.metadata["call"]["recording_url"].endswith("/Recordings/RE1")


@pytest.mark.parametrize(("direction", "status", "out_opens", "text"), [
    ("outbound-api", "completed", True, "Outbound call, 1 min"),
    ("outbound-dial", "no-answer", False, "Outbound call not answered (no-answer)"),
])
def test_outbound_calls_belong_to_the_callee(direction, status, out_opens, text):
    # when
    [m] = parse_twilio(as_raw(callback(direction=direction, status=status, duration=60)), account_id=5)
    # then the customer is the number called; only an answered call-back answers
    assert (m.direction, m.senders[0].value, m.opens_conversation, m.text) == ("out", "+34600112233", out_opens, text)
    assert m.metadata["call"]["direction"] == "outbound"


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress"])
def test_intermediate_statuses_are_no_interaction(status):
    assert parse_twilio(as_raw(callback(status=status)), account_id=5) == []


def test_without_timestamp_the_time_the_webhook_received_it_is_used():
    fields = {k: v for k, v in callback("CA5", "busy").items() if k != "Timestamp"}
    with pytest.raises(ParseError, match="no Timestamp"):
        parse_twilio(as_raw(fields), account_id=5)
    [m] = parse_twilio(as_raw({**fields, RECEIVED_AT: "Fri, 20 Nov 2026 09:00:03 GMT"}), account_id=5)
    assert m.sent_at.isoformat() == "2026-11-20T09:00:03+00:00"


@pytest.mark.parametrize(("fields", "error"), [
    ({"CallStatus": "completed"}, "no CallSid"),
    ({**callback(), "Timestamp": "yesterday"}, "not an RFC 2822 date"),
    ({**callback(), "CallStatus": "exploded"}, "unknown CallStatus"),
    ({**callback(), "CallDuration": "4m"}, "not a whole number"),
])
def test_broken_callbacks_say_why(fields, error):
    with pytest.raises(ParseError, match=error):
        parse_twilio(as_raw(fields), account_id=5)


def test_split_twilio_reads_an_object_a_list_or_json_lines():
    one = as_raw(callback("CA1"))
    assert [n for n, _ in split_twilio("a.json", one)] == ["a.json"]
    assert [n for n, _ in split_twilio("b.json", b"[" + one + b"," + as_raw(callback("CA2")) + b"]")] == ["b.json:1", "b.json:2"]
    lines = list(split_twilio("c.jsonl", one + b"\n\n" + as_raw(callback("CA3")) + b"\n"))
    assert [parse_twilio(raw, account_id=1)[0].external_id for _, raw in lines] == ["twilio:CA1", "twilio:CA3"]


@pytest.mark.parametrize("seconds,text", [(0, "0 s"), (45, "45 s"), (180, "3 min"), (252, "4 min 12 s"), (3605, "1 h 5 s")])
def test_durations_read_like_a_person_says_them(seconds, text):
    assert call_duration_text(seconds) == text


@pytest.mark.parametrize("written", ["0911 234 567", "+34 911 23 45 67", "0034911234567", "911234567", "(+34) 911-234-567"])
def test_every_way_a_pbx_writes_a_spanish_number_is_one_e164(written):
    assert phone_e164(written) == "+34911234567"


# --- Asterisk ---------------------------------------------------------------------------------


def rows_of(name):
    raw = (FIXTURES / name).read_bytes()
    return [m for _, row in split_asterisk(name, raw) for m in parse_asterisk(row, account_id=9)]


def test_master_csv_21_columns_mixed_dispositions_quoted_commas_and_latin1():
    # when the real-shaped file (newcdrcolumns) is parsed row by row
    calls = rows_of("Master.csv")
    # then the internal 100 -> 101 call is skipped and the rest are calls
    summary = [(m.external_id, m.metadata["call"]["direction"], m.metadata["call"]["status"], m.senders[0].value) for m in calls]
    assert summary == [
        ("asterisk:1763629200.1:1", "inbound", "completed", "+34600112233"),
        ("asterisk:1763630102.3:3", "inbound", "no-answer", "+34911234567"),
        ("asterisk:1763632960.5:5", "inbound", "busy", "+34612345678"),
        ("asterisk:1763634600.7:7", "outbound", "completed", "+34600112233"),  # the call-back, outside-line 0 dropped
        ("asterisk:1763636400.9:9", "outbound", "failed", "+34933001122"),
        ("asterisk:1763637000.10:10", "inbound", "failed", "+34955667788"),  # CONGESTION
    ]
    # quoted clid with a comma, and a Latin-1 line, read as names
    assert [calls[1].senders[0].display_name, calls[2].senders[0].display_name] == ["Pérez, Juan", "José Muñoz"]
    # local time (Madrid, CET) kept with its offset; billsec is the talk time
    assert calls[0].sent_at.isoformat() == "2026-11-20T10:00:00+01:00"
    assert (calls[0].metadata["call"]["duration_seconds"], calls[0].text) == (252, "Inbound call, 4 min 12 s")
    assert calls[0].metadata["asterisk"]["linkedid"] == "1763629200.1"


def test_master_csv_16_columns_has_no_uniqueid_so_a_stable_hash_names_each_row():
    # when the same file is read twice
    first, again = rows_of("Master-16.csv"), rows_of("Master-16.csv")
    # then each row has the same sha256 name both times, and the two rows differ
    assert [m.external_id for m in first] == [m.external_id for m in again]
    assert all(m.external_id.startswith("asterisk:sha256:") for m in first) and len({m.external_id for m in first}) == 2
    assert [(m.metadata["call"]["direction"], m.metadata["call"]["status"]) for m in first] == [
        ("inbound", "no-answer"), ("outbound", "completed")
    ]


def test_master_csv_18_columns_reads_uniqueid_and_userfield():
    calls = rows_of("Master-18.csv")
    assert [m.external_id for m in calls] == ["asterisk:1763739900.17", "asterisk:1763740800.19"]
    assert calls[0].metadata["asterisk"]["userfield"] == "vip"


@pytest.mark.parametrize(("extra", "expected"), [
    (',"1763629200.1"', {"uniqueid": "1763629200.1"}),  # loguniqueid only: 17 columns
    (',"vip"', {"userfield": "vip"}),  # loguserfield only: 17 columns
    (',"","1763629200.1",4', {"linkedid": "1763629200.1"}),  # newcdrcolumns only: 19 columns
    (',"1763629200.1","","","1763629200.1",4', {"uniqueid": "1763629200.1", "linkedid": "1763629200.1"}),  # 21
])
def test_every_cdr_csv_column_option_is_recognised(extra, expected):
    base = ('"","600112233","100","from-pstn","""Ana"" <600112233>","SIP/t-1","SIP/100-2","Dial","SIP/100","2026-11-20 10:00:00",'
            '"2026-11-20 10:00:01","2026-11-20 10:00:11",11,10,"ANSWERED","DOCUMENTATION"')
    [m] = parse_asterisk((base + extra).encode(), account_id=1)
    assert {k: m.metadata["asterisk"][k] for k in expected} == expected


def test_usegmtime_files_are_read_as_utc(settings):
    settings.ASTERISK_TIMEZONE = "UTC"
    assert rows_of("Master.csv")[0].sent_at.isoformat() == "2026-11-20T10:00:00+00:00"


def test_a_cdr_custom_file_in_the_sample_mapping_is_read_by_its_columns():
    # given: cdr_custom.conf's sample mapping cut after billsec (no disposition column)
    raw = (FIXTURES / "cdr_custom.csv").read_bytes()
    # when
    [(name, row)] = list(split_asterisk("cdr_custom.csv", raw))
    [call] = parse_asterisk(row, account_id=1)
    # then: Ana's call, answered (billed seconds), inbound from the PSTN context
    assert (call.direction, call.metadata["call"]["status"], call.senders[0].value) == ("in", "completed", "+34600112233")
    assert call.senders[0].display_name == "Ana García"
    assert call.metadata["call"]["duration_seconds"] == 252


def test_a_spreadsheet_export_is_refused_as_a_whole_with_the_reason():
    raw = (FIXTURES / "spreadsheet_export.csv").read_bytes()
    with pytest.raises(ParseError, match=r"spreadsheet_export.csv: not an Asterisk cdr_csv Master.csv.*1 columns"):
        list(split_asterisk("spreadsheet_export.csv", raw))


def test_a_same_width_file_of_another_layout_is_refused_by_its_values():
    # given 16 columns whose 10th is not a time (a spreadsheet export, columns reordered)
    raw = b'"600112233","Ana","100","x","y","z","a","b","c","20/11/2026 10:00","","20/11/2026 10:01",60,50,"ANSWERED","DOC"\n'
    with pytest.raises(ParseError, match=r"column 10 \(start\) is '20/11/2026 10:00', not a time"):
        list(split_asterisk("export.csv", raw))


def test_a_header_line_is_skipped_and_a_bad_row_later_fails_alone():
    header = b"accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags\n"
    good = (FIXTURES / "Master-16.csv").read_bytes()
    rows = list(split_asterisk("m.csv", header + good + b'"","1","2"\n'))
    assert [name for name, _ in rows] == ["m.csv:2", "m.csv:3", "m.csv:4"]
    with pytest.raises(ParseError, match="line 1: .*3 columns"):
        parse_asterisk(rows[-1][1], account_id=1)


def test_internal_calls_are_not_even_payloads():
    # given the fixture's 7th row: extension 100 calls extension 101
    raw = (FIXTURES / "Master.csv").read_bytes()
    internal = raw.splitlines()[6]
    # then the splitter leaves it out (imports count only customer calls) and parse ignores it
    assert [name for name, _ in split_asterisk("Master.csv", raw)] == [f"Master.csv:{i}" for i in range(1, 7)]
    assert parse_asterisk(internal, account_id=1) == []


def test_the_whole_file_as_one_payload_parses_too():
    # a dead letter replayed or a file ingested without its splitter
    calls = parse_asterisk((FIXTURES / "Master.csv").read_bytes(), account_id=1)
    assert len(calls) == 6


@pytest.mark.parametrize("caller", ["+266696687", "anonymous", "Restricted"])
def test_a_withheld_number_is_no_identity_and_asks_for_no_call_back(caller):
    # when an anonymous caller hangs up before we answer
    [m] = parse_twilio(as_raw(callback("CA9", "no-answer", customer=caller)), account_id=1)
    # then kept, but with no identity to merge every anonymous caller into, and no call-back to owe
    assert (m.senders, m.opens_conversation, m.metadata["call"]["needs_callback"]) == ([], False, False)
    assert m.text == "Missed inbound call (no-answer)"


def test_an_anonymous_asterisk_caller_is_inbound_without_identity():
    row = ('"","","100","from-pstn","""Anonymous"" <anonymous>","SIP/t-1","SIP/100-2","Dial","SIP/100","2026-11-20 10:00:00",'
           '"","2026-11-20 10:00:11",11,0,"NO ANSWER","DOCUMENTATION"')
    [m] = parse_asterisk(row.encode(), account_id=1)
    assert (m.metadata["call"]["direction"], m.senders, m.metadata["call"]["needs_callback"]) == ("inbound", [], False)
