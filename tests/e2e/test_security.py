"""The CSP in a real browser: it refuses injected inline code, and the pages no other browser test opens
(the API's ReDoc page, the admin's login, the lockout page) run under it without a refusal.
The settings and headers themselves are tested in tests/security/."""

import pytest
from playwright.sync_api import expect

from .test_console import sign_in

pytestmark = pytest.mark.e2e

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_the_browser_refuses_injected_inline_script_and_handlers(open_tab, owner):
    tab = open_tab("csp-injection")
    page = tab.page
    sign_in(page, owner.user.email)

    page.evaluate(
        """() => {
        document.body.insertAdjacentHTML("beforeend", '<img src="/static/img/favicon.svg" onload="window.ranHandler = 1">');
        const script = document.createElement("script");
        script.textContent = "window.ranScript = 1";
        document.body.appendChild(script);
    }"""
    )
    page.wait_for_timeout(300)

    assert page.evaluate("[window.ranHandler, window.ranScript]") == [None, None]
    assert any("Content Security Policy" in error for error in tab.errors)


def test_redoc_renders_under_its_policy(open_tab):
    tab = open_tab("redoc")
    page = tab.page

    page.goto("/api/redoc/")

    expect(page.locator(".api-content")).to_be_visible(timeout=30_000)  # the schema is built on first use
    expect(page.get_by_text("Loyalty API").first).to_be_visible()
    # ReDoc's search worker and icons are blob: URLs it makes in the page, not requests to another host.
    # Its footer always asks for Redocly's logo from their CDN: the policy refuses it, and ReDoc hides it.
    tab.elsewhere = [url for url in tab.elsewhere if not url.startswith("blob:") and url != REDOCLY_LOGO]
    tab.errors = [error for error in tab.errors if REDOCLY_LOGO not in error]
    tab.check("redoc")


def test_the_admin_login_runs_under_the_policy(open_tab):
    tab = open_tab("admin")
    page = tab.page

    page.goto("/admin/login/")

    expect(page.locator("#login-form")).to_be_visible()
    tab.check("admin-login")


def test_the_lockout_page_shows_its_message_under_the_policy(open_tab, owner):
    tab = open_tab("lockout")
    page = tab.page
    page.goto("/login/")
    for _ in range(5):
        page.get_by_label("Email").fill(owner.user.email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("paused for 15 minutes")
    tab.check("locked", status=429)
