"""The composer's visibility rule, as reply_create enforces it for every channel."""
import pytest

from apps.core.errors import ApplicationError
from apps.inbox.services.replies import reply_create
from tests.builders import conversations


@pytest.mark.django_db
def test_a_single_visibility_channel_refuses_the_other_and_defaults_to_its_own(make_user, make_account, inbound, eager_celery):
    # given an email conversation (private only, no choice offered)
    (conversation,) = conversations(inbound, make_account(kind="email"), 1)
    agent = make_user()
    # when an agent asks for a public reply, then it is refused with the reason
    with pytest.raises(ApplicationError, match="Only private replies"):
        reply_create(conversation=conversation, author=agent, text="Hola", is_public=True)
    # and without a choice the reply is private
    assert reply_create(conversation=conversation, author=agent, text="Hola", is_public=None).is_public is False


@pytest.mark.django_db
def test_a_channel_with_a_choice_uses_its_default_and_accepts_either(make_user, make_account, inbound, eager_celery):
    # given a public tweet thread
    (conversation,) = conversations(inbound, make_account(kind="twitter", settings={"handle": "AuroraHome"}), 1, thread_key="tweet:1", is_public=True)
    agent = make_user()
    assert reply_create(conversation=conversation, author=agent, text="Lo miramos", is_public=None).is_public is True
    assert reply_create(conversation=conversation, author=agent, text="Te escribimos por DM", is_public=False).is_public is False
