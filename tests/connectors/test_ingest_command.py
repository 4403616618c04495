"""manage.py ingest api FILE... --account X: replays raw payloads through the live path."""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.connectors.models import ChannelKind, DeadLetter
from apps.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "api"
GOOD = [str(FIXTURES / name) for name in ("web_form.json", "crm_batch.json", "jsonl_stream.json")]


@pytest.fixture
def api_account(make_account):
    return make_account(kind=ChannelKind.PUSH, name="Tienda CRM")


def ingest(*paths, account) -> tuple[int, str, str]:
    """Run the command; return (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", "api", *paths, "--account", str(account), "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_good_files_are_ingested_and_summarized(api_account):
    # when
    code, out, err = ingest(*GOOD, account="Tienda CRM")
    # then
    assert (code, out.strip().splitlines()[-1], err) == (0, "ingested 6 · duplicates 0 · failed 0", "")
    assert Message.objects.filter(channel_account=api_account).count() == 6
    assert Conversation.objects.get(thread_key="order-5512").message_count == 2


def test_running_it_again_finds_only_duplicates(api_account):
    # given
    ingest(*GOOD, account=api_account.id)
    # when
    code, out, _ = ingest(*GOOD, account=api_account.id)
    # then
    assert (code, out.strip()) == (0, "ingested 0 · duplicates 6 · failed 0")
    assert Message.objects.count() == 6


def test_failures_are_dead_letters_named_in_the_output_and_exit_1(api_account):
    # when: one good message, two invalid ones in a list, and a file that is not JSON
    code, out, err = ingest(str(FIXTURES / "partly_invalid.json"), str(FIXTURES / "malformed.json"), account="Tienda CRM")
    # then
    assert code == 1
    assert out.strip() == "ingested 1 · duplicates 0 · failed 3"
    dead = {d.id: d for d in DeadLetter.objects.all()}
    assert len(dead) == 3
    assert {(d.kind, d.source, d.channel_account_id) for d in dead.values()} == {("api", "import", api_account.id)}
    errors = sorted(d.error for d in dead.values())
    assert errors[0] == "message 0: external_id is required"
    assert errors[1].startswith("message 0: sent_at is not an ISO 8601 date-time: 'ayer por la tarde'")
    assert errors[2].startswith("not JSON")
    lines = err.strip().splitlines()
    assert len(lines) == 3
    assert any(line.startswith(f"failed: {FIXTURES / 'partly_invalid.json'}[1]: message 0: external_id is required") for line in lines)
    assert any(f"{FIXTURES / 'malformed.json'}: not JSON" in line for line in lines)
    assert all("(dead letter #" in line for line in lines)
    assert {int(line.rsplit("#", 1)[1].rstrip(")")) for line in lines} == set(dead)
    assert list(Message.objects.values_list("external_id", flat=True)) == ["ok-1"]


def test_a_directory_is_read_file_by_file(api_account):
    # when
    code, out, _ = ingest(str(FIXTURES), account="Tienda CRM")
    # then: every good message of every file, every bad one counted
    assert code == 1
    assert out.strip() == "ingested 7 · duplicates 0 · failed 3"


def test_an_unknown_account_or_file_is_a_clear_error(api_account):
    with pytest.raises(CommandError, match=r"no single channel account 'Nope'; known: .*Tienda CRM"):
        ingest(*GOOD, account="Nope")
    with pytest.raises(CommandError, match="no such file: /nonexistent.json"):
        ingest("/nonexistent.json", account="Tienda CRM")
    assert not Message.objects.exists()
