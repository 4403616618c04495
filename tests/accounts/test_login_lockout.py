"""Sign-in throttling (django-axes): too many wrong passwords lock that username at that address.

Through the real login pages (the desk's /login/ and the admin's), the real authentication
backends and the attempts stored in the database. No sleeping: "the cool-off has passed" is
given by making the stored attempts older than the cool-off, which is all time passing does.
"""
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F

pytestmark = pytest.mark.django_db

RIGHT = "pw-secret-123"  # tests/conftest.py make_user
AGENT_IP = "198.51.100.7"
# The configured limit and cool-off (config/settings.py; 5 and 15 minutes unless the environment says otherwise).
LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 5)
COOL_OFF = getattr(settings, "AXES_COOLOFF_TIME", timedelta(minutes=15))


def sign_in(client, username, password, *, ip=AGENT_IP, path="/login/"):
    return client.post(path, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=ip)


def fail_until_locked(client, username, *, ip=AGENT_IP, path="/login/"):
    for _ in range(LIMIT):
        sign_in(client, username, "wrong-guess", ip=ip, path=path)


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_the_right_password_is_refused_after_too_many_wrong_ones_until_the_cool_off_passes(client, make_user):
    # given an agent and someone guessing her password from one address
    make_user(username="laura")
    fail_until_locked(client, "laura")
    # when the right password comes next from that address
    response = sign_in(client, "laura", RIGHT)
    # then it is refused with a page that says why and for how long, and nobody is signed in
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert f"{int(COOL_OFF.total_seconds() // 60)} minutes" in html
    assert '<link rel="stylesheet"' in html  # the desk's own page, not a bare text
    assert not signed_in(client)

    # given the cool-off has passed since those attempts
    from axes.models import AccessAttempt

    aged = AccessAttempt.objects.filter(username="laura").update(
        attempt_time=F("attempt_time") - COOL_OFF - timedelta(seconds=1)
    )
    assert aged == 1
    # when she signs in again
    response = sign_in(client, "laura", RIGHT)
    # then she is in
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_a_lockout_is_per_username_and_address(client, make_user):
    # given laura is locked out at one address
    make_user(username="laura")
    make_user(username="pedro")
    fail_until_locked(client, "laura")
    assert sign_in(client, "laura", RIGHT).status_code == 429
    # then another agent behind the same address (an office NAT) still signs in
    assert sign_in(client, "pedro", RIGHT).status_code == 302
    client.logout()
    # and laura herself signs in from another address
    assert sign_in(client, "laura", RIGHT, ip="203.0.113.20").status_code == 302


def test_an_admin_unlocks_a_username_from_the_command_line(client, make_user):
    # given laura is locked out
    make_user(username="laura")
    fail_until_locked(client, "laura")
    assert sign_in(client, "laura", RIGHT).status_code == 429
    # when an admin resets her attempts (docs/deployment.md: Security)
    call_command("axes_reset_username", "laura")
    # then she signs in at once
    assert sign_in(client, "laura", RIGHT).status_code == 302
    assert signed_in(client)


def test_the_admin_sign_in_is_throttled_too(client, make_user):
    # given a staff user whose password is being guessed on the admin's own login form
    make_user(username="root", role="admin", is_staff=True, is_superuser=True)
    fail_until_locked(client, "root", path="/admin/login/")
    # when the right password comes next
    response = sign_in(client, "root", RIGHT, path="/admin/login/")
    # then it is refused too
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_a_successful_sign_in_below_the_limit_clears_the_count(client, make_user):
    # given a few typos, then the right password
    make_user(username="laura")
    for _ in range(LIMIT - 1):
        sign_in(client, "laura", "typo")
    assert sign_in(client, "laura", RIGHT).status_code == 302
    client.logout()
    # when she mistypes again later
    for _ in range(LIMIT - 1):
        sign_in(client, "laura", "typo")
    # then she is not locked out: the earlier typos no longer count
    assert sign_in(client, "laura", RIGHT).status_code == 302
