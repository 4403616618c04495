"""The per-address limit holds across processes: the desk's web workers share it through Redis."""
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from apps.connectors.drain import inbound_drain
from apps.connectors.webform.services import rate_limit_hit, rate_limit_reset, rate_parse, submission_rate_limit
from apps.connectors.webform.views import rate_limit_subject
from apps.inbox.models import Message

from .conftest import VALID

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def post_embed(url: str, token: str, *, forwarded_for: str | None = None) -> int:
    body = urllib.parse.urlencode({**VALID, "embed_token": token}).encode()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_uvicorn_server_and_this_process_count_one_address_together(desk_server, webform, settings):
    # given a fresh count for 127.0.0.1 (the server runs with the default limit)
    subject = rate_limit_subject("127.0.0.1")
    rate_limit_reset(scope="submit", subject=subject, rate=submission_rate_limit())
    limit, window = rate_parse(settings.WEBFORM_RATE_LIMIT)
    url = f"{desk_server}/f/contact/?embed=1"
    with urllib.request.urlopen(url, timeout=30) as page:
        token = re.search(r'name="embed_token" value="([^"]+)"', page.read().decode())[1]
    # when the same address submits up to the limit through the real server
    statuses = [post_embed(url, token) for _ in range(limit)]
    # then each went through (the confirmation page), and the next one is refused
    assert statuses == [200] * limit
    assert post_embed(url, token) == 429
    # and this process, reading the same Redis, sees the same exhausted window
    assert 0 < rate_limit_hit(scope="submit", subject=subject, rate=settings.WEBFORM_RATE_LIMIT) <= window
    rate_limit_reset(scope="submit", subject=subject, rate=submission_rate_limit())
    # and every accepted submission was staged for the desk (drained by the worker, or here)
    inbound_drain()
    assert Message.objects.filter(kind="form").count() == limit


def test_a_forwarded_for_header_from_loopback_does_not_escape_the_limit(desk_server, webform, settings):
    # given the real uvicorn desk and a visitor on 127.0.0.1 (a same-host proxy, as uvicorn sees it) whose
    # requests each claim another client address; the desk trusts no proxy (WEBFORM_TRUSTED_PROXIES=0)
    limit, _ = rate_parse(settings.WEBFORM_RATE_LIMIT)
    claimed = [f"192.0.2.{n}" for n in range(1, limit + 2)]
    for ip in ["127.0.0.1", *claimed]:
        rate_limit_reset(scope="submit", subject=rate_limit_subject(ip), rate=submission_rate_limit())
    url = f"{desk_server}/f/contact/?embed=1"
    with urllib.request.urlopen(url, timeout=30) as page:
        token = re.search(r'name="embed_token" value="([^"]+)"', page.read().decode())[1]
    # when it submits past the limit, a different X-Forwarded-For each time
    statuses = [post_embed(url, token, forwarded_for=ip) for ip in claimed]
    # then they all counted against the socket's address: the last one is refused
    assert statuses == [200] * limit + [429]
    assert rate_limit_hit(scope="submit", subject=rate_limit_subject("127.0.0.1"), rate=settings.WEBFORM_RATE_LIMIT)
    for ip in ["127.0.0.1", *claimed]:
        rate_limit_reset(scope="submit", subject=rate_limit_subject(ip), rate=submission_rate_limit())
