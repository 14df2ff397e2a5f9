"""The owner's dashboard: the console home's period filter and its six lazily loaded KPI cards.

Each card opens for owners and managers only, reads the window the home page's query string picks,
refuses another shop's location, downloads its tables as CSV, and counts only its own shop's rows.
"""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from merchants.actors import Actor
from merchants.models import Role
from merchants.periods import Window, window_query
from rewards import ledger
from rewards.kpis.rollups import rollups_refresh
from tests.factories import LocationFactory, MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db

CARDS = {
    "members:kpi_enrolment": "Enrolment",
    "rewards:kpi_activity": "Activity",
    "rewards:kpi_redemption": "Redemption",
    "rewards:kpi_retention": "Retention",
    "rewards:kpi_liability": "Points liability",
    "rewards:kpi_tiers": "Tiers",
}
# The home page's slots: the cards above, then the campaign card (which removes itself without campaigns).
SLOTS = [*CARDS, "campaigns:kpi_campaigns", "campaigns:kpi_nps"]
HX_GET = re.compile(r'hx-get="([^"]*)"')

# (card, table, header of a 30-day window, start of the file name)
TABLES = [
    ("members:kpi_enrolment", "enrolment", ["Day", "New members"], "new-members"),
    ("members:kpi_enrolment", "channels", ["Channel", "This period", "Previous period"], "new-members-by-channel"),
    ("members:kpi_enrolment", "staff", ["Staff member", "This period", "Previous period"], "new-members-by-staff"),
    ("rewards:kpi_activity", "activity", ["Day", "Visits", "Member revenue", "Average spend"], "activity"),
    ("rewards:kpi_redemption", "points", ["Day", "Points earned", "Points redeemed"], "points-earned-redeemed"),
    (
        "rewards:kpi_redemption",
        "rewards",
        ["Reward", "Vouchers issued", "Vouchers used", "Points spent"],
        "top-rewards",
    ),
    ("rewards:kpi_retention", "cohorts", ["Joined", "Members"], "cohorts"),
    ("rewards:kpi_liability", "liability", ["Day", "Points held", "Value"], "points-liability"),
    ("rewards:kpi_tiers", "tiers", ["Tier", "Members"], "members-per-tier"),
]


def today(merchant):
    return timezone.localdate(timezone=merchant.tzinfo)


def last_days(merchant, days: int, location=None) -> Window:
    end = today(merchant)
    return Window(end - timedelta(days=days - 1), end, location)


def card_urls(response) -> list[str]:
    return [html.unescape(url) for url in HX_GET.findall(response.text)]


def kpi_value(text: str, label: str) -> str:
    """The figure a card shows under `label`."""
    found = re.search(
        rf'<span class="kpi-label">{re.escape(label)}</span>\s*<strong class="kpi-value">([^<]*)</strong>', text
    )
    assert found, f"no KPI labelled {label!r}"
    return html.unescape(found[1])


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# ---------------------------------------------------------------------------------------------
# Who may open the cards


@pytest.mark.parametrize(("url_name", "heading"), CARDS.items())
def test_card_opens_for_a_manager_with_its_heading(manager_client, program, url_name, heading):
    response = manager_client.get(reverse(url_name))

    assert response.status_code == 200
    assert f"<h2>{heading}</h2>" in response.text


@pytest.mark.parametrize("url_name", CARDS)
def test_card_is_refused_to_a_cashier(cashier_client, program, url_name):
    assert cashier_client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", CARDS)
def test_card_answers_get_only(manager_client, program, url_name):
    assert manager_client.post(reverse(url_name)).status_code == 405


# ---------------------------------------------------------------------------------------------
# The home page and its period filter


def test_home_loads_every_card_with_the_windows_query_for_a_manager(manager_client, merchant, program):
    response = manager_client.get(reverse("merchants:home"), {"period": "7"})

    query = window_query(last_days(merchant, 7))
    assert card_urls(response) == [f"{reverse(name)}?{query}" for name in SLOTS]
    assert response.text.count('hx-trigger="load"') == len(SLOTS)


def test_home_cards_carry_the_chosen_location(manager_client, merchant, program):
    branch = merchant.locations.get()

    response = manager_client.get(reverse("merchants:home"), {"period": "90", "location": branch.pk})

    query = window_query(last_days(merchant, 90, branch))
    assert f"location={branch.pk}" in query
    assert card_urls(response) == [f"{reverse(name)}?{query}" for name in SLOTS]


def test_home_shows_no_cards_to_a_cashier(cashier_client):
    response = cashier_client.get(reverse("merchants:home"))

    assert response.status_code == 200
    assert card_urls(response) == []
    assert "kpi-card" not in response.text
    assert "period-filter" not in response.text


@pytest.mark.parametrize("url_name", [*CARDS, "merchants:home"])
def test_another_shops_location_is_a_404(manager_client, other_merchant, program, url_name):
    theirs = other_merchant.locations.get()

    assert manager_client.get(reverse(url_name), {"location": theirs.pk}).status_code == 404


@pytest.mark.parametrize("url_name", [*CARDS, "merchants:home"])
@pytest.mark.parametrize("location", ["abc", "1.5", "-1"])
def test_a_location_that_is_not_an_id_is_a_404(manager_client, program, url_name, location):
    assert manager_client.get(reverse(url_name), {"location": location}).status_code == 404


