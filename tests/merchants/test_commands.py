"""Management commands: the demo shop, and a real shop set up from the command line."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from merchants.models import AuditLog, Location, Merchant, Role, Staff, User

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_bubbles_laundromat_in_malaysia():
    _run("seed_demo")

    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.slug, merchant.country, merchant.currency, merchant.timezone) == (
        "Bubbles Laundromat",
        "bubbles-laundromat",
        "MY",
        "MYR",
        "Asia/Kuala_Lumpur",
    )


@pytest.mark.parametrize(
    ("email", "role"), [("owner@demo.example", Role.OWNER), ("cashier@demo.example", Role.CASHIER)]
)
def test_seed_demo_creates_the_demo_logins(email, role):
    _run("seed_demo")

    staff = Staff.objects.select_related("user").get(user__email=email)
    assert (staff.merchant.slug, staff.role, staff.is_active) == ("bubbles-laundromat", role, True)
    assert staff.user.check_password("demo-pass-123")


def test_seed_demo_opens_two_locations():
    _run("seed_demo")

    assert list(Location.objects.values_list("name", flat=True)) == ["Bubbles Laundromat", "Bubbles SS2"]


def test_seed_demo_prints_the_demo_logins():
    out = _run("seed_demo")

    assert "owner@demo.example / demo-pass-123" in out
    assert "cashier@demo.example / demo-pass-123" in out


def test_seed_demo_twice_creates_nothing_new():
    _run("seed_demo")
    counts = [model.objects.count() for model in (Merchant, User, Staff, Location, AuditLog)]

    out = _run("seed_demo")

    assert [model.objects.count() for model in (Merchant, User, Staff, Location, AuditLog)] == counts
    assert "The demo shop already exists." in out


def test_create_merchant_uses_the_countrys_currency_and_time_zone():
    _run("create_merchant", "Ran Kafae Somchai", "Somchai@Example.com", "--country", "th", "--generate-password")

    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.country, merchant.currency, merchant.timezone, merchant.language) == (
        "Ran Kafae Somchai",
        "TH",
        "THB",
        "Asia/Bangkok",
        "th",
    )


def test_create_merchant_makes_the_owner_with_the_printed_password():
    out = _run("create_merchant", "Ran Kafae", "somchai@example.com", "--country", "TH", "--generate-password")

    password = re.search(r"Owner password: (\S+)", out).group(1)
    staff = Staff.objects.select_related("user").get()
    assert (staff.user.email, staff.role) == ("somchai@example.com", Role.OWNER)
    assert staff.user.check_password(password)


def test_create_merchant_reuses_an_existing_account_and_keeps_its_password():
    existing = User.objects.create_user("somchai@example.com", "old-pass-123")

    out = _run("create_merchant", "Ran Kafae", "SOMCHAI@example.com", "--country", "TH", "--generate-password")

    assert User.objects.count() == 1
    assert Staff.objects.get().user == existing
    assert User.objects.get().check_password("old-pass-123")
    assert "Owner password" not in out


def test_create_merchant_takes_an_explicit_currency_and_time_zone():
    _run(
        "create_merchant",
        "Kyiv Coffee",
        "olena@example.com",
        "--country",
        "UA",
        "--currency",
        "eur",
        "--timezone",
        "Europe/Kyiv",
        "--generate-password",
    )

    merchant = Merchant.objects.get()
    assert (merchant.currency, merchant.timezone) == ("EUR", "Europe/Kyiv")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--currency", "XYZ", "currency: “XYZ” is not a currency we know."),
        ("--timezone", "Mars/Olympus", "timezone: “Mars/Olympus” is not a time zone we know."),
    ],
)
def test_create_merchant_with_an_unknown_value_fails_and_creates_nothing(option, value, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        _run(
            "create_merchant",
            "Ran Kafae",
            "somchai@example.com",
            "--country",
            "TH",
            option,
            value,
            "--generate-password",
        )

    assert (Merchant.objects.count(), User.objects.count(), Staff.objects.count()) == (0, 0, 0)


def test_create_merchant_with_an_unknown_country_fails_and_creates_nothing():
    with pytest.raises(CommandError, match=re.escape("country: Choose a country from the list.")):
        _run("create_merchant", "Somewhere", "x@example.com", "--country", "XX", "--generate-password")

    assert (Merchant.objects.count(), User.objects.count()) == (0, 0)
