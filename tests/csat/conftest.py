"""CSAT tests reuse the channels' loopback servers: aiosmtpd (+ Dovecot for the certificate and the
customer's mailbox), the Graph API and X API stand-ins, and the push channel's reply receiver."""
import pytest

from apps.connectors.models import ChannelAccount
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from tests.connectors.email.conftest import (  # noqa: F401  (fixtures)
    customer_box, dovecot, email_account, email_settings, mailbox_user, smtp_server, smtp_settings,
)
from tests.connectors.facebook.conftest import _graph_process_server, fb_account, graph  # noqa: F401
from tests.connectors.twitter.conftest import _x_process_server, x_account, x_api  # noqa: F401
from tests.inbox.test_replies import SECRET, Receiver  # noqa: F401


@pytest.fixture(autouse=True)
def csat_on(settings):
    """The suite runs with surveys off (tests/conftest.py); here they are on, with the defaults."""
    settings.CSAT_ENABLED = True
    settings.CSAT_MIN_DAYS = 7
    settings.CSAT_LOW_SCORE = 2
    settings.CSAT_REOPEN_ON_LOW = False
    settings.CSAT_LINK_DAYS = 14
    settings.PUBLIC_BASE_URL = "https://desk.example.com"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def resolve(django_capture_on_commit_callbacks, eager_celery):
    """Resolve as an agent would; the committed event reaches apps/csat, whose task runs eagerly, and
    the survey's delivery task too. The conversation's channel has CSAT turned on first (the admin's
    opt-in, off by default: test_rules.test_a_channel_without_csat_asks_nothing)."""

    def run(conversation, actor):
        ChannelAccount.objects.filter(pk=conversation.channel_account_id).update(csat_enabled=True)
        with django_capture_on_commit_callbacks(execute=True):
            return conversation_update(conversation=conversation, actor=actor, status=Conversation.Status.RESOLVED)

    return run
