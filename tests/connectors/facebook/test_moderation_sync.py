"""A comment hidden (or shown again) on Facebook itself shows so in the desk, via the signed feed webhook:
staged like every webhook, applied by the drain as a status of the stored comment."""
import json

import pytest

from apps.connectors.drain import inbound_drain
from apps.inbox.models import ConversationEvent, Message
from apps.inbox.visibility import ALL_GROUP
from tests.builders import events_heard

from .conftest import PAGE_ID, sign
from .test_replies import comment_conversation

pytestmark = pytest.mark.django_db


def feed_event(verb: str, comment_id: str) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": verb, "post_id": f"{PAGE_ID}_889900112233", "comment_id": comment_id,
        "parent_id": f"{PAGE_ID}_889900112233", "created_time": 1763630000}}]}]}).encode()


def test_a_comment_hidden_on_facebook_is_marked_hidden_and_shown_again(fb_account, client, django_capture_on_commit_callbacks):
    # given a customer's comment in the desk
    comment = comment_conversation(fb_account).messages.get(external_id="comment:889900112233_4001")
    post = lambda raw: client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json",  # noqa: E731
                                   HTTP_X_HUB_SIGNATURE_256=sign(raw))
    # when a Page moderator hides it on Facebook (the feed webhook says "hide")
    post(feed_event("hide", "889900112233_4001"))
    # then the webhook only staged it: nothing changed yet
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is False

    def drain():
        with django_capture_on_commit_callbacks(execute=True):
            assert inbound_drain().ingested == 0  # nothing new ingested

    heard = events_heard([ALL_GROUP], drain)
    # and once drained the desk marks it hidden, live, with an audit event
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is True
    assert [e["message"]["details"]["facebook"]["hidden"] for e in heard if e["type"] == "message.updated"] == [True]
    event = ConversationEvent.objects.get(conversation=comment.conversation, kind="moderated")
    assert (event.actor, event.data["action"], event.data["on"], event.data["comment_id"]) == (
        None, "comment_hidden", "facebook", "889900112233_4001")
    # when it is shown again, then the mark goes
    post(feed_event("unhide", "889900112233_4001"))
    inbound_drain()
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is False
    # and a forged hide changes nothing
    forged = feed_event("hide", "889900112233_4001")
    assert client.post(f"/hooks/facebook/{fb_account.id}/", data=forged, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64).status_code == 403
    inbound_drain()
    assert Message.objects.get(pk=comment.pk).metadata["facebook"]["hidden"] is False
