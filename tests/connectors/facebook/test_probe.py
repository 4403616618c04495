"""The admin's connection test for a Facebook Page (declared in facebook/channel.py), against the loopback Graph API."""
import pytest

from apps.connectors.facebook.client import FacebookError
from apps.connectors.registry import channel_for

from .conftest import PAGE_ID

pytestmark = pytest.mark.django_db


def test_the_probe_names_the_page_the_token_opens(graph, fb_account):
    graph.profiles[PAGE_ID] = {"name": "Aurora Home"}
    assert channel_for("facebook").probe(fb_account) == f"Graph API answered: Page Aurora Home ({PAGE_ID})"


def test_the_probe_fails_with_graphs_reason_on_a_bad_token(graph, fb_account):
    fb_account.secrets = {**fb_account.secrets, "page_access_token": "expired"}
    with pytest.raises(FacebookError, match="access token"):
        channel_for("facebook").probe(fb_account)
