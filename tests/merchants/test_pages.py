"""Console pages: what they show, what their forms save, and how many queries they take."""

import pytest
from django.conf import settings
from django.urls import reverse

from merchants import services
from merchants.middleware import SESSION_KEY
from merchants.models import AuditLog, Location, Merchant, Role, Staff
from tests.factories import InvitationFactory, LocationFactory, MerchantFactory, StaffFactory

pytestmark = pytest.mark.django_db

# Session, user, memberships, and the page's own one or two reads; the same for 1 row or 100.
MAX_QUERIES = 6
SETTINGS_FORM = {
    "name": "Bubbles & Co",
    "country": "MY",
    "currency": "MYR",
    "timezone": "Asia/Kuala_Lumpur",
    "language": "ms",
}


@pytest.fixture
def busy_shop(merchant, owner):
    """Ten of everything, so a per-row query would show in the counts."""
    for n in range(10):
        StaffFactory(merchant=merchant, role=Role.CASHIER)
        services.location_create(merchant=merchant, by=owner, name=f"Branch {n}")
        InvitationFactory(merchant=merchant, invited_by=owner.user)
    return merchant


def test_home_renders_for_a_cashier_in_a_few_queries(cashier_client, busy_shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = cashier_client.get(reverse("merchants:home"))

    assert response.status_code == 200
    assert "You are signed in to Bubbles Laundromat" in response.text


def test_home_for_a_cashier_hides_the_owner_and_manager_links(cashier_client):
    response = cashier_client.get(reverse("merchants:home"))

    for url_name in ("merchants:locations", "merchants:staff", "merchants:settings", "merchants:audit_log"):
        assert f'href="{reverse(url_name)}"' not in response.text


def test_home_for_a_manager_counts_open_locations_and_active_staff(manager_client, merchant):
    LocationFactory(merchant=merchant, name="Closed branch", is_active=False)
    StaffFactory(merchant=merchant, is_active=False)

    response = manager_client.get(reverse("merchants:home"))

    assert "1 open location." in response.text
    assert "1 person works here so far." in response.text


def test_location_list_renders_for_a_manager_in_a_few_queries(manager_client, busy_shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager_client.get(reverse("merchants:locations"))

    assert response.status_code == 200
    assert len(response.context["locations"]) == 11
    assert "Branch 9" in response.text


def test_staff_list_renders_for_a_manager_in_a_few_queries(manager_client, busy_shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager_client.get(reverse("merchants:staff"))

    assert response.status_code == 200
    assert len(response.context["staff_list"]) == 12
    assert len(response.context["invitations"]) == 10


def test_staff_list_offers_a_manager_to_change_cashiers_only(manager_client, manager, cashier, owner):
    response = manager_client.get(reverse("merchants:staff"))

    assert reverse("merchants:staff_edit", args=[cashier.pk]) in response.text
    assert reverse("merchants:staff_edit", args=[owner.pk]) not in response.text
    assert reverse("merchants:staff_edit", args=[manager.pk]) not in response.text


def test_staff_list_shows_only_pending_invitations(owner_client, merchant):
    InvitationFactory(merchant=merchant, email="pending@example.com")
    InvitationFactory(merchant=merchant, email="withdrawn@example.com", revoked_at="2026-01-01T00:00:00Z")

    response = owner_client.get(reverse("merchants:staff"))

    assert "pending@example.com" in response.text
    assert "withdrawn@example.com" not in response.text


def test_audit_log_renders_for_an_owner_in_a_few_queries(owner_client, busy_shop, django_assert_max_num_queries):
    # Three more than a plain page: the filters' choices (staff, kinds of object) and the owner's counts.
    with django_assert_max_num_queries(MAX_QUERIES + 3):
        response = owner_client.get(reverse("merchants:audit_log"))

    assert response.status_code == 200
    assert len(response.context["page"]) == 10


def test_audit_log_shows_newest_first_fifty_to_a_page(owner_client, merchant, owner):
    for n in range(51):
        services.location_create(merchant=merchant, by=owner, name=f"Branch {n:02}")

    first = owner_client.get(reverse("merchants:audit_log"))
    second = owner_client.get(reverse("merchants:audit_log"), {"page": 2})

    assert first.context["page"][0].object_repr == "Branch 50"
    assert len(first.context["page"]) == 50
    assert [entry.object_repr for entry in second.context["page"]] == ["Branch 00"]


def test_location_edit_page_opens_for_the_shops_own_location(manager_client, merchant):
    location = Location.objects.for_merchant(merchant).get()

    response = manager_client.get(reverse("merchants:location_edit", args=[location.pk]))

    assert response.status_code == 200
    assert response.context["form"].instance == location


def test_location_create_saves_the_location(manager_client, merchant):
    response = manager_client.post(
        reverse("merchants:location_create"), {"name": "Damansara", "address": "Jalan 1", "phone": "03 1234"}
    )

    assert response.url == reverse("merchants:locations")
    location = Location.objects.for_merchant(merchant).get(name="Damansara")
    assert (location.address, location.phone, location.is_active) == ("Jalan 1", "03 1234", True)


def test_location_create_writes_an_audit_entry(manager_client, manager, merchant):
    manager_client.post(reverse("merchants:location_create"), {"name": "Damansara", "address": "", "phone": ""})

    entry = AuditLog.objects.for_merchant(merchant).get()
    assert (entry.action, entry.actor, entry.object_repr) == ("location.create", manager.user, "Damansara")


def test_location_create_with_a_name_in_use_says_so(manager_client, merchant):
    response = manager_client.post(reverse("merchants:location_create"), {"name": "ss2", "address": "", "phone": ""})

    assert "This shop already has a location with that name." in response.text
    assert Location.objects.for_merchant(merchant).count() == 1


def test_location_create_may_reuse_another_shops_location_name(manager_client, merchant, other_merchant):
    manager_client.post(reverse("merchants:location_create"), {"name": "Silom", "address": "", "phone": ""})

    assert Location.objects.for_merchant(merchant).filter(name="Silom").exists()


def test_location_edit_saves_the_changes(manager_client, merchant):
    location = LocationFactory(merchant=merchant, name="Damansara")

    manager_client.post(
        reverse("merchants:location_edit", args=[location.pk]),
        {"name": "Damansara Utama", "address": "Jalan SS21", "phone": "", "is_active": ""},
    )

    location.refresh_from_db()
    assert (location.name, location.address, location.is_active) == ("Damansara Utama", "Jalan SS21", False)


def test_location_edit_writes_an_audit_entry_with_before_and_after(manager_client, merchant):
    location = LocationFactory(merchant=merchant, name="Damansara")

    manager_client.post(
        reverse("merchants:location_edit", args=[location.pk]),
        {"name": "Damansara Utama", "address": "", "phone": "", "is_active": "on"},
    )

    entry = AuditLog.objects.for_merchant(merchant).get()
    assert (entry.action, entry.before, entry.after) == (
        "location.update",
        {"name": "Damansara"},
        {"name": "Damansara Utama"},
    )


def test_closing_the_last_open_location_is_refused_on_the_form(manager_client, merchant):
    location = Location.objects.for_merchant(merchant).get()

    response = manager_client.post(
        reverse("merchants:location_edit", args=[location.pk]), {"name": "SS2", "address": "", "phone": ""}
    )

    assert "A shop needs at least one open location." in response.text
    assert Location.objects.get(pk=location.pk).is_active is True


def test_shop_settings_saves_the_changes(owner_client, merchant):
    response = owner_client.post(reverse("merchants:settings"), SETTINGS_FORM)

    assert response.url == reverse("merchants:settings")
    merchant.refresh_from_db()
    assert (merchant.name, merchant.language) == ("Bubbles & Co", "ms")


def test_shop_settings_writes_an_audit_entry(owner_client, owner, merchant):
    owner_client.post(reverse("merchants:settings"), SETTINGS_FORM)

    entry = AuditLog.objects.for_merchant(merchant).get()
    assert (entry.action, entry.actor) == ("merchant.update", owner.user)
    assert (entry.before, entry.after) == (
        {"name": "Bubbles Laundromat", "language": "en"},
        {"name": "Bubbles & Co", "language": "ms"},
    )


def test_shop_settings_with_an_unknown_time_zone_says_so_and_saves_nothing(owner_client, merchant):
    response = owner_client.post(reverse("merchants:settings"), SETTINGS_FORM | {"timezone": "Mars/Olympus"})

    assert "“Mars/Olympus” is not a time zone we know." in response.text
    assert Merchant.objects.get(pk=merchant.pk).name == "Bubbles Laundromat"
    assert not AuditLog.objects.exists()


def test_shop_settings_page_shows_the_saved_values(owner_client):
    response = owner_client.get(reverse("merchants:settings"))

    assert '<option value="MYR" selected>' in response.text
    assert '<option value="Asia/Kuala_Lumpur" selected>' in response.text


def test_owner_changes_a_cashier_to_manager(owner_client, cashier):
    response = owner_client.post(
        reverse("merchants:staff_edit", args=[cashier.pk]), {"role": Role.MANAGER, "is_active": "on"}
    )

    assert response.url == reverse("merchants:staff")
    cashier.refresh_from_db()
    assert (cashier.role, cashier.is_active) == (Role.MANAGER, True)


def test_changing_a_role_writes_an_audit_entry(owner_client, owner, cashier):
    owner_client.post(reverse("merchants:staff_edit", args=[cashier.pk]), {"role": Role.MANAGER, "is_active": "on"})

    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.before, entry.after) == (
        "staff.update",
        owner.user,
        {"role": "cashier"},
        {"role": "manager"},
    )


def test_staff_edit_refuses_to_demote_the_last_owner_on_the_form(owner_client, owner):
    response = owner_client.post(
        reverse("merchants:staff_edit", args=[owner.pk]), {"role": Role.MANAGER, "is_active": "on"}
    )

    assert "A shop needs at least one owner." in response.text
    assert Staff.objects.get(pk=owner.pk).role == Role.OWNER


def test_language_switcher_posts_to_set_language(owner_client):
    response = owner_client.get(reverse("merchants:home"))

    assert f'<form action="{reverse("set_language")}" method="post" class="language-form">' in response.text
    for code, _name in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in response.text


def test_set_language_remembers_the_choice(owner_client):
    response = owner_client.post(reverse("set_language"), {"language": "th", "next": reverse("merchants:home")})

    assert response.url == reverse("merchants:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "th"


@pytest.fixture
def second_shop(owner):
    """The owner of Bubbles Laundromat also manages Charlie's Cafe."""
    shop = MerchantFactory(name="Charlie's Cafe")
    LocationFactory(merchant=shop, name="Silom")
    StaffFactory(merchant=shop, user=owner.user, role=Role.MANAGER)
    return shop


def test_user_of_one_shop_sees_no_switcher(owner_client):
    response = owner_client.get(reverse("merchants:home"))

    assert reverse("merchants:switch") not in response.text


def test_user_of_two_shops_sees_a_switcher_listing_both(owner_client, merchant, second_shop):
    response = owner_client.get(reverse("merchants:home"))

    assert f'action="{reverse("merchants:switch")}"' in response.text
    assert f'<option value="{merchant.pk}" selected>Bubbles Laundromat · Owner</option>' in response.text
    assert f'<option value="{second_shop.pk}" >Charlie&#x27;s Cafe · Manager</option>' in response.text


def test_switching_shop_makes_it_current(owner_client, second_shop):
    response = owner_client.post(reverse("merchants:switch"), {"merchant": second_shop.pk}, follow=True)

    assert owner_client.session[SESSION_KEY] == second_shop.pk
    assert response.context["merchant"] == second_shop
    assert "Charlie&#x27;s Cafe · Manager" in response.text
    assert "You are now working in Charlie&#x27;s Cafe." in response.text


def test_after_switching_pages_show_the_second_shops_rows(owner_client, second_shop):
    owner_client.post(reverse("merchants:switch"), {"merchant": second_shop.pk})

    response = owner_client.get(reverse("merchants:locations"))

    assert [location.name for location in response.context["locations"]] == ["Silom"]


def test_after_switching_the_role_is_the_one_held_in_that_shop(owner_client, second_shop):
    owner_client.post(reverse("merchants:switch"), {"merchant": second_shop.pk})

    assert owner_client.get(reverse("merchants:settings")).status_code == 403


def test_password_change_sets_the_new_password(cashier_client, cashier):
    response = cashier_client.post(
        reverse("merchants:password_change"),
        {"old_password": "test-pass-123", "new_password1": "a-new-secret-456", "new_password2": "a-new-secret-456"},
    )

    assert response.status_code == 302
    cashier.user.refresh_from_db()
    assert cashier.user.check_password("a-new-secret-456")


def test_owner_can_open_a_second_shop_and_is_switched_to_it(owner_client, owner):
    owner_client.post(
        reverse("merchants:merchant_create"),
        {"name": "Bubbles Two", "country": "MY", "currency": "MYR", "timezone": "Asia/Kuala_Lumpur", "language": "en"},
    )

    response = owner_client.get(reverse("merchants:home"))
    assert response.context["merchant"].name == "Bubbles Two"
    assert len(response.context["memberships"]) == 2
