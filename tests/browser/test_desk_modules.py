"""The desk's ES modules in a real browser: the hooks a feature module uses (docs/desk-frontend.md).

A feature module (static/desk/outbound.js, suggestions.js…) imports on() from live.js,
onConversationOpened() from thread.js and action() from dom.js. Here the page imports the same
module instances main.js loaded (same URLs) and registers through them, as such a module would.
"""
import pytest
from playwright.sync_api import expect

from apps.inbox.services.replies import note_create
from tests.browser.conftest import login
from tests.browser.desk_fixtures import desk_team, off_loop, seed_desk  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

FEATURE_MODULE = """async () => {
  const { on } = await import("/static/desk/live.js");
  const { currentId, onConversationOpened } = await import("/static/desk/thread.js");
  const { action } = await import("/static/desk/dom.js");
  window.__feature = { opened: [], events: [], clicked: [] };
  onConversationOpened((id) => window.__feature.opened.push({ id, current: currentId(), thread: Boolean(document.getElementById("thread")) }));
  on("message.created", (event) => window.__feature.events.push(event.message.conversation_id));
  action("feature-test", (button) => window.__feature.clicked.push(button.dataset.value));
}"""


def test_a_feature_module_hears_events_conversations_opened_and_its_buttons(page, desk_url, desk_team, make_account):
    # given Ana's desk with its inbox, and a feature module registered through the documented hooks
    team, ana, luis = desk_team
    convs = off_loop(seed_desk, make_account, team)
    email = convs["email"]
    login(page, ana, desk_url)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{desk_url}/")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate(FEATURE_MODULE)

    # when she opens a conversation
    page.locator("li.row", has_text="Devolución del pedido 4471").click()
    # then the module hears which, once its panes are in place and it is the current one
    page.wait_for_function("() => window.__feature.opened.length === 1")  # a function: the CSP forbids eval of a string
    assert page.evaluate("() => window.__feature.opened") == [{"id": email.id, "current": email.id, "thread": True}]

    # when a colleague adds a note to it (a live event over the socket)
    off_loop(note_create, conversation=email, author=luis, text="the RMA is 4471-B")
    # then the desk shows it and the module's handler ran for that conversation too
    expect(page.locator("#messages .msg.kind-note")).to_contain_text("the RMA is 4471-B")
    page.wait_for_function("(id) => window.__feature.events.includes(id)", arg=email.id)

    # and a data-action button in a pane reaches the module's action handler
    page.evaluate("""() => {
      const button = document.createElement("button");
      button.type = "button"; button.dataset.action = "feature-test"; button.dataset.value = "42"; button.id = "feature-button";
      document.getElementById("thread").append(button);
    }""")
    page.locator("#feature-button").click()
    page.wait_for_function("() => window.__feature.clicked.length === 1")
    assert page.evaluate("() => window.__feature.clicked") == ["42"]
    assert errors == []

    # when a module registers after the boot on a page rendered with a conversation open
    # (as one loaded by its own <script type="module"> would)
    page.goto(f"{desk_url}/c/{email.id}/")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate(FEATURE_MODULE)
    # then it hears that conversation at once
    page.wait_for_function("() => window.__feature.opened.length === 1")
    assert page.evaluate("() => window.__feature.opened") == [{"id": email.id, "current": email.id, "thread": True}]
    assert errors == []
