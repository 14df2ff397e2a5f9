"""Another shop's rows are not there: every id-taking view answers 404 and changes nothing."""

import pytest
from django.urls import reverse

from merchants.middleware import SESSION_KEY
from merchants.models import AuditLog, Invitation, Role
from tests.factories import InvitationFactory, LocationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_location(other_merchant):
    return LocationFactory(merchant=other_merchant, name="Sukhumvit", phone="02 111 2222")


@pytest.fixture
def foreign_cashier(other_merchant):
    return StaffFactory(merchant=other_merchant, role=Role.CASHIER, user__email="somchai@charlie.example")


@pytest.fixture
def foreign_invitation(other_merchant):
    return InvitationFactory(merchant=other_merchant, email="niran@charlie.example")


def test_location_edit_page_is_404_for_another_shops_location(owner_client, foreign_location):
    response = owner_client.get(reverse("merchants:location_edit", args=[foreign_location.pk]))

    assert response.status_code == 404


def test_location_edit_post_is_404_for_another_shops_location_and_changes_nothing(owner_client, foreign_location):
    response = owner_client.post(
        reverse("merchants:location_edit", args=[foreign_location.pk]),
        {"name": "Taken over", "address": "", "phone": "", "is_active": ""},
    )

    assert response.status_code == 404
    foreign_location.refresh_from_db()
    assert (foreign_location.name, foreign_location.is_active) == ("Sukhumvit", True)
    assert not AuditLog.objects.filter(action="location.update").exists()


def test_staff_edit_page_is_404_for_another_shops_staff(owner_client, foreign_cashier):
    response = owner_client.get(reverse("merchants:staff_edit", args=[foreign_cashier.pk]))

    assert response.status_code == 404


def test_staff_edit_post_is_404_for_another_shops_staff_and_changes_nothing(owner_client, foreign_cashier):
    response = owner_client.post(
        reverse("merchants:staff_edit", args=[foreign_cashier.pk]), {"role": Role.OWNER, "is_active": ""}
    )

    assert response.status_code == 404
    foreign_cashier.refresh_from_db()
    assert (foreign_cashier.role, foreign_cashier.is_active) == (Role.CASHIER, True)
    assert not AuditLog.objects.filter(action="staff.update").exists()


def test_invitation_resend_is_404_for_another_shops_invitation_and_changes_nothing(
    owner_client, foreign_invitation, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("merchants:invitation_resend", args=[foreign_invitation.pk]))

    assert response.status_code == 404
    stored = Invitation.objects.get(pk=foreign_invitation.pk)
    assert (stored.token_hash, stored.expires_at) == (foreign_invitation.token_hash, foreign_invitation.expires_at)
    assert mailoutbox == []


def test_invitation_revoke_is_404_for_another_shops_invitation_and_changes_nothing(owner_client, foreign_invitation):
    response = owner_client.post(reverse("merchants:invitation_revoke", args=[foreign_invitation.pk]))

    assert response.status_code == 404
    foreign_invitation.refresh_from_db()
    assert foreign_invitation.revoked_at is None
    assert not AuditLog.objects.filter(action="invitation.revoke").exists()


def test_switch_to_a_shop_the_user_does_not_work_in_is_404_and_keeps_the_session(
    owner_client, merchant, other_merchant
):
    response = owner_client.post(reverse("merchants:switch"), {"merchant": other_merchant.pk})

    assert response.status_code == 404
    assert owner_client.session[SESSION_KEY] == merchant.pk


def test_switch_to_a_shop_where_the_user_lost_access_is_404(owner, owner_client, merchant, other_merchant):
    StaffFactory(merchant=other_merchant, user=owner.user, role=Role.OWNER, is_active=False)

    response = owner_client.post(reverse("merchants:switch"), {"merchant": other_merchant.pk})

    assert response.status_code == 404
    assert owner_client.session[SESSION_KEY] == merchant.pk


def test_location_list_hides_another_shops_locations(owner_client, foreign_location):
    response = owner_client.get(reverse("merchants:locations"))

    assert [location.name for location in response.context["locations"]] == ["SS2"]
    assert "Sukhumvit" not in response.text
    assert "Silom" not in response.text


def test_staff_list_hides_another_shops_staff(owner, owner_client, foreign_cashier):
    response = owner_client.get(reverse("merchants:staff"))

    assert list(response.context["staff_list"]) == [owner]
    assert "somchai@charlie.example" not in response.text


def test_staff_list_hides_another_shops_invitations(owner_client, foreign_invitation):
    response = owner_client.get(reverse("merchants:staff"))

    assert response.context["invitations"] == []
    assert "niran@charlie.example" not in response.text


def test_audit_log_hides_another_shops_entries(owner, owner_client, other_merchant):
    AuditLog.objects.create(
        merchant=other_merchant, action="location.create", object_type="merchants.location", object_repr="Ratchada"
    )
    AuditLog.objects.create(
        merchant=owner.merchant, action="location.create", object_type="merchants.location", object_repr="Damansara"
    )

    response = owner_client.get(reverse("merchants:audit_log"))

    assert [entry.object_repr for entry in response.context["page"]] == ["Damansara"]
    assert "Ratchada" not in response.text


def test_home_counts_only_the_current_shops_locations_and_staff(owner_client, other_merchant):
    LocationFactory(merchant=other_merchant)
    StaffFactory(merchant=other_merchant)

    response = owner_client.get(reverse("merchants:home"))

    assert (response.context["location_count"], response.context["staff_count"]) == (1, 1)


@pytest.mark.parametrize("value", ["", "abc", "1 OR 1=1"])
def test_switch_with_a_malformed_shop_id_is_404_and_keeps_the_session(owner_client, merchant, value):
    response = owner_client.post(reverse("merchants:switch"), {"merchant": value})

    assert response.status_code == 404
    assert owner_client.session[SESSION_KEY] == merchant.pk
