import json
from datetime import datetime, timezone

import pytest

from apps.connectors.registry import splitter_for
from apps.connectors.webform.parse import parse
from apps.inbox.inbound import ParseError, SenderIdentity

split = splitter_for("webform")  # the splitter the channel declares

SUBMISSION = {
    "id": "5b2f0c1e9a7d4e55b1c3d2a1f0e9d8c7",
    "form": "contact",
    "title": "Contact us",
    "fields": [
        {"name": "name", "label": "Your name", "type": "text", "value": "Ana García"},
        {"name": "email", "label": "Email", "type": "email", "value": "Ana@Example.com"},
        {"name": "phone", "label": "Phone", "type": "tel", "value": "600 11 22 33"},
        {"name": "topic", "label": "Topic", "type": "select", "value": "Billing"},
        {"name": "message", "label": "How can we help?", "type": "textarea", "value": "Charged twice.\nRefund one."},
    ],
    "submitted_at": "2026-11-20T10:00:00+00:00",
    "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0",
}


def raw(item) -> bytes:
    return json.dumps(item, ensure_ascii=False).encode()


def test_a_submission_becomes_a_form_message_with_its_fields_and_both_identities():
    # given a staged submission / when parsed
    (message,) = parse(raw(SUBMISSION), account_id=7)
    # then it is a form message of its own conversation, sent when submitted
    assert message.kind == "form"
    assert message.account_id == 7
    assert message.external_id == SUBMISSION["id"]
    assert message.thread_key == f"webform:{SUBMISSION['id']}"
    assert message.sent_at == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    # and the subject tells submissions apart (title + the chosen topic)
    assert message.subject == "Contact us: Billing"
    # and the text reads as label: value, long answers on their own lines
    assert message.text == (
        "Your name: Ana García\nEmail: Ana@Example.com\nPhone: 600 11 22 33\nTopic: Billing\n"
        "How can we help?:\nCharged twice.\nRefund one."
    )
    # and email then phone identify the sender, both named from the name field
    assert message.senders == [
        SenderIdentity("email", "Ana@Example.com", display_name="Ana García"),
        SenderIdentity("phone", "600 11 22 33", display_name="Ana García"),
    ]
    # and the structured fields follow the contract the desk renders
    form = message.metadata["form"]
    assert form["slug"] == "contact" and form["title"] == "Contact us"
    assert [(f["name"], f["label"], f["value"]) for f in form["fields"]][:2] == [
        ("name", "Your name", "Ana García"), ("email", "Email", "Ana@Example.com")]
    assert message.metadata["webform_client"] == {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}


def test_first_and_last_name_fields_make_the_display_name():
    item = {**SUBMISSION, "fields": [
        {"name": "first_name", "label": "First name", "value": "Luis"},
        {"name": "last_name", "label": "Last name", "value": "Pérez"},
        {"name": "email", "label": "Email", "type": "email", "value": "luis@example.com"},
    ]}
    (message,) = parse(raw(item), account_id=1)
    assert message.senders[0].display_name == "Luis Pérez"
    assert message.subject == "Contact us"  # nothing to summarise


def test_without_email_or_phone_the_visitor_gets_an_identity_of_the_submission():
    item = {**SUBMISSION, "fields": [{"name": "name", "label": "Name", "value": "Eva"},
                                     {"name": "comment", "label": "Comment", "type": "textarea", "value": "x" * 200}]}
    (message,) = parse(raw(item), account_id=1)
    assert message.senders == [SenderIdentity("web", f"webform:{SUBMISSION['id']}", display_name="Eva")]
    assert message.subject == "Contact us: " + "x" * 79 + "…"  # 80 characters in all


def test_a_submission_without_id_gets_a_stable_content_hash():
    item = {k: v for k, v in SUBMISSION.items() if k != "id"}
    first, second = parse(raw(item), account_id=1)[0], parse(raw(item), account_id=1)[0]
    assert first.external_id.startswith("sha256:") and first.external_id == second.external_id


@pytest.mark.parametrize("payload, error", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{nope", "not JSON"),
    (raw({**SUBMISSION, "form": ""}), "no form slug"),
    (raw({**SUBMISSION, "fields": []}), "non-empty list of fields"),
    (raw({**SUBMISSION, "fields": [{"label": "x"}]}), "needs a name"),
    (raw({**SUBMISSION, "fields": [{"name": "a", "type": "file", "value": "x"}]}), "type must be one of"),
    (raw({**SUBMISSION, "fields": [{"name": "a", "value": {"x": 1}}]}), "value must be a string"),
    (raw({**SUBMISSION, "submitted_at": None}), "no submitted_at"),
    (raw({**SUBMISSION, "submitted_at": "yesterday"}), "not an ISO 8601"),
    (raw([]), "no messages in payload"),
])
def test_bad_payloads_are_refused_with_a_reason(payload, error):
    with pytest.raises(ParseError, match=error):
        parse(payload, account_id=1)


def test_split_gives_one_payload_per_submission_of_a_list_or_json_lines():
    second = {**SUBMISSION, "id": "other"}
    assert [n for n, _ in split("f.json", raw([SUBMISSION, second]))] == ["f.json[0]", "f.json[1]"]
    lines = raw(SUBMISSION) + b"\n\n" + raw(second) + b"\n"
    payloads = list(split("f.ndjson", lines))
    assert [parse(p, account_id=1)[0].external_id for _, p in payloads] == [SUBMISSION["id"], "other"]
    # a broken file stays whole, so parse() says what is wrong
    assert list(split("bad.json", b"{nope")) == [("bad.json", b"{nope")]
