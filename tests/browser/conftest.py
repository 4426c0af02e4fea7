"""Real-browser harness: the app on a live server, one headless Chromium per session, a fresh
context per test, and a watch on every page for CSP violations, page errors and console errors."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright
from werkzeug.serving import make_server

from webapp.extensions import db

from .. import factories
from ..conftest import make_test_app

CHROMIUM = os.environ.get("ROST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 5_000

# Every document records CSP violations in window.__cspViolations and reports them to the test
# through a binding, so a violation on a page the test has since navigated away from still counts.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const v = {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, page: location.href};
  window.__cspViolations.push(v);
  if (window.__reportCspViolation) window.__reportCspViolation(v);
});
"""
_FAILED_STATUS = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


@dataclass
class LiveServer:
    app: object
    url: str
    _people: int = 0

    def seed(self, factory: Callable, *args, **kwargs):
        """Run a tests.factories function against the server's database; returns what it returns (an id)."""
        with self.app.app_context():
            return factory(*args, **kwargs)

    def user(self, **kwargs) -> dict:
        """A librarian who can sign in; returns {"id", "login", "password"}."""
        self._people += 1
        login = kwargs.pop("login", None) or f"reader{self._people}"
        user_id = self.seed(factories.make_user, login=login, **kwargs)
        return {"id": user_id, "login": login, "password": factories.PASSWORD}


@dataclass
class BrowserWatch:
    """What the pages of one test reported. Checked after the test."""
    csp_violations: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)
    expected_statuses: set = field(default_factory=set)
    outside_requests: list = field(default_factory=list)
    pages: list = field(default_factory=list)

    def expect_status(self, *codes: int) -> None:
        """The test provokes these HTTP errors on purpose: Chromium's "Failed to load resource" lines for them are fine."""
        self.expected_statuses.update(codes)

    def unexpected_console_errors(self) -> list[str]:
        unexpected = []
        for text, url in self.console_errors:
            failed = _FAILED_STATUS.search(text)
            if failed and int(failed.group(1)) in self.expected_statuses:
                continue
            unexpected.append(f"{text} [{url}]")
        return unexpected


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: run `apt-get install -y chromium` "
                    "(never `playwright install`).", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server_config() -> dict:
    """Settings for the live server's app; a test module overrides this fixture, e.g. for short polls."""
    return {}


def _each_body_read_whole(app):
    """`app` with each answer's body read, and its iterable closed, before the server writes it.
    When a browser drops a connection mid-answer (a favicon request cut short by the page going
    on), werkzeug's development server can leave the answer unclosed: a static file left open,
    whose ResourceWarning then fails whichever test is running. No answer of the app streams."""
    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return wsgi


@pytest.fixture
def live_server(tmp_path, live_server_config) -> Iterator[LiveServer]:
    app = make_test_app(tmp_path, **{"WTF_CSRF_ENABLED": True, **live_server_config})
    server = make_server("127.0.0.1", 0, _each_body_read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def browser_watch() -> BrowserWatch:
    return BrowserWatch()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer, browser_watch: BrowserWatch) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (own cookies); new_page(javascript=False) for a browser without JS."""
    contexts: list[BrowserContext] = []

    def _open(*, javascript: bool = True) -> Page:
        context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript, locale="ru-RU")
        context.set_default_timeout(TIMEOUT_MS)
        context.expose_binding("__reportCspViolation", lambda _source, v: browser_watch.csp_violations.append(v))
        context.add_init_script(CSP_WATCH)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: browser_watch.page_errors.append(str(error)))
        page.on("console", lambda msg: _record_console(browser_watch, msg))
        # Everything the pages need comes from the app itself (htmx is served locally): nothing leaves the machine.
        page.on("request", lambda req: None if req.url.startswith((live_server.url + "/", "data:", "blob:"))
                else browser_watch.outside_requests.append(req.url))
        browser_watch.pages.append((page, javascript))
        return page

    yield _open

    # Violations still queued in the last documents: read them before closing.
    for page, javascript in browser_watch.pages:
        if javascript and not page.is_closed():
            for v in page.evaluate("() => window.__cspViolations || []"):
                if v not in browser_watch.csp_violations:
                    browser_watch.csp_violations.append(v)
    for context in contexts:
        context.close()
    problems = []
    if browser_watch.csp_violations:
        problems.append(f"CSP violations: {browser_watch.csp_violations}")
    if browser_watch.outside_requests:
        problems.append(f"requests to other sites: {browser_watch.outside_requests}")
    if browser_watch.page_errors:
        problems.append(f"page errors: {browser_watch.page_errors}")
    unexpected = browser_watch.unexpected_console_errors()
    if unexpected:
        problems.append(f"console errors (expected statuses: {sorted(browser_watch.expected_statuses)}): {unexpected}")
    assert not problems, "\n".join(problems)


def _record_console(watch: BrowserWatch, msg: ConsoleMessage) -> None:
    if msg.type == "error":
        watch.console_errors.append((msg.text, msg.location.get("url", "")))


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def sign_in(page: Page, person: dict) -> None:
    """Sign in through the login form, as a person does; lands on the person's home page."""
    page.goto("/login")
    page.locator("input[name=login]").fill(person["login"])
    page.locator("input[name=password]").fill(person["password"])
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/journal/$"))