def test_reversed_custom_period_is_explained_and_cards_show_the_last_30_days(manager_client, merchant, program):
    end = today(merchant) - timedelta(days=10)
    reversed_range = {"period": "custom", "start": end.isoformat(), "end": (end - timedelta(days=5)).isoformat()}

    response = manager_client.get(reverse("merchants:home"), reversed_range)

    assert response.status_code == 200
    assert '<div class="form-errors" role="alert"><p>The period ends before it starts.</p></div>' in response.text
    query = window_query(last_days(merchant, 30))
    assert card_urls(response) == [f"{reverse(name)}?{query}" for name in SLOTS]


@pytest.mark.parametrize("url_name", CARDS)
def test_card_with_a_reversed_custom_period_falls_back_to_the_last_30_days(manager_client, merchant, program, url_name):
    end = today(merchant) - timedelta(days=10)
    reversed_range = {"period": "custom", "start": end.isoformat(), "end": (end - timedelta(days=5)).isoformat()}

    response = manager_client.get(reverse(url_name), reversed_range)

    assert response.status_code == 200
    assert response.context["card"].window == last_days(merchant, 30)


# ---------------------------------------------------------------------------------------------
# Tables as CSV


@pytest.mark.parametrize(("url_name", "table", "header", "prefix"), TABLES)
def test_table_downloads_as_csv_with_its_header(manager_client, merchant, program, url_name, table, header, prefix):
    response = manager_client.get(reverse(url_name), {"table": table})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"{prefix}-{merchant.slug}-{today(merchant).isoformat()}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert csv_rows(response)[0] == header


@pytest.mark.parametrize("url_name", CARDS)
def test_unknown_table_is_a_404(manager_client, program, url_name):
    assert manager_client.get(reverse(url_name), {"table": "members"}).status_code == 404


@pytest.mark.parametrize("url_name", CARDS)
def test_table_download_is_refused_to_a_cashier(cashier_client, program, url_name):
    table = next(name for card, name, _header, _prefix in TABLES if card == url_name)

    assert cashier_client.get(reverse(url_name), {"table": table}).status_code == 403


def test_activity_table_lists_each_days_visits_and_revenue(manager_client, merchant, buy):
    buy("12.50")
    buy("30.00")
    rollups_refresh(merchant_id=merchant.pk)

    rows = csv_rows(manager_client.get(reverse("rewards:kpi_activity"), {"table": "activity"}))

    assert len(rows) == 1 + 30
    assert rows[-1] == [today(merchant).isoformat(), "2", "42.50", "21.25"]


# ---------------------------------------------------------------------------------------------
# The figures


def test_activity_shows_visits_and_revenue_in_the_shops_money(manager_client, merchant, buy):
    buy("12.50")
    buy("30.00")
    rollups_refresh(merchant_id=merchant.pk)

    response = manager_client.get(reverse("rewards:kpi_activity"))

    assert kpi_value(response.text, "Visits") == "2"
    assert kpi_value(response.text, "Member revenue") == "RM42.50"
    assert kpi_value(response.text, "Average spend") == "RM21.25"


def test_another_shops_purchase_never_counts_in_this_shops_activity(manager_client, merchant, other_merchant, buy):
    buy("12.50")
    theirs = StaffFactory(merchant=other_merchant, role=Role.OWNER)
    their_member = MemberFactory(merchant=other_merchant)
    ledger.purchase_record(member=their_member, amount=Decimal("999.00"), actor=Actor.for_staff(theirs))
    rollups_refresh(merchant_id=merchant.pk)
    rollups_refresh(merchant_id=other_merchant.pk)

    response = manager_client.get(reverse("rewards:kpi_activity"))

    card = response.context["card"]
    assert (card.now.visits, card.now.revenue) == (1, Decimal("12.50"))
    assert kpi_value(response.text, "Visits") == "1"
    assert kpi_value(response.text, "Member revenue") == "RM12.50"
    assert "999" not in response.text


def test_activity_at_a_location_counts_only_that_locations_purchases(manager_client, merchant, buy, manager_actor):
    elsewhere = LocationFactory(merchant=merchant, name="Bangsar")
    buy("12.50")
    buy("30.00", location=elsewhere, actor=manager_actor)
    rollups_refresh(merchant_id=merchant.pk)

    response = manager_client.get(reverse("rewards:kpi_activity"), {"location": elsewhere.pk})

    assert kpi_value(response.text, "Visits") == "1"
    assert kpi_value(response.text, "Member revenue") == "RM30.00"


def test_hungarian_activity_shows_forints_without_decimals(huf_merchant):
    boss = StaffFactory(merchant=huf_merchant, role=Role.OWNER)
    member = MemberFactory(merchant=huf_merchant, phone="+36201234567")
    ledger.purchase_record(member=member, amount=Decimal(12500), actor=Actor.for_staff(boss))
    rollups_refresh(merchant_id=huf_merchant.pk)
    browser = Client()
    browser.force_login(boss.user)
    browser.cookies["django_language"] = "hu"

    response = browser.get(reverse("rewards:kpi_activity"))

    assert response.status_code == 200
    with translation.override("hu"):
        visits, revenue = gettext("Visits"), gettext("Member revenue")
    assert kpi_value(response.text, visits) == "1"
    assert kpi_value(response.text, revenue) == "12\xa0500\xa0Ft"
