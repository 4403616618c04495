"""The admin's connection test for an X account (declared in twitter/channel.py), against the loopback X API."""
import pytest
import tweepy

from apps.connectors.registry import channel_for

pytestmark = pytest.mark.django_db


def test_the_probe_names_the_user_the_credentials_belong_to(x_api, x_account):
    assert channel_for("twitter").probe(x_account) == "X answered: the credentials are @TiendaSoporte (user id 1400000000000000001)"
    assert [c["path"] for c in x_api.calls] == ["/2/users/me"]


def test_the_probe_fails_with_xs_reason_on_revoked_credentials(x_api, x_account):
    from .x_server import REVOKED_TOKEN

    x_account.secrets = {**x_account.secrets, "access_token": REVOKED_TOKEN}
    with pytest.raises(tweepy.Unauthorized):
        channel_for("twitter").probe(x_account)
