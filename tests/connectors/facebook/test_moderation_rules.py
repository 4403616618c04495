"""The insult policy: a priority rule marks an insulting public comment for moderation — flagged, or
hidden on Facebook (the real facebook-sdk against the loopback Graph API) with the reason audited —
and the comment stays in the history."""
import json

import pytest

from apps.connectors.facebook.parse import parse
from apps.inbox.models import ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest
from apps.routing.models import PriorityRule

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db

INSULTS = "imbécil*, idiota*, inútiles, gilipollas, idiot*, morons"


def _comment(account, text: str):
    """The real comment webhook payload, with the customer's words replaced."""
    body = json.loads(fixture_bytes("comment_add.json"))
    body["entry"][0]["changes"] = body["entry"][0]["changes"][:1]
    body["entry"][0]["changes"][0]["value"]["message"] = text
    messages_ingest(messages=parse(json.dumps(body).encode(), account_id=account.id))
    return Message.objects.get(channel_account=account, external_id="comment:889900112233_4001")


def test_an_insulting_comment_is_hidden_on_facebook_and_kept(fb_account, graph, eager_celery, django_capture_on_commit_callbacks):
    # given a rule that hides insults in public comments
    PriorityRule.objects.create(position=5, name="insults", is_public=True, keywords=INSULTS, moderation="hide")
    # when a customer's comment insults the Page, in capitals and with accents
    with django_capture_on_commit_callbacks(execute=True):
        comment = _comment(fb_account, "Sois unos INÚTILES y unos IMBÉCILES")
    # then Facebook was asked to hide it, and the desk keeps it, flagged and marked hidden
    [call] = graph.posts("/889900112233_4001")
    assert call["form"]["is_hidden"] == "true"
    comment.refresh_from_db()
    assert comment.text == "Sois unos INÚTILES y unos IMBÉCILES"
    assert comment.metadata["facebook"]["hidden"] is True
    moderation = comment.metadata["moderation"]
    assert (moderation["flagged"], moderation["action"]) == (True, "hide")
    assert [(r["name"], r["words"], r["moderation"]) for r in moderation["reasons"]] == [("insults", ["inútiles", "imbécil*"], "hide")]
    # and the audit trail says that the rules flagged it, then hid it, and why
    actions = list(ConversationEvent.objects.filter(conversation=comment.conversation, kind="moderated")
                   .order_by("id").values_list("actor", "data"))
    assert [(actor, data["action"], data["by"]) for actor, data in actions] == [
        (None, "comment_flagged", "rules"), (None, "comment_hidden", "rules")]
    assert actions[1][1]["reasons"][0]["words"] == ["inútiles", "imbécil*"]
    # the conversation is still there with its message (nothing dropped), and still public-complaint High
    assert comment.conversation.messages.count() == 1
    assert comment.conversation.priority == 2


def test_a_flag_rule_only_marks_it_and_a_calm_comment_is_left_alone(fb_account, graph, eager_celery, django_capture_on_commit_callbacks):
    PriorityRule.objects.create(position=5, name="insults", is_public=True, keywords=INSULTS, moderation="flag")
    with django_capture_on_commit_callbacks(execute=True):
        comment = _comment(fb_account, "Menudos idiotas")
    assert graph.posts("/889900112233_4001") == []
    assert comment.metadata["moderation"]["action"] == "flag"
    assert comment.metadata["facebook"]["hidden"] is False
    # the desk shows the flag on the message (the API's details)
    assert comment.details["moderation"]["flagged"] is True


def test_a_calm_comment_is_not_flagged(fb_account, graph, eager_celery, django_capture_on_commit_callbacks):
    PriorityRule.objects.create(position=5, name="insults", is_public=True, keywords=INSULTS, moderation="hide")
    with django_capture_on_commit_callbacks(execute=True):
        comment = _comment(fb_account, "¿Cuándo llega mi sofá? Soy Idoia")  # "idiota*" is not "Idoia"
    assert graph.posts("/889900112233_4001") == []
    assert "moderation" not in comment.metadata


def test_when_facebook_refuses_the_comment_stays_flagged_with_the_error(fb_account, graph, eager_celery, django_capture_on_commit_callbacks):
    PriorityRule.objects.create(position=5, name="insults", is_public=True, keywords=INSULTS, moderation="hide")
    graph.fail("/889900112233_4001", status=400, code=100, message="(#100) Invalid parameter")
    with django_capture_on_commit_callbacks(execute=True):
        comment = _comment(fb_account, "gilipollas")
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is False
    assert comment.metadata["moderation"]["flagged"] is True
    assert "Invalid parameter" in comment.metadata["moderation"]["error"]
    assert not ConversationEvent.objects.filter(kind="moderated", data__action="comment_hidden").exists()
