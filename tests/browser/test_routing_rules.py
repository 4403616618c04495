"""A supervisor adds a priority rule on its page and sees it fire on a new message's conversation."""
import pytest

from apps.accounts.models import Role
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.inbox.models import Conversation
from apps.inbox.services.ingest import messages_ingest
from apps.routing.models import PriorityRule

from tests.browser.conftest import ARTIFACTS, login, off_loop
from tests.browser.test_csp import Violations


def test_a_supervisor_adds_a_rule_and_sees_it_fire(page, desk_url, make_user, inbound):
    # given a supervisor on the rules page (the default rule is listed)
    PriorityRule.objects.get_or_create(name="public complaint", defaults={"position": 10, "is_public": True, "priority": 2})
    boss = make_user(role=Role.SUPERVISOR, first_name="Marta")
    login(page, boss, desk_url)
    violations = Violations(page)
    page.goto(f"{desk_url}/desk/routing/rules/")
    assert "public complaint" in page.locator("#rules").inner_text()
    # (from the desk, the top bar's link leads here; the priority select starts at High)
    assert page.locator("#id_priority").input_value() == "2"
    # when they add "anger words" (High) with words typed with and without accents
    page.fill("#id_name", "anger words")
    page.fill("#id_keywords", "vergüenza\nestafa")
    page.select_option("#id_priority", "2")
    page.check("#id_enabled")
    page.click("#rule-form button[type=submit]")
    page.wait_for_url(f"{desk_url}/desk/routing/rules/")
    assert "anger words" in page.locator("#rules").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "routing_rules_page.png"), full_page=True)
    # and a customer tweets in capitals
    account = ChannelAccount.objects.create(kind=ChannelKind.TWITTER, name="@aurora")
    message_ids = off_loop(lambda: messages_ingest(messages=[
        inbound(account, email="ira@example.com", is_public=True, text="¡Es una VERGÜENZA! Esto es una estafa")]).message_ids)
    conversation = Conversation.objects.get(messages__id=message_ids[0])
    # then the conversation says why it is High
    page.goto(f"{desk_url}/c/{conversation.id}/")
    why = page.locator("#priority-why")
    why.wait_for()
    assert why.inner_text() == "High: public complaint; anger words: 'vergüenza', 'estafa'"
    page.screenshot(path=str(ARTIFACTS / "routing_priority_reason.png"))
    assert PriorityRule.objects.filter(name="anger words", priority=2).exists()
    # and an insulting public comment, with a flag rule, is kept and shown flagged
    PriorityRule.objects.create(position=90, name="insults", is_public=True, keywords="inútiles, imbécil*", moderation="flag")
    message_ids = off_loop(lambda: messages_ingest(messages=[
        inbound(account, email="troll@example.com", is_public=True, text="Sois unos INÚTILES")]).message_ids)
    flagged = Conversation.objects.get(messages__id=message_ids[0])
    page.goto(f"{desk_url}/c/{flagged.id}/")
    mark = page.locator(f"#m-{message_ids[0]} .mark-flagged")
    mark.wait_for()
    assert mark.get_attribute("title") == "insults: inútiles"
    assert "Sois unos INÚTILES" in page.locator(f"#m-{message_ids[0]}").inner_text()
    assert page.locator("#priority-why").inner_text() == "High: public complaint"
    page.screenshot(path=str(ARTIFACTS / "routing_flagged_comment.png"))
    assert violations.seen() == []  # the page works under the desk's Content-Security-Policy


def test_an_agent_is_refused_the_page(page, desk_url, make_user):
    agent = make_user()
    login(page, agent, desk_url)
    response = page.goto(f"{desk_url}/desk/routing/rules/")
    assert response.status == 403
