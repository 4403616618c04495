"""FreeSWITCH CDRs (issue 16): mod_cdr_csv's default template and mod_json_cdr documents become
calls with the same shape and idempotence as Asterisk's; the files are in fixtures/."""
from io import StringIO

import pytest
from django.core.management import call_command

from apps.connectors.phone.freeswitch import parse_freeswitch, split_freeswitch
from apps.crm.models import Customer
from apps.inbox.inbound import ParseError
from apps.inbox.models import Message

from .conftest import FIXTURES


def test_csv_rows_become_calls_with_status_direction_and_names():
    # when
    calls = parse_freeswitch((FIXTURES / "freeswitch_cdr.csv").read_bytes(), account_id=1)
    # then: four calls (extension to extension skipped)
    assert [(c.direction, c.metadata["call"]["status"], c.metadata["call"]["from"]) for c in calls] == [
        ("in", "completed", "+34600112233"),
        ("in", "no-answer", "+34911234567"),
        ("in", "busy", "+34612345678"),
        ("out", "completed", "100"),
    ]
    assert calls[0].senders[0].display_name == "Ana García"
    assert calls[0].metadata["call"]["duration_seconds"] == 252
    assert calls[1].metadata["call"]["needs_callback"] is True
    assert calls[3].senders[0].value == "+34600112233"  # an outbound call's customer is the one called
    assert calls[0].external_id == "freeswitch:a1b2c3d4-0001-4f00-9a00-000000000001"


def test_a_json_cdr_becomes_a_call():
    [call] = parse_freeswitch((FIXTURES / "freeswitch_cdr.json").read_bytes(), account_id=1)
    assert (call.direction, call.metadata["call"]["status"], call.senders[0].value) == ("in", "canceled", "+34655443322")
    assert call.senders[0].display_name == "Lucía Fernández"
    assert call.sent_at.isoformat() == "2025-11-20T09:30:00+00:00"
    assert call.metadata["call"]["needs_callback"] is True


def test_another_layout_is_refused_as_a_whole_with_the_reason():
    with pytest.raises(ParseError, match="not a FreeSWITCH CDR.*a row has 13 columns"):
        list(split_freeswitch("cdr_custom.csv", (FIXTURES / "cdr_custom.csv").read_bytes()))


@pytest.mark.django_db
def test_the_import_command_reads_both_and_a_rerun_adds_nothing(phone_account):
    def ingest() -> str:
        out = StringIO()
        call_command("ingest", "freeswitch", str(FIXTURES / "freeswitch_cdr.csv"), str(FIXTURES / "freeswitch_cdr.json"),
                     "--account", str(phone_account.id), "--no-progress", stdout=out, stderr=StringIO())
        return out.getvalue().strip()

    assert ingest() == "ingested 5 · duplicates 0 · failed 0"
    assert ingest() == "ingested 0 · duplicates 5 · failed 0"
    assert Message.objects.filter(kind="call", channel_account=phone_account).count() == 5
    assert Customer.objects.get(identities__value="+34655443322").display_name == "Lucía Fernández"
