"""A customer who tweets, then writes on Messenger with the same email, is one customer with one history."""
import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.connectors.drain import inbound_drain, payloads_import
from apps.crm.models import Customer

from tests.builders import client_for

from .conftest import messenger_event, sign, webhook_body

pytestmark = pytest.mark.django_db

TWITTER_FIXTURE = "tests/connectors/twitter/fixtures/mentions_page.json"


def test_same_email_in_a_tweet_and_on_messenger_is_one_timeline(fb_account, make_account, make_user, client, settings,
                                                                django_assert_max_num_queries):
    # given: a mention that gives an email (through the Twitter parser, as the Twitter poll stores it)
    twitter = make_account(kind=ChannelKind.TWITTER, name="@TiendaSoporte", team=fb_account.team)
    with open(settings.BASE_DIR / TWITTER_FIXTURE, "rb") as f:
        payloads_import(kind="twitter", account=twitter, payloads=[("mentions", f.read())])
    tweeter = Customer.objects.get(identities__kind="email", identities__value="lucia.romero@example.com")
    # when: the same person writes to the Page on Messenger, quoting that email
    raw = webhook_body(messenger_event("6600112233445566", "m_same_person", "Soy Lucía, mi correo es Lucia.Romero@example.com",
                                       at_ms=int(timezone.now().timestamp() * 1000)))
    assert client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=sign(raw)).status_code == 200
    inbound_drain()
    # then: the Messenger identity joined the tweeter
    assert set(tweeter.identities.values_list("kind", flat=True)) >= {"twitter", "email", "facebook"}
    supervisor = make_user(role=Role.SUPERVISOR)
    api = client_for(supervisor)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/customers/{tweeter.id}/timeline/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows[0]["channel"]["kind"] == "facebook" and rows[0]["text"].startswith("Soy Lucía")
    assert {r["channel"]["kind"] for r in rows} == {"twitter", "facebook"}
    assert len({r["conversation_id"] for r in rows}) == 2
