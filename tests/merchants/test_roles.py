"""Who may open which page: a lower role gets a 403 that says who may, strangers go to sign in."""

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import AuditLog, Invitation, Role
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

OWNERS_ONLY = "Only the shop&#x27;s owner can open this page."
OWNERS_AND_MANAGERS = "Only the shop&#x27;s owner and managers can open this page."


@pytest.mark.parametrize(
    ("url_name", "message"),
    [
        ("merchants:settings", OWNERS_ONLY),
        ("merchants:locations", OWNERS_AND_MANAGERS),
        ("merchants:location_create", OWNERS_AND_MANAGERS),
        ("merchants:staff", OWNERS_AND_MANAGERS),
        ("merchants:staff_invite", OWNERS_AND_MANAGERS),
        ("merchants:audit_log", OWNERS_ONLY),
    ],
)
def test_cashier_is_refused_owner_and_manager_pages_with_a_reason(cashier_client, url_name, message):
    response = cashier_client.get(reverse(url_name))

    assert response.status_code == 403
    assert message in response.text


@pytest.mark.parametrize("url_name", ["merchants:settings", "merchants:audit_log"])
def test_manager_is_refused_owner_pages_with_a_reason(manager_client, url_name):
    response = manager_client.get(reverse(url_name))

    assert response.status_code == 403
    assert OWNERS_ONLY in response.text


def test_cashier_cannot_save_shop_settings(cashier_client, merchant):
    response = cashier_client.post(
        reverse("merchants:settings"),
        {"name": "Hijacked", "country": "MY", "currency": "MYR", "timezone": "Asia/Kuala_Lumpur", "language": "en"},
    )

    assert response.status_code == 403
    merchant.refresh_from_db()
    assert merchant.name == "Bubbles Laundromat"


@pytest.mark.parametrize(
    ("role", "url_name"),
    [
        (Role.CASHIER, "merchants:home"),
        (Role.MANAGER, "merchants:home"),
        (Role.MANAGER, "merchants:locations"),
        (Role.MANAGER, "merchants:staff"),
        (Role.MANAGER, "merchants:staff_invite"),
        (Role.OWNER, "merchants:settings"),
        (Role.OWNER, "merchants:audit_log"),
    ],
)
def test_role_opens_the_pages_it_is_allowed(request, role, url_name):
    client = request.getfixturevalue(f"{role}_client")

    assert client.get(reverse(url_name)).status_code == 200


def test_manager_can_invite_a_cashier(manager_client, merchant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("merchants:staff_invite"), {"email": "new@example.com", "name": "New", "role": Role.CASHIER}
        )

    assert response.status_code == 302
    invitation = Invitation.objects.for_merchant(merchant).get()
    assert (invitation.email, invitation.role) == ("new@example.com", Role.CASHIER)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_manager_cannot_invite_a_manager_or_owner(manager_client, mailoutbox, role):
    response = manager_client.post(
        reverse("merchants:staff_invite"), {"email": "boss@example.com", "name": "Boss", "role": role}
    )

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_manager_cannot_open_a_managers_or_owners_edit_page(manager_client, merchant, role):
    colleague = StaffFactory(merchant=merchant, role=role)

    response = manager_client.get(reverse("merchants:staff_edit", args=[colleague.pk]))

    assert response.status_code == 403
    assert "Only the owner can change managers and owners." in response.text


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_manager_cannot_change_a_manager_or_owner(manager_client, merchant, role):
    colleague = StaffFactory(merchant=merchant, role=role)

    response = manager_client.post(
        reverse("merchants:staff_edit", args=[colleague.pk]), {"role": Role.CASHIER, "is_active": ""}
    )

    assert response.status_code == 403
    colleague.refresh_from_db()
    assert (colleague.role, colleague.is_active) == (role, True)
    assert not AuditLog.objects.filter(action="staff.update").exists()


def test_manager_cannot_promote_a_cashier_to_manager(manager_client, cashier):
    response = manager_client.post(
        reverse("merchants:staff_edit", args=[cashier.pk]), {"role": Role.MANAGER, "is_active": "on"}
    )

    assert "role" in response.context["form"].errors
    cashier.refresh_from_db()
    assert cashier.role == Role.CASHIER


CONSOLE_PAGES = [
    ("merchants:home", []),
    ("merchants:settings", []),
    ("merchants:locations", []),
    ("merchants:location_create", []),
    ("merchants:location_edit", [1]),
    ("merchants:staff", []),
    ("merchants:staff_invite", []),
    ("merchants:staff_edit", [1]),
    ("merchants:audit_log", []),
    ("merchants:merchant_create", []),
]


@pytest.mark.parametrize(("url_name", "args"), CONSOLE_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, url_name, args):
    url = reverse(url_name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('merchants:login')}?next={url}"


@pytest.mark.parametrize("url_name", ["merchants:switch", "merchants:invitation_resend", "merchants:invitation_revoke"])
def test_anonymous_post_is_sent_to_sign_in(client, url_name):
    url = reverse(url_name, args=[] if url_name == "merchants:switch" else [1])

    response = client.post(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("merchants:login"))


@pytest.mark.parametrize(
    "url_name",
    [
        "merchants:home",
        "merchants:settings",
        "merchants:locations",
        "merchants:staff",
        "merchants:staff_invite",
        "merchants:audit_log",
    ],
)
def test_signed_in_user_without_a_shop_is_sent_to_create_one(db, url_name):
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url == reverse("merchants:merchant_create")


def test_user_whose_access_was_removed_is_sent_to_create_a_shop(merchant):
    former = StaffFactory(merchant=merchant, role=Role.MANAGER, is_active=False)
    client = Client()
    client.force_login(former.user)

    response = client.get(reverse("merchants:locations"))

    assert response.url == reverse("merchants:merchant_create")
