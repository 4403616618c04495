"""The desk's Content-Security-Policy breaks nothing in a real browser (Debian chromium via Playwright).

Every page an agent, an admin, a developer or a visitor opens is loaded and used, and chromium must
report no violation: neither on its console ("... violates the following Content Security Policy
directive ...") nor as a `securitypolicyviolation` event in any frame (a listener is put in every
frame before the page's own scripts run). The policy itself: config/settings.py.
"""
import pytest
from django.conf import settings
from playwright.sync_api import Error, expect

from apps.accounts.models import Role
from tests.browser.desk_fixtures import desk_team, seed_desk  # noqa: F401  (fixtures)
from tests.connectors.webform.conftest import make_webform, webform, webform_account  # noqa: F401  (fixtures)

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} in ${e.documentURI} (${e.sourceFile}:${e.lineNumber})`);
});
"""


class Violations:
    def __init__(self, page):
        self.page = page
        self.console = []
        page.on("console", self._console)
        page.context.add_init_script(LISTEN)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def seen(self) -> list[str]:
        found = list(self.console)
        for frame in self.page.frames:
            try:
                found += frame.evaluate("window.__cspViolations || []")
            except Error:  # a frame that went away meanwhile
                pass
        return found


@pytest.fixture
def violations(page):
    return Violations(page)


def test_no_page_of_the_desk_breaks_its_content_security_policy(page, violations, desk_url, desk_team, make_account,
                                                                make_user, webform):
    # given a morning's inbox (an email with an HTML body among it), an admin, and a form the shop embeds
    team, ana, _ = desk_team
    convs = seed_desk(make_account, team)
    make_user(role=Role.ADMIN, username="root", is_staff=True, is_superuser=True)
    webform.allowed_origins = "https://www.tienda.example"
    webform.save()

    # when the admin signs in through the desk's own form
    page.goto(f"{desk_url}/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw-secret-123")
    page.get_by_role("button", name="Sign in").click()
    # then the desk opens, its script runs and, on the real server, its socket connects ('self' covers ws:)
    expect(page.locator("li.row").first).to_be_visible()
    if settings.IS_POSTGRES:  # uvicorn; the embedded live server has no websockets
        expect(page.locator("#live")).to_have_class("live online")
    assert violations.seen() == [], "sign-in and desk"

    # when the email conversation opens: its HTML body sits in a sandboxed srcdoc frame
    page.goto(f"{desk_url}/c/{convs['email'].id}/")
    frame = page.frame_locator("iframe.msg-html").first
    expect(frame.locator("b")).to_have_text("zapatillas")
    # then the frame's own stylesheet applied (a static file, allowed by both policies)
    expect(frame.locator("blockquote")).to_have_css("border-left-style", "solid")
    page.keyboard.press("?")  # the keyboard help, shown by desk.js
    expect(page.locator("#help")).to_be_visible()
    assert violations.seen() == [], "a conversation with an HTML email"

    # when the admin works in Django's admin: the index, a change list, a user (widgets), the web form (snippet)
    for path in ("/admin/", "/admin/inbox/conversation/", f"/admin/accounts/user/{ana.id}/change/",
                 f"/admin/webform/webform/{webform.id}/change/"):
        page.goto(f"{desk_url}{path}")
        expect(page.locator("#content")).to_be_visible()
    # and a click in the embed snippet selects all of it (webform/admin.js, once an onclick attribute)
    snippet = page.locator("#webform-embed-snippet")
    snippet.click()
    assert snippet.evaluate("t => t.selectionEnd - t.selectionStart") == len(snippet.input_value()) > 0
    assert violations.seen() == [], "the admin"

    # when a developer opens the API docs (Swagger UI from static/, its start-up script from ?script=)
    page.goto(f"{desk_url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Centralita API")
    expect(page.locator(".opblock").first).to_be_visible()
    # and the REST API's browsable pages
    page.goto(f"{desk_url}/api/conversations/")
    expect(page.locator(".response-info")).to_contain_text('"results"')
    assert violations.seen() == [], "the API docs"

    # when a visitor opens the public form and its embed version, and sends one half filled in
    page.context.clear_cookies()
    for path in ("/f/contact/?embed=1", "/f/contact/"):
        page.goto(f"{desk_url}{path}")
        expect(page.get_by_role("heading", name="Contact us")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_be_focused()
    # then, all along, the browser refused nothing
    assert violations.seen() == [], "the web form"

    # and the policy is enforced, not decorative: a script injected into the page does not run
    ran = page.evaluate("""() => {
      window.__injected = false;
      const script = document.createElement("script");
      script.textContent = "window.__injected = true";
      document.body.append(script);
      return window.__injected;
    }""")
    assert ran is False
    page.wait_for_function("window.__cspViolations.length > 0")  # the report is dispatched asynchronously
    assert [v.split(" ")[0] for v in violations.seen()][-1] == "script-src-elem"
