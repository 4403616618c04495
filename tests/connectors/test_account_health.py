"""Admins see at a glance which channel account is failing and why (admin list and API)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.services import (
    channel_account_pause,
    channel_account_record_failure,
    channel_account_record_success,
)
from tests.builders import client_for

pytestmark = pytest.mark.django_db


def test_health_says_what_is_wrong_and_what_happens_next(make_account, make_user):
    # given a healthy account, one paused by a provider's rate limit, and one failing repeatedly (all configured)
    x_keys = {"bearer_token": "user-token"}
    page = {"settings": {"page_id": "1"}, "secrets": {"page_access_token": "t", "app_secret": "s", "verify_token": "v"}}
    ok, paused = make_account(kind="twitter", secrets=x_keys), make_account(kind="twitter", secrets=x_keys)
    failing = make_account(kind="facebook", **page)
    channel_account_record_success(account=ok)
    channel_account_pause(account=paused, until=timezone.now() + timedelta(minutes=12), error="rate limited by X (429)")
    for _ in range(3):
        channel_account_record_failure(account=failing, error="Page token expired: reconnect")
    # when an admin opens the accounts list in the Django admin and in the API
    admin = make_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    page = client_for(admin).get("/admin/connectors/channelaccount/").content.decode()
    api = {a["id"]: a["health"] for a in client_for(admin).get("/api/channel-accounts/").json()["results"]}
    # then each says it in one line
    assert api[ok.id].startswith("OK, last success")
    assert api[paused.id].startswith("Paused until") and "rate limited by X (429)" in api[paused.id]
    assert api[failing.id] == "Failing (3 failures in a row): Page token expired: reconnect"
    assert "Failing (3 failures in a row): Page token expired: reconnect" in page
    assert "(provider rate limit): rate limited by X (429)" in page
