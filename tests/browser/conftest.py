"""Shared fixtures for the browser tests: Debian's chromium driven by Playwright (sync API).

- `browser` (module): one headless chromium (/usr/bin/chromium; never `playwright install`).
- `page`: a fresh context + page per test; when the test fails a full-page screenshot goes to
  artifacts/browser/<test>.png (CI copies artifacts/ out).
- `desk_url`: base URL of a real desk serving the test database. On PostgreSQL it is the
  uvicorn subprocess of tests/live_server.py (`desk_server`: ASGI, websockets, as in
  production); on the embedded SQLite defaults it is pytest-django's in-process `live_server`
  (HTTP only, same in-memory DB), so the browser tests run in both modes.
- `login(page, user, desk_url)`: puts a logged-in session cookie for `user` in the page's context.
- `off_loop(fn, *args, **kwargs)`: runs a service (ingest, drain, reply…) in a plain thread and
  returns its result. Playwright's sync API keeps an asyncio loop in the test's thread, where
  Django's event publishing (async_to_sync) refuses to run: a service called directly would save
  its rows but its live events would be lost.

Every test in this directory is marked `browser` automatically.
"""
import os
import re
import threading
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import public_rate_limits_clear

CHROMIUM = os.environ.get("CENTRALITA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "browser"
# A bound on waiting on a loaded 2-core machine, not a speed check.
TIMEOUT_MS = 30_000

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so `page` knows whether the test failed.
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def _playwright():
    """Playwright for one test module, and no longer.

    While it lives, Playwright's sync API marks an asyncio loop as running in this thread: Django's
    ORM then refuses to run ("async context") unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the
    tests' ORM calls are synchronous and sequential, so that is safe here), and asgiref's
    async_to_sync refuses outright. Module scope keeps both effects inside the browser modules:
    a session-wide Playwright broke every later test of the same worker that used a channel
    layer or a WebsocketCommunicator.
    """
    from playwright.sync_api import sync_playwright

    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        _restore_env(ASYNC_UNSAFE, before)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@pytest.fixture(scope="module")
def browser(_playwright):
    if not Path(CHROMIUM).exists():
        # Like the email tests without Dovecot: skipped on a laptop, a failure in CI (CENTRALITA_REQUIRE_SERVICES=1).
        missing = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CENTRALITA_REQUIRE_SERVICES") == "1":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# The browser's language (Accept-Language, navigator.language): the desk and public pages follow it
# for visitors and for users without a language of their own (docs/languages.md). The tests read
# English unless marked, e.g. @pytest.mark.browser_locale("es-ES").
DEFAULT_BROWSER_LOCALE = "en-US"


@pytest.fixture
def page(browser, request):
    marker = request.node.get_closest_marker("browser_locale")
    locale = marker.args[0] if marker else DEFAULT_BROWSER_LOCALE
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot failed: {exc}")
    context.close()


@pytest.fixture
def desk_url(request, transactional_db) -> str:
    """Base URL (no trailing slash) of a live desk on the test database.

    transactional_db is asked for here (not only inside desk_server) so that every fixture of
    the test writes committed rows the server can see. The browser posts from 127.0.0.1: its
    counts on the public pages start afresh, whatever the tests before it sent.
    """
    public_rate_limits_clear()
    if settings.IS_POSTGRES:
        # The uvicorn process copies this environment once per session: it must keep Django's
        # async-safety checks, so it never inherits the browser modules' DJANGO_ALLOW_ASYNC_UNSAFE.
        before = os.environ.pop(ASYNC_UNSAFE, None)
        try:
            return request.getfixturevalue("desk_server")
        finally:
            _restore_env(ASYNC_UNSAFE, before)
    return request.getfixturevalue("live_server").url


def off_loop(fn, *args, **kwargs):
    """Call fn in a thread of its own (no event loop there); re-raise what it raised."""
    from django.db import connections

    outcome = {}

    def run():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's connections, or the test DB cannot be dropped

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def login(page, user, desk_url: str) -> None:
    """Log `page`'s browser context in as `user` (a session stored in the test DB)."""
    from tests.live_server import session_cookie

    name, value = session_cookie(user).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": desk_url}])
