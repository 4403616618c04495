"""manage.py ingest webform FILE --account X: stored submissions replayed through parse + ingest."""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.connectors.models import DeadLetter
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db

SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions.ndjson"


def ingest(account) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", "webform", str(SUBMISSIONS), "--account", str(account.id), "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_a_file_of_submissions_replays_once_and_keeps_the_bad_one(webform_account, make_account, inbound):
    # given Luis phoned before (his number as a caller ID, another format)
    from apps.inbox.services.ingest import messages_ingest

    phone_account = make_account(kind="phone", name="Switchboard")
    messages_ingest(messages=[inbound(phone_account, phone="+34911234567", name="Luis")])
    luis = Customer.objects.get()

    # when the JSON-lines file is ingested
    code, out, err = ingest(webform_account)

    # then two submissions became form conversations, the bad one is a dead letter with its reason
    assert code == 1 and out.strip() == "ingested 2 · duplicates 0 · failed 1"
    assert "[2]: submission needs a non-empty list of fields" in err
    dead = DeadLetter.objects.get()
    assert dead.kind == "webform" and dead.channel_account_id == webform_account.id
    forms = Message.objects.filter(kind="form").order_by("sent_at")
    assert [m.subject for m in forms] == ["Contact us: Orders", "Call me back: Mornings"]
    assert Conversation.objects.filter(channel_account=webform_account).count() == 2
    # and Luis's callback request joined his history through the normalized phone number
    callback = forms[1]
    assert callback.customer_id == luis.id
    assert callback.details["form"]["fields"][1] == {"name": "last_name", "label": "Last name", "value": "Pérez", "type": "text"}
    # and Ana is one new customer with both identities
    ana = forms[0].customer
    assert ana.display_name == "Ana García"
    assert set(Identity.objects.filter(customer=ana).values_list("kind", "value")) == {
        ("email", "ana@example.com"), ("phone", "+34600112233")}

    # when the same file is ingested again: nothing twice
    code, out, _ = ingest(webform_account)
    assert out.strip() == "ingested 0 · duplicates 2 · failed 1"
    assert Message.objects.filter(kind="form").count() == 2
