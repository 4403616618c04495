import pytest

from apps.accounts.models import Role
from apps.core.errors import ApplicationError
from apps.crm.models import Customer, CustomerMerge, Identity, MergeSuggestion
from apps.crm.services import customer_merge, merge_suggestion_dismiss
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_anas(make_account, inbound):
    """One person known twice: by email on the API channel, by phone on the phone line; a form links both."""
    api, phone = make_account(), make_account(kind="phone")
    messages_ingest(messages=[inbound(api, "e-1", email="ana@example.com"), inbound(api, "e-2", email="ana@example.com", minutes=1)])
    messages_ingest(messages=[inbound(phone, "p-1", phone="+34600112233", name="Ana G", minutes=2)])
    messages_ingest(messages=[inbound(api, "f-1", email="ana@example.com", phone="600 11 22 33", minutes=3)])
    by_email = Identity.objects.get(kind="email").customer
    by_phone = Identity.objects.get(kind="phone").customer
    return by_email, by_phone


def test_merge_moves_everything_and_records_it(two_anas, make_user):
    # given two records of Ana and the suggestion ingest raised
    target, source = two_anas
    agent = make_user()
    assert MergeSuggestion.objects.get().status == "open"
    source_conversations = list(Conversation.objects.filter(customer=source).values_list("id", flat=True))
    # when
    merge = customer_merge(target=target, source=source, actor=agent)
    # then identities, conversations and messages belong to the target
    assert set(Identity.objects.values_list("customer_id", flat=True)) == {target.id}
    assert set(Conversation.objects.values_list("customer_id", flat=True)) == {target.id}
    assert set(Message.objects.values_list("customer_id", flat=True)) == {target.id}
    # and the source is a tombstone, the suggestion resolved, the merge recorded with counts
    source.refresh_from_db()
    assert source.merged_into_id == target.id
    assert MergeSuggestion.objects.get().status == "merged"
    assert (merge.target_id, merge.source_id, merge.merged_by_id, merge.source_display_name) == (target.id, source.id, agent.id, "Ana G")
    assert merge.moved == {"identities": 1, "conversations": 1, "messages": 1, "merge_suggestions": 1}
    # and every moved conversation has its audit event
    events = ConversationEvent.objects.filter(kind="customer_merged")
    assert [(e.conversation_id, e.actor_id, e.data) for e in events] == [
        (source_conversations[0], agent.id, {"from": source.id, "to": target.id, "merge_id": merge.id})
    ]


def test_later_messages_of_the_merged_person_land_on_the_survivor(two_anas, make_user, make_account, inbound):
    target, source = two_anas
    customer_merge(target=target, source=source, actor=make_user())
    messages_ingest(messages=[inbound(make_account(kind="phone"), "p-2", phone="+34 600 112 233", minutes=9)])
    assert Message.objects.get(external_id="p-2").customer_id == target.id


def test_merge_refuses_itself_and_tombstones(two_anas, make_user):
    target, source = two_anas
    user = make_user()
    with pytest.raises(ApplicationError, match="itself"):
        customer_merge(target=target, source=target, actor=user)
    customer_merge(target=target, source=source, actor=user)
    with pytest.raises(ApplicationError, match="already merged"):
        customer_merge(target=target, source=Customer.objects.get(pk=source.pk), actor=user)
    assert CustomerMerge.objects.count() == 1


def test_chains_stay_one_hop_and_suggestions_follow_the_survivor(make_user):
    # given A <- B (merged earlier), and an open suggestion between B... and C
    user = make_user()
    a, b, c, d = (Customer.objects.create(display_name=n) for n in "ABCD")
    old = Customer.objects.create(display_name="old", merged_into=b)
    MergeSuggestion.objects.create(customer=b, other=c, reason="phone")
    MergeSuggestion.objects.create(customer=d, other=b, reason="email")
    MergeSuggestion.objects.create(customer=a, other=d, reason="handle")
    # when B is merged into A
    merge = customer_merge(target=a, source=b, actor=user)
    # then the old tombstone points at A directly
    old.refresh_from_db()
    assert old.merged_into_id == a.id
    # and B's suggestions now concern A (C's is moved; D's duplicates A–D and is closed)
    open_pairs = set(MergeSuggestion.objects.filter(status="open").values_list("customer_id", "other_id"))
    assert open_pairs == {(a.id, c.id), (a.id, d.id)}
    assert merge.moved["merge_suggestions"] == 2


def test_dismiss_closes_a_suggestion_once(two_anas, make_user):
    suggestion = MergeSuggestion.objects.get()
    dismissed = merge_suggestion_dismiss(suggestion=suggestion, actor=make_user())
    assert dismissed.status == "dismissed"
    with pytest.raises(ApplicationError):
        merge_suggestion_dismiss(suggestion=suggestion, actor=make_user())


# --- through the API ------------------------------------------------------------------------------


def test_merge_endpoint(two_anas, make_user):
    # given an agent who sees both customers (their conversations are team-less)
    target, source = two_anas
    agent = make_user()
    client = client_for(agent)
    # when
    response = client.post(f"/api/customers/{target.id}/merge/", {"other_id": source.id}, format="json")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["target"] == {"id": target.id, "display_name": target.display_name, "name": target.name, "avatar": target.avatar}
    assert body["source_id"] == source.id
    assert body["merged_by"] == {"id": agent.id, "username": agent.username}
    assert body["moved"]["conversations"] == 1
    # and merging it again is a clear error
    again = client.post(f"/api/customers/{target.id}/merge/", {"other_id": source.id}, format="json")
    assert again.status_code == 400


def test_agent_cannot_merge_a_customer_they_cannot_see(make_user, team, make_account, inbound):
    # given Ana on team A's channel and Bea on team B's, and an agent of team A
    team_b = make_user().teams.create(name="B")
    messages_ingest(messages=[inbound(make_account(team=team), email="ana@example.com")])
    messages_ingest(messages=[inbound(make_account(team=team_b), email="bea@example.com", name="Bea")])
    ana = Identity.objects.get(value="ana@example.com").customer
    bea = Identity.objects.get(value="bea@example.com").customer
    agent = make_user(teams=[team])
    # when the agent tries either way
    one = client_for(agent).post(f"/api/customers/{ana.id}/merge/", {"other_id": bea.id}, format="json")
    two = client_for(agent).post(f"/api/customers/{bea.id}/merge/", {"other_id": ana.id}, format="json")
    # then 404 (Bea does not exist for this agent), and nothing moved
    assert (one.status_code, two.status_code) == (404, 404)
    assert not CustomerMerge.objects.exists()
    # while a supervisor may
    supervisor = make_user(role=Role.SUPERVISOR)
    assert client_for(supervisor).post(f"/api/customers/{ana.id}/merge/", {"other_id": bea.id}, format="json").status_code == 200
