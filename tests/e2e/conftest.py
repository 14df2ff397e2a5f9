"""Real-browser tests: Playwright drives Debian's chromium against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) per person in a test.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "test-results" / "e2e"


@pytest.fixture(scope="session", autouse=True)
def _plain_http_server():
    """The live server speaks plain HTTP. SecurityMiddleware and WhiteNoise read these settings once,
    when the server thread builds its handler, so the per-test `settings` fixture is too late."""
    with override_settings(SECURE_SSL_REDIRECT=False, WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's pictures
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Tab:
    """A phone-sized browser tab on the live server that notes what a person would not see:
    the page's HTTP status, console errors, uncaught script errors and requests to any other host."""

    def __init__(self, context: BrowserContext, origin: str, name: str) -> None:
        self.origin, self.name, self.shots = origin, name, 0
        self.status = 0
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self.page: Page = context.new_page()
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("request", self._on_request)

    def _on_response(self, response: Response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.status = response.status

    def _on_console(self, message: ConsoleMessage) -> None:
        # Chromium logs an error status of the page itself too; check() asserts that status instead.
        document = message.location.get("url") == self.page.url and "Failed to load resource" in message.text
        if message.type == "error" and not document:
            self.errors.append(f"{message.text} at {message.location.get('url')}")

    def _on_request(self, request: Request) -> None:
        # Shops run this on a LAN that may have no internet: no CDN, fonts or analytics.
        if not request.url.startswith(self.origin + "/"):
            self.elsewhere.append(request.url)

    def check(self, label: str, status: int = 200) -> None:
        """Every page answers `status`, fits a phone's width, loads nothing from elsewhere and logs
        no errors. The screenshot is for humans (test-results/, not committed)."""
        fits = self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        self.shots += 1
        self.page.screenshot(path=SCREENSHOTS / f"{self.name}-{self.shots:02}-{label}.png", full_page=True)
        assert self.status == status, f"{self.page.url} answered {self.status}"
        assert fits, f"{self.page.url} scrolls sideways on a {PHONE['width']} px wide phone"
        assert self.elsewhere == [], f"{self.page.url} loaded from other hosts"
        assert self.errors == [], f"{self.page.url} logged errors"


@pytest.fixture
def open_tab(browser, live_server, settings):
    """open_tab("owner") is a new signed-out person on a phone, in a context of their own."""
    settings.SITE_URL = live_server.url  # links in emails point at the live server
    contexts: list[BrowserContext] = []

    def open_tab(name: str) -> Tab:
        context = browser.new_context(viewport=PHONE, locale="en-US", base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Tab(context, live_server.url, name)

    yield open_tab
    for context in contexts:
        context.close()
