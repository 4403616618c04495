"""`make run`'s demo answers on every channel (issue 15), in a browser.

The same setup as `make run`, with Redis and embedded (no Redis: each process has its own
in-memory live events, so an answer shows live only if the desk's own process stores it):
demo_seed, then run_desk (its uvicorn and the simulator with the stand-ins: SMTP, X API, Graph
API on loopback), in their own processes, on this test's database; tasks run in the web process
(CELERY_TASK_ALWAYS_EAGER), as in the embedded layout. A supervisor replies by email and on
Messenger, sees both turn Sent, then the simulated customer's answers arrive live: the mail
through the desk's demo mail drop (the email import path), the Messenger answer as a signed
webhook.
"""
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.demo.builder import people
from apps.demo.management.commands import demo_seed
from apps.inbox.models import Conversation, Message
from tests.browser.conftest import TIMEOUT_MS, login
from tests.browser.desk_fixtures import off_loop, shoot
from tests.live_server import BASE_DIR, desk_server_env
from tests.loopback import free_port, three_free_ports, wait_for_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(params=["redis", "embedded"])
def demo(request, transactional_db, tmp_path, monkeypatch, django_db_setup):
    state = tmp_path / "demo-api.json"
    monkeypatch.setattr(demo_seed, "TOKEN_FILE", state)
    port, reply_port, base = free_port(), free_port(), three_free_ports()
    url = f"http://127.0.0.1:{port}"
    off_loop(call_command, "demo_seed", quiet=True, base_url=url, reply_url=f"http://127.0.0.1:{reply_port}/", standins_port=base)
    env = {**desk_server_env(), "CENTRALITA_DEMO_STATE": str(state), "CELERY_TASK_ALWAYS_EAGER": "1"}
    if request.param == "embedded":  # `make run` with nothing set: each process has its own in-memory live events
        env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_desk", "--single", "--port", str(port), "--reply-port", str(reply_port)],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    try:
        for p in (port, base, base + 1, base + 2):
            wait_for_port(p, seconds=60)
        yield url, json.loads(state.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)  # run_desk stops its children
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def messenger_webhook(url: str, saved: dict, psid: str, text: str) -> None:
    """What Facebook does when the person writes to the Page: a signed webhook POST."""
    now = datetime.now(timezone.utc)
    ms = int(now.timestamp() * 1000)
    page_id = saved["facebook"]["page_id"]
    body = json.dumps({"object": "page", "entry": [{"id": page_id, "time": ms, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ms,
         "message": {"mid": f"m_test_{ms}", "text": text}}]}]}).encode()
    digest = hmac.new(saved["facebook"]["app_secret"].encode(), body, hashlib.sha256).hexdigest()
    response = requests.post(f"{url}/hooks/facebook/{saved['facebook']['account_id']}/", data=body, timeout=30,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"})
    assert response.status_code == 200, response.text


def drained(queryset, seconds: float = 30):
    """The webhook answers once the payload is staged; the drain stores it just after (a bound, not a speed check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = queryset.first()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing drained after {seconds} s")


def reply_and_see_the_answer(page, conversation: Conversation, text: str) -> None:
    page.goto(f"{page.url.split('/c/')[0].rstrip('/')}/c/{conversation.id}/")
    answers_before = conversation.messages.filter(direction="in").count()
    page.locator("#composer-text").fill(text)
    page.get_by_role("button", name="Send reply").click()
    reply = page.locator("#messages .msg.dir-out", has_text=text)
    expect(reply.locator(".delivery")).to_have_attribute("data-delivery", "sent", timeout=TIMEOUT_MS)  # the stand-in took it
    # the customer reads it and answers a few seconds later: it appears without a reload
    expect(page.locator("#messages .msg.dir-in")).to_have_count(answers_before + 1, timeout=60_000)
    latest = conversation.messages.filter(direction="in").order_by("-sent_at").first()
    expect(page.locator("#messages .msg.dir-in").last).to_contain_text(latest.text[:20])


def test_an_agent_replies_by_email_and_on_messenger_and_sees_the_customers_answer_arrive(browser, demo):
    url, saved = demo
    supervisor = User.objects.get(username="supervisor")
    # given: Lucía writes to the Page now (inside Messenger's 24-hour window)
    lucia = people()[0]
    messenger_webhook(url, saved, lucia.psid, "Hola, ¿me decís algo del pedido?")
    messenger = drained(Conversation.objects.filter(channel_account__kind="facebook", thread_key=f"psid:{lucia.psid}",
                                                    last_inbound_at__gte=datetime.now(timezone.utc) - timedelta(minutes=5)))
    mail = Conversation.objects.filter(channel_account__kind="email").exclude(status="resolved").order_by("-last_activity_at").first()
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, supervisor, url)
        page.goto(f"{url}/")
        expect(page.locator("#live")).to_have_text("live")
        # when: the supervisor answers by email, then on Messenger
        reply_and_see_the_answer(page, mail, "Hola, ya hemos revisado tu pedido y sale hoy.")
        shoot(page, "demo-email-answered")
        reply_and_see_the_answer(page, messenger, "Hola Lucía, lo miramos ahora mismo.")
        shoot(page, "demo-messenger-answered")
    finally:
        context.close()
    # then: both were delivered and both answers threaded into their own conversations
    assert set(Message.objects.filter(conversation__in=[mail, messenger], direction="out", author=supervisor)
               .values_list("delivery_status", flat=True)) == {"sent"}
    assert Conversation.objects.filter(channel_account__kind="facebook", thread_key=f"psid:{lucia.psid}").count() == 1
