"""Master.csv imports: `manage.py ingest asterisk FILE --account N` and the admin upload."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind, DeadLetter
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db


def ingest(path, account) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", "asterisk", str(path), "--account", str(account.id), "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue().strip(), err.getvalue()


def test_a_real_master_csv_imports_once_even_when_imported_twice(phone_account):
    # when the file is imported, then imported again
    first = ingest(FIXTURES / "Master.csv", phone_account)
    second = ingest(FIXTURES / "Master.csv", phone_account)
    # then six calls (the internal one skipped), and the second run finds only duplicates
    assert first == (0, "ingested 6 · duplicates 0 · failed 0", "")
    assert second == (0, "ingested 0 · duplicates 6 · failed 0", "")
    assert Message.objects.filter(channel_account=phone_account, kind="call").count() == 6
    # each caller is one customer, found by E.164 whatever the PBX wrote
    assert sorted(Identity.objects.filter(kind="phone").values_list("value", flat=True)) == [
        "+34600112233", "+34612345678", "+34911234567", "+34933001122", "+34955667788",
    ]
    assert Customer.objects.get(identities__value="+34612345678").display_name == "José Muñoz"
    assert Customer.objects.get(identities__value="+34911234567").display_name == "Pérez, Juan"


def test_imported_dispositions_thread_like_live_calls(phone_account):
    # when
    ingest(FIXTURES / "Master.csv", phone_account)
    # then Ana's answered call and the call-back are history (resolved: nothing to do), the missed,
    # busy and congested inbound calls wait for a call-back, the failed outbound call waits for nobody
    statuses = {
        c.customer.identities.get().value: (c.status, c.waiting_since is not None)
        for c in Conversation.objects.select_related("customer")
    }
    assert statuses == {
        "+34600112233": ("resolved", False),
        "+34911234567": ("open", True),
        "+34612345678": ("open", True),
        "+34955667788": ("open", True),
        "+34933001122": ("resolved", False),
    }
    ana = Conversation.objects.get(customer__identities__value="+34600112233")
    assert ana.message_count == 2 and ana.first_response_at is not None


@pytest.mark.parametrize(("name", "calls"), [("Master-16.csv", 2), ("Master-18.csv", 2)])
def test_16_and_18_column_files_import_idempotently(phone_account, name, calls):
    assert ingest(FIXTURES / name, phone_account)[1] == f"ingested {calls} · duplicates 0 · failed 0"
    assert ingest(FIXTURES / name, phone_account)[1] == f"ingested 0 · duplicates {calls} · failed 0"


def test_a_file_of_another_layout_is_reported_kept_and_the_next_file_still_imports(phone_account, tmp_path):
    # given: a spreadsheet export first, then a good Master.csv, in one run
    folder = tmp_path / "cdrs"
    folder.mkdir()
    (folder / "1-export.csv").write_bytes((FIXTURES / "spreadsheet_export.csv").read_bytes())
    (folder / "2-Master-18.csv").write_bytes((FIXTURES / "Master-18.csv").read_bytes())
    # when
    code, out, err = ingest(folder, phone_account)
    # then: the refused file is named with its reason and kept whole; the next one imported
    assert (code, out) == (1, "ingested 2 · duplicates 0 · failed 1")
    assert "1-export.csv: not an Asterisk cdr_csv Master.csv" in err and "1 columns" in err
    dead = DeadLetter.objects.get()
    assert (dead.kind, dead.source, bytes(dead.raw)) == ("asterisk", "import", (FIXTURES / "spreadsheet_export.csv").read_bytes())
    assert Message.objects.filter(kind="call").count() == 2


def test_a_broken_row_in_a_good_file_is_a_dead_letter_and_the_rest_imports(phone_account, tmp_path):
    # given a good file with a truncated row at the end (the PBX crashed mid-write)
    path = tmp_path / "Master.csv"
    path.write_bytes((FIXTURES / "Master-18.csv").read_bytes() + b'"sales","611223344","200","ext-did"\n')
    # when
    code, out, err = ingest(path, phone_account)
    # then
    assert (code, out) == (1, "ingested 2 · duplicates 0 · failed 1")
    assert "Master.csv:3: line 1: not an Asterisk cdr_csv Master.csv" in err
    dead = DeadLetter.objects.get()
    assert (dead.kind, bytes(dead.raw)) == ("asterisk", b'"sales","611223344","200","ext-did"')


# --- admin upload -------------------------------------------------------------------------------


@pytest.fixture
def admin_user(make_user):
    return make_user(role=Role.ADMIN, is_staff=True, is_superuser=True)


def upload(client, account, path):
    url = reverse("admin:connectors_channelaccount_asterisk_upload", args=[account.id])
    with open(path, "rb") as f:
        return client.post(url, {"file": f})


def test_an_admin_uploads_a_master_csv_and_sees_the_counts(client, admin_user, phone_account):
    client.force_login(admin_user)
    # when the file is uploaded twice
    first = upload(client, phone_account, FIXTURES / "Master.csv")
    second = upload(client, phone_account, FIXTURES / "Master.csv")
    # then the counts are shown and the calls exist once
    assert first.status_code == 200 and (first.context["counts"].ingested, first.context["counts"].duplicates) == (6, 0)
    assert (second.context["counts"].ingested, second.context["counts"].duplicates) == (0, 6)
    assert b'id="import-counts"' in second.content
    assert Message.objects.filter(kind="call").count() == 6


def test_an_upload_of_another_layout_shows_why_it_was_refused(client, admin_user, phone_account):
    client.force_login(admin_user)
    response = upload(client, phone_account, FIXTURES / "spreadsheet_export.csv")
    assert response.status_code == 200
    assert "not an Asterisk cdr_csv Master.csv" in response.context["error"]
    assert b'id="import-error"' in response.content and not Message.objects.exists()


def test_the_changelist_action_leads_to_the_upload_page_for_one_phone_account(client, admin_user, phone_account, make_account):
    client.force_login(admin_user)
    changelist = reverse("admin:connectors_channelaccount_changelist")
    response = client.post(changelist, {"action": "asterisk_upload", "_selected_action": [phone_account.id]})
    assert response.status_code == 302 and response.url.endswith(f"/{phone_account.id}/asterisk-upload/")
    # an email account is not a phone account
    email = make_account(kind=ChannelKind.EMAIL)
    assert client.get(reverse("admin:connectors_channelaccount_asterisk_upload", args=[email.id])).status_code == 404


def test_agents_cannot_reach_the_upload_page(client, make_user, phone_account):
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(reverse("admin:connectors_channelaccount_asterisk_upload", args=[phone_account.id]))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_manage_py_ingest_twilio_replays_callbacks_through_the_same_path(phone_account):
    # given a file of three callbacks (one intermediate) of a missed call and its call-back
    out, err = StringIO(), StringIO()
    for _ in range(2):
        call_command("ingest", "twilio", str(FIXTURES / "twilio_callbacks.json"), "--account", str(phone_account.id),
                     "--no-progress", stdout=out, stderr=err)
    # then two calls, once; the conversation was answered by the call-back
    assert out.getvalue().splitlines() == ["ingested 2 · duplicates 0 · failed 0", "ingested 0 · duplicates 2 · failed 0"]
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.waiting_since) == (2, None)
    assert conversation.customer.display_name == "MARTA RUIZ"
    call_back = Message.objects.get(external_id="twilio:CA0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d")
    assert call_back.details["call"]["recording_url"].endswith("/Recordings/RE11aa22bb33cc44dd55ee66ff77889900")


def test_a_phone_accounts_admin_page_links_to_the_upload(client, admin_user, phone_account, make_account):
    client.force_login(admin_user)
    upload_url = reverse("admin:connectors_channelaccount_asterisk_upload", args=[phone_account.id])
    page = client.get(reverse("admin:connectors_channelaccount_change", args=[phone_account.id]))
    assert page.status_code == 200 and upload_url.encode() in page.content
    email = make_account(kind=ChannelKind.EMAIL)
    assert b"asterisk-upload" not in client.get(reverse("admin:connectors_channelaccount_change", args=[email.id])).content


def test_a_large_upload_is_staged_for_the_worker_and_still_imports_once(client, admin_user, phone_account, monkeypatch):
    from apps.connectors.models import InboundPayload
    from apps.connectors.phone import admin as phone_admin
    from apps.connectors.drain import inbound_drain

    # given files above the in-request size go to the worker
    monkeypatch.setattr(phone_admin, "SYNC_IMPORT_BYTES", 100)
    client.force_login(admin_user)
    for _ in range(2):
        # when the file is uploaded (twice) and the worker drains
        response = upload(client, phone_account, FIXTURES / "Master.csv")
        assert (response.status_code, response.context["staged"]) == (200, 6)
        assert InboundPayload.objects.filter(kind="asterisk", source="import").count() == 6
        inbound_drain()
    # then the calls exist once and nothing is left staged
    assert Message.objects.filter(kind="call").count() == 6 and not InboundPayload.objects.exists()
