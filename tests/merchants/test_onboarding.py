"""A new owner signs up, creates a shop and lands on a home page that says what to do next."""

import re

import pytest
from django.contrib.auth import get_user
from django.urls import reverse

from merchants.middleware import SESSION_KEY
from merchants.models import AuditLog, Location, Merchant, Role, Staff, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {"name": "Ann Lee", "email": "ann@shop.example", "password1": "kopi-susu-2024", "password2": "kopi-susu-2024"}
SHOP = {
    "name": "Kedai Kopi Ah Seng",
    "country": "MY",
    "currency": "MYR",
    "timezone": "Asia/Kuala_Lumpur",
    "language": "en",
}


@pytest.fixture
def new_user_client(client):
    client.force_login(UserFactory(email="ann@shop.example", name="Ann Lee"))
    return client


def test_signup_creates_the_user_with_the_password(client):
    client.post(reverse("merchants:signup"), SIGNUP)

    user = User.objects.get()
    assert (user.email, user.name) == ("ann@shop.example", "Ann Lee")
    assert user.check_password("kopi-susu-2024")


def test_signup_signs_the_new_user_in(client):
    client.post(reverse("merchants:signup"), SIGNUP)

    assert get_user(client) == User.objects.get(email="ann@shop.example")


def test_signup_continues_to_shop_creation(client):
    response = client.post(reverse("merchants:signup"), SIGNUP)

    assert response.status_code == 302
    assert response.url == reverse("merchants:merchant_create")


def test_signup_stores_the_email_in_lower_case(client):
    client.post(reverse("merchants:signup"), SIGNUP | {"email": "Ann@Shop.Example"})

    assert User.objects.get().email == "ann@shop.example"


def test_signup_with_an_email_in_use_in_another_case_is_refused(client):
    UserFactory(email="owner@x.com")

    response = client.post(reverse("merchants:signup"), SIGNUP | {"email": "Owner@X.com"})

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email already exists. Sign in, or reset your password if you forgot it."
    ]
    assert User.objects.count() == 1
    assert not get_user(client).is_authenticated


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("123", "This password is too short."),
        ("123", "This password is entirely numeric."),
        ("password", "This password is too common."),
    ],
)
def test_signup_with_a_weak_password_is_refused(client, password, message):
    response = client.post(reverse("merchants:signup"), SIGNUP | {"password1": password, "password2": password})

    assert message in response.text
    assert not User.objects.exists()


def test_signup_with_a_password_like_the_email_is_refused(client):
    weak = {"password1": "ann@shop.example", "password2": "ann@shop.example"}

    response = client.post(reverse("merchants:signup"), SIGNUP | weak)

    assert "The password is too similar to the email." in response.text
    assert not User.objects.exists()


def test_signup_with_mismatched_passwords_is_refused(client):
    response = client.post(reverse("merchants:signup"), SIGNUP | {"password2": "kopi-susu-2025"})

    assert "The two password fields didn\u2019t match." in response.text
    assert not User.objects.exists()


def test_signed_in_user_opening_signup_goes_home(new_user_client):
    response = new_user_client.get(reverse("merchants:signup"))

    assert response.url == reverse("merchants:home")


def test_shop_creation_creates_the_shop(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.slug, merchant.country, merchant.currency, merchant.timezone) == (
        "Kedai Kopi Ah Seng",
        "kedai-kopi-ah-seng",
        "MY",
        "MYR",
        "Asia/Kuala_Lumpur",
    )


def test_shop_creation_makes_the_user_its_owner(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    staff = Staff.objects.get()
    assert (staff.user.email, staff.role, staff.is_active) == ("ann@shop.example", Role.OWNER, True)


def test_shop_creation_opens_one_location_named_after_the_shop(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    assert [(loc.name, loc.is_active) for loc in Location.objects.all()] == [("Kedai Kopi Ah Seng", True)]


def test_shop_creation_writes_an_audit_entry(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    entry = AuditLog.objects.get()
    assert (entry.merchant, entry.actor.email, entry.action) == (
        Merchant.objects.get(),
        "ann@shop.example",
        "merchant.create",
    )
    assert entry.after == SHOP


def test_shop_creation_makes_the_new_shop_current(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    assert new_user_client.session[SESSION_KEY] == Merchant.objects.get().pk


def test_shop_creation_lands_on_home_with_the_next_steps(new_user_client):
    response = new_user_client.post(reverse("merchants:merchant_create"), SHOP, follow=True)

    assert response.redirect_chain == [(reverse("merchants:home"), 302)]
    assert "Welcome! Kedai Kopi Ah Seng is ready." in response.text
    for step in ("Set up the program", "Import your customers", "Invite your staff"):
        assert step in response.text


def test_a_second_shop_with_the_same_name_gets_its_own_slug(new_user_client):
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)
    new_user_client.post(reverse("merchants:merchant_create"), SHOP)

    assert sorted(Merchant.objects.values_list("slug", flat=True)) == ["kedai-kopi-ah-seng", "kedai-kopi-ah-seng-2"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "XYZ", "“XYZ” is not a currency we know."),
        ("currency", "DEM", "“DEM” is not a currency we know."),
        ("timezone", "Mars/Olympus", "“Mars/Olympus” is not a time zone we know."),
        ("country", "XX", "Choose a country from the list."),
        ("name", "", "This field is required."),
    ],
)
def test_shop_creation_with_bad_input_says_why_and_creates_nothing(new_user_client, field, value, message):
    response = new_user_client.post(reverse("merchants:merchant_create"), SHOP | {field: value})

    assert response.status_code == 200
    assert message in response.text
    assert (Merchant.objects.count(), Staff.objects.count(), Location.objects.count()) == (0, 0, 0)
    assert not AuditLog.objects.exists()


def test_country_defaults_selects_the_countrys_currency_and_time_zone(client):
    response = client.get(reverse("merchants:country_defaults"), {"country": "TH"})

    assert response.status_code == 200
    assert '<option value="THB" selected>' in response.text
    assert '<option value="Asia/Bangkok" selected>' in response.text
    assert '<option value="th" selected>' in response.text


def test_country_defaults_for_an_unknown_country_selects_nothing(client):
    response = client.get(reverse("merchants:country_defaults"), {"country": "XX"})

    assert response.status_code == 200
    assert not re.search(r'<option value="[A-Z]{3}" selected>', response.text)
    assert not re.search(r'<option value="\w+/\w+" selected>', response.text)


def test_country_defaults_returns_only_the_fragment(client):
    response = client.get(reverse("merchants:country_defaults"), {"country": "TH"})

    assert response.text.lstrip().startswith('<div id="shop-defaults"')
    assert "<html" not in response.text
