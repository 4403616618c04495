"""A supervisor's desk, live: a conversation's SLA badge turns from due-soon to breached when the
sweep fires the breach, and the supervisor is notified. Real uvicorn, websockets, PostgreSQL, Redis.

The server renders badges on its own (real) clock, so here the clock is real too: a 1-minute
target whose warning share has passed and whose due time comes ~20 s after the page opens, and
the sweep running the way beat runs it (here every second instead of every 30) until it fires.
"""
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.inbox.models import Conversation, ConversationEvent
from apps.inbox.services.ingest import messages_ingest
from apps.sla.models import BusinessCalendar
from apps.sla.services import clocks_sweep, policy_save
from tests.browser.desk_fixtures import desk_team, off_loop, shoot  # noqa: F401  (fixtures)
from tests.browser.test_desk_live import open_desk

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Beat:
    """clocks_sweep every `every` seconds in its own thread, until stopped."""

    def __init__(self, every: float = 1.0):
        self.stop = threading.Event()
        self.fired = []
        self.thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every):
        try:
            while not self.stop.is_set():
                self.fired.append(clocks_sweep())
                self.stop.wait(every)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def test_the_badge_turns_breached_live_and_the_supervisor_is_notified(browser, desk_url, desk_team, make_account, make_user, inbound):
    team, _, _ = desk_team
    supervisor = make_user(role=Role.SUPERVISOR, teams=[team], username="marina")
    policy_save(name="Chat", position=1, calendar=BusinessCalendar.objects.get(name="24/7"), channel_kind="api",
                first_response_minutes=1, warning_percent=50, escalation="notify")
    account = make_account(team=team)
    # given a customer who wrote 40 s ago: past the warning share (30 s), due in 20 s
    sent = timezone.now() - timedelta(seconds=40)
    off_loop(messages_ingest, messages=[inbound(account, "late-1", email="carmen@example.es", name="Carmen Vidal",
                                                sent_at=sent, subject="¿Dónde está mi pedido?")])
    conversation = Conversation.objects.get()
    page = open_desk(browser, desk_url, supervisor)
    try:
        badge = page.locator(f'li.row[data-id="{conversation.id}"] .badge.sla')
        expect(badge).to_have_attribute("data-sla-state", "warning")
        expect(badge).to_contain_text("SLA due soon")
        shoot(page, "sla-due-soon")
        # when the beat's sweep runs as time goes by
        with Beat():
            # then, without a reload, the badge turns breached and the supervisor is told
            expect(badge).to_have_attribute("data-sla-state", "breached", timeout=60_000)
            expect(badge).to_contain_text("SLA breached")
            expect(page.locator("#notif-count")).to_have_text("1")
        page.wait_for_function("window.__notified.length > 0")
        assert page.evaluate("window.__notified[0].title") == "SLA breached"
        assert f"#{conversation.id}" in page.evaluate("window.__notified[0].body")
        shoot(page, "sla-breached")
        # and the breach was recorded once
        assert ConversationEvent.objects.filter(conversation=conversation, kind="sla_breached").count() == 1
    finally:
        page.context.close()
