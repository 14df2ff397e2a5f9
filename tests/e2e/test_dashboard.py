"""The owner's dashboard in a real browser on a phone: six cards load themselves, fit the screen,
and follow the period filter."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Response, expect

from merchants.actors import Actor
from rewards import ledger
from rewards.kpis.rollups import rollups_refresh
from tests.factories import MemberFactory, ProgramFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e

HEADINGS = ["Enrolment", "Activity", "Redemption", "Retention", "Points liability", "Tiers", "Customer feedback"]
CARDS = [
    "members:kpi_enrolment",
    "rewards:kpi_activity",
    "rewards:kpi_redemption",
    "rewards:kpi_retention",
    "rewards:kpi_liability",
    "rewards:kpi_tiers",
    "campaigns:kpi_nps",
]


@pytest.fixture
def busy_shop(merchant, owner):
    """A few purchases today, one by a member who joined eleven months ago: the retention heat map
    then has a dozen columns, wider than a phone."""
    ProgramFactory(merchant=merchant)
    at_counter = Actor.for_staff(owner, location=merchant.locations.first())
    old_timer = MemberFactory(merchant=merchant, joined_at=timezone.now() - timedelta(days=330))
    newcomer = MemberFactory(merchant=merchant)
    for member, amount in [(old_timer, "12.50"), (newcomer, "30.00"), (newcomer, "8.40")]:
        ledger.purchase_record(member=member, amount=Decimal(amount), actor=at_counter)
    rollups_refresh(merchant_id=merchant.pk)
    return merchant


def expect_cards_loaded(page) -> None:
    cards = page.locator(".dashboard > .kpi-card")
    expect(cards).to_have_count(len(HEADINGS))
    expect(page.locator(".kpi-loading")).to_have_count(0)  # every "Counting…" replaced by its card
    for heading in HEADINGS:
        expect(page.get_by_role("heading", name=heading, exact=True, level=2)).to_be_visible()


def test_owner_sees_the_dashboard_on_a_phone_and_changes_the_period(open_tab, owner, busy_shop):
    tab = open_tab("dashboard")
    page = tab.page
    card_paths = {reverse(name) for name in CARDS}
    loaded: list[Response] = []  # the cards' own requests, as htmx makes them
    page.on("response", lambda response: urlsplit(response.url).path in card_paths and loaded.append(response))
    sign_in(page, owner.user.email)

    expect_cards_loaded(page)
    expect(page.locator("main svg[role=img]").first).to_be_visible()
    activity = page.locator(".kpi-card").filter(has=page.get_by_role("heading", name="Activity", exact=True))
    expect(
        activity.locator(".kpi").filter(has=page.get_by_text("Visits", exact=True)).locator(".kpi-value")
    ).to_have_text("3")
    expect(
        activity.locator(".kpi").filter(has=page.get_by_text("Member revenue", exact=True)).locator(".kpi-value")
    ).to_have_text("RM50.90")
    # The heat map is wider than the phone: it scrolls inside its own frame, not the page.
    heat = page.locator(".chart-heat .chart-frame")
    expect(heat).to_be_visible()
    assert heat.evaluate("frame => frame.scrollWidth > frame.clientWidth")
    assert heat.evaluate("frame => getComputedStyle(frame).overflowX") == "auto"
    tab.check("home")  # 200, no sideways scrolling, nothing from other hosts, no console errors
    assert {urlsplit(response.url).path for response in loaded} == {reverse(name) for name in CARDS}
    assert all(response.status == 200 for response in loaded)

    loaded.clear()
    page.get_by_label("Period").select_option(label="Last 90 days")
    page.get_by_role("button", name="Show", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]period=90(&|$)"))
    expect(page.locator(".period-filter")).to_contain_text("compared with the 90 days before")
    expect_cards_loaded(page)
    today = timezone.localdate(timezone=busy_shop.tzinfo)
    windows = {tuple(parse_qs(urlsplit(response.url).query)[key][0] for key in ("start", "end")) for response in loaded}
    assert len(loaded) == len(HEADINGS)
    assert windows == {((today - timedelta(days=89)).isoformat(), today.isoformat())}
    tab.check("home-90-days")
