"""The console in a real browser on a phone: onboarding, inviting a cashier, every page offline."""

import re

import pytest
from playwright.sync_api import Page, expect

from merchants.models import Merchant, Role, Staff
from tests.factories import InvitationFactory, StaffFactory

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "river-lantern-42"
FACTORY_PASSWORD = "test-pass-123"  # UserFactory's
LINK = re.compile(r"https?://\S+/invite/[\w-]+/")


def sign_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_owner_signs_up_and_creates_a_shop_on_a_phone(open_tab):
    tab = open_tab("onboarding")
    page = tab.page
    page.goto("/signup/")
    tab.check("signup")
    page.get_by_label("Your name").fill("Somchai Jaidee")
    page.get_by_label("Email").fill("somchai@example.com")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/shop/new/$"))
    tab.check("shop")
    form = page.locator("main form")
    form.get_by_label("Shop name").fill("Siam Noodle Bar")
    with page.expect_request(re.compile(r"/shop/new/defaults/\?country=TH$")) as defaults:
        form.get_by_label("Country").select_option("TH")
    # HTMX sends the CSRF token set on <body>, so a future hx-post passes Django's check.
    assert defaults.value.headers["hx-request"] == "true"
    assert defaults.value.headers.get("x-csrftoken")
    expect(form.get_by_label("Currency")).to_have_value("THB")
    expect(form.get_by_label("Time zone")).to_have_value("Asia/Bangkok")
    expect(form.get_by_label("Language")).to_have_value("th")
    tab.check("shop-thailand")
    page.get_by_role("button", name="Create my shop").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Somchai")
    expect(page.get_by_role("main")).to_contain_text("Siam Noodle Bar · Owner")
    expect(page.locator(".next-steps > li")).to_have_count(3)
    tab.check("home")
    shop = Merchant.objects.get(staff__user__email="somchai@example.com", staff__role=Role.OWNER)
    assert (shop.name, shop.currency, shop.timezone, shop.language) == ("Siam Noodle Bar", "THB", "Asia/Bangkok", "th")


def test_invited_cashier_joins_without_owner_pages_in_the_nav(open_tab, owner, mailoutbox):
    owners = open_tab("invite-owner")
    page = owners.page
    sign_in(page, owner.user.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Shop settings")).to_be_visible()
    nav.get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Invite staff").click()
    owners.check("invite")
    page.get_by_label("Email").fill("nok@example.com")
    page.get_by_label("Name").fill("Nok")
    page.get_by_label("Role").select_option(Role.CASHIER.value)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to nok@example.com")
    owners.check("staff")

    # The live server runs in a thread of this process: the eager task's email is in mailoutbox.
    (email,) = mailoutbox
    cashiers = open_tab("invite-cashier")
    page = cashiers.page
    page.goto(LINK.search(email.body)[0])
    cashiers.check("accept")
    page.get_by_label("Your name").fill("Nok Srisuk")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Join the team").click()

    expect(page.get_by_role("heading", name="You are signed in to Bubbles Laundromat")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff")).to_have_count(0)
    expect(nav.get_by_role("link", name="Shop settings")).to_have_count(0)
    cashiers.check("home")
    assert Staff.objects.get(merchant=owner.merchant, user__email="nok@example.com").role == Role.CASHIER


def test_every_console_page_fits_a_phone_and_loads_nothing_from_other_hosts(open_tab, owner, merchant):
    colleague = StaffFactory(merchant=merchant, role=Role.CASHIER)
    InvitationFactory(merchant=merchant, invited_by=owner.user)
    tab = open_tab("pages")
    page = tab.page
    for path, label in [("/login/", "login"), ("/password-reset/", "password-reset")]:
        page.goto(path)
        tab.check(label)
    page.goto("/invite/not-a-token/")
    tab.check("invitation-invalid", status=410)
    sign_in(page, owner.user.email)
    location = merchant.locations.get()
    pages = [
        ("/", "home"),
        ("/locations/", "locations"),
        ("/locations/new/", "location-new"),
        (f"/locations/{location.pk}/", "location-edit"),
        ("/staff/", "staff"),
        (f"/staff/{colleague.pk}/", "staff-edit"),
        ("/shop/settings/", "settings"),
    ]
    for path, label in pages:
        page.goto(path)
        tab.check(label)
    # Unlike onboarding, shop settings never overwrite the owner's choices when the country changes.
    form = page.locator("main form")
    form.get_by_label("Country").select_option("HU")
    page.wait_for_timeout(300)
    expect(form.get_by_label("Currency")).to_have_value("MYR")
    form.get_by_label("Currency").select_option("HUF")
    form.get_by_label("Time zone").select_option("Europe/Budapest")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Shop details saved.")
    tab.check("settings-saved")
    page.goto("/audit/")
    expect(page.get_by_role("cell", name="Europe/Budapest")).to_be_visible()
    tab.check("audit-log")
