"""New conversations take their priority from the rules; spam leaves the queue for good."""
import pytest

from apps.accounts.models import Role
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.routing.models import PriorityRule
from tests.builders import client_for


def _conversation(inbound, account, **kwargs) -> Conversation:
    ids = messages_ingest(messages=[inbound(account, **kwargs)]).message_ids
    return Conversation.objects.get(messages__id=ids[0])


@pytest.mark.django_db
def test_a_public_complaint_starts_above_a_private_question_by_default(make_account, inbound):
    account = make_account(kind="twitter")
    public = _conversation(inbound, account, email="a@example.com", is_public=True)
    private = _conversation(inbound, account, email="b@example.com", is_public=False)
    assert (public.priority, private.priority) == (Conversation.Priority.HIGH, Conversation.Priority.NORMAL)


@pytest.mark.django_db
def test_supervisors_change_the_rule_and_agents_cannot(make_user, make_account, inbound):
    rule = PriorityRule.objects.get()
    url = f"/api/priority-rules/{rule.id}/"
    assert client_for(make_user()).patch(url, {"priority": 3}, format="json").status_code == 403
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    assert supervisor.patch(url, {"priority": 3}, format="json").status_code == 200
    # a rule for one channel, placed first, wins over the general one
    created = supervisor.post("/api/priority-rules/", {"position": 1, "channel_kind": "email", "is_public": None, "priority": 0}, format="json")
    assert created.status_code == 201
    assert _conversation(inbound, make_account(kind="twitter"), email="c@example.com", is_public=True).priority == 3
    assert _conversation(inbound, make_account(kind="email"), email="d@example.com").priority == 0
    assert [r["position"] for r in client_for(make_user()).get("/api/priority-rules/").json()] == [1, 10]


@pytest.mark.django_db
def test_spam_leaves_the_queue_and_stays_out_when_the_sender_writes_again(make_user, make_account, inbound):
    account = make_account(kind="twitter")
    conversation = _conversation(inbound, account, email="troll@example.com", thread_key="t1")
    conversation_update(conversation=conversation, actor=make_user(), status=Conversation.Status.SPAM)
    messages_ingest(messages=[inbound(account, email="troll@example.com", thread_key="t1", minutes=5)])
    conversation.refresh_from_db()
    assert (conversation.status, conversation.waiting_since, conversation.message_count) == ("spam", None, 2)
