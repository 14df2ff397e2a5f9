"""Write services, called directly: the rules they keep and the audit entries they write."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from merchants import services
from merchants.models import AuditLog, Invitation, Location, Merchant, Role, Staff
from tests.factories import InvitationFactory, LocationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_owner(other_merchant):
    return StaffFactory(merchant=other_merchant, role=Role.OWNER)


@pytest.mark.parametrize(
    "change",
    [{"role": Role.MANAGER}, {"role": Role.CASHIER}, {"is_active": False}, {"role": Role.CASHIER, "is_active": False}],
)
def test_staff_update_keeps_the_last_owner(owner, change):
    with pytest.raises(ValidationError) as raised:
        services.staff_update(staff=owner, by=owner, **change)

    assert raised.value.code == "last_owner"
    stored = Staff.objects.get(pk=owner.pk)
    assert (stored.role, stored.is_active) == (Role.OWNER, True)
    assert not AuditLog.objects.exists()


def test_staff_update_does_not_count_a_deactivated_owner_as_another_owner(owner, merchant):
    StaffFactory(merchant=merchant, role=Role.OWNER, is_active=False)

    with pytest.raises(ValidationError):
        services.staff_update(staff=owner, by=owner, role=Role.MANAGER)

    assert Staff.objects.get(pk=owner.pk).role == Role.OWNER


def test_staff_update_demotes_an_owner_when_another_owner_remains(owner, merchant):
    second = StaffFactory(merchant=merchant, role=Role.OWNER)

    services.staff_update(staff=owner, by=second, role=Role.MANAGER)

    assert Staff.objects.get(pk=owner.pk).role == Role.MANAGER


def test_staff_update_writes_an_audit_entry_with_before_and_after(owner, cashier):
    services.staff_update(staff=cashier, by=owner, role=Role.MANAGER, is_active=True)

    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.object_id) == ("staff.update", owner.user, str(cashier.pk))
    assert (entry.before, entry.after) == ({"role": "cashier"}, {"role": "manager"})


def test_staff_update_without_changes_writes_no_audit_entry(owner, cashier):
    services.staff_update(staff=cashier, by=owner, role=Role.CASHIER, is_active=True)

    assert not AuditLog.objects.exists()


def test_manager_may_deactivate_a_cashier(manager, cashier):
    services.staff_update(staff=cashier, by=manager, is_active=False)

    assert Staff.objects.get(pk=cashier.pk).is_active is False


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_manager_may_not_promote_a_cashier(manager, cashier, role):
    with pytest.raises(PermissionDenied):
        services.staff_update(staff=cashier, by=manager, role=role)

    assert Staff.objects.get(pk=cashier.pk).role == Role.CASHIER


def test_cashier_may_not_change_staff(cashier, merchant):
    colleague = StaffFactory(merchant=merchant, role=Role.CASHIER)

    with pytest.raises(PermissionDenied):
        services.staff_update(staff=colleague, by=cashier, is_active=False)

    assert Staff.objects.get(pk=colleague.pk).is_active is True


def test_deactivated_owner_may_not_change_staff(owner, merchant, cashier):
    Staff.objects.filter(pk=owner.pk).update(is_active=False)
    owner.refresh_from_db()

    with pytest.raises(PermissionDenied):
        services.staff_update(staff=cashier, by=owner, role=Role.MANAGER)

    assert Staff.objects.get(pk=cashier.pk).role == Role.CASHIER


def test_merchant_update_saves_the_changes(owner, merchant):
    services.merchant_update(merchant=merchant, by=owner, name="Bubbles & Co", currency="SGD")

    merchant.refresh_from_db()
    assert (merchant.name, merchant.currency, merchant.country) == ("Bubbles & Co", "SGD", "MY")


def test_merchant_update_writes_an_audit_entry_with_before_and_after(owner, merchant):
    services.merchant_update(merchant=merchant, by=owner, name="Bubbles & Co", currency="SGD", country="MY")

    entry = AuditLog.objects.get()
    assert (entry.merchant, entry.actor, entry.action) == (merchant, owner.user, "merchant.update")
    assert entry.before == {"name": "Bubbles Laundromat", "currency": "MYR"}
    assert entry.after == {"name": "Bubbles & Co", "currency": "SGD"}


def test_merchant_update_without_changes_writes_no_audit_entry(owner, merchant):
    services.merchant_update(merchant=merchant, by=owner, name="Bubbles Laundromat")

    assert not AuditLog.objects.exists()


def test_merchant_update_refuses_a_manager(manager, merchant):
    with pytest.raises(PermissionDenied):
        services.merchant_update(merchant=merchant, by=manager, name="Manager's Shop")

    assert Merchant.objects.get(pk=merchant.pk).name == "Bubbles Laundromat"


def test_merchant_update_refuses_fields_that_are_not_settings(owner, merchant):
    with pytest.raises(TypeError):
        services.merchant_update(merchant=merchant, by=owner, slug="taken-over")

    assert Merchant.objects.get(pk=merchant.pk).slug == merchant.slug


def test_merchant_update_refuses_an_invalid_value_and_changes_nothing(owner, merchant):
    with pytest.raises(ValidationError):
        services.merchant_update(merchant=merchant, by=owner, name="x" * 121)

    assert Merchant.objects.get(pk=merchant.pk).name == "Bubbles Laundromat"
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("timezone", "Mars/Olympus"), ("currency", "XYZ"), ("country", "QQ")])
def test_merchant_update_refuses_an_unknown_code(owner, merchant, field, value):
    with pytest.raises(ValidationError) as raised:
        services.merchant_update(merchant=merchant, by=owner, **{field: value})

    assert field in raised.value.message_dict
    assert getattr(Merchant.objects.get(pk=merchant.pk), field) != value


def test_location_update_refuses_to_close_the_last_open_location(owner, merchant):
    last = Location.objects.for_merchant(merchant).get()

    with pytest.raises(ValidationError) as raised:
        services.location_update(location=last, by=owner, is_active=False)

    assert raised.value.code == "last_location"
    assert Location.objects.get(pk=last.pk).is_active is True
    assert not AuditLog.objects.exists()


def test_location_update_does_not_count_another_shops_open_location(owner, merchant, other_merchant):
    last = Location.objects.for_merchant(merchant).get()

    with pytest.raises(ValidationError):
        services.location_update(location=last, by=owner, is_active=False)

    assert Location.objects.for_merchant(other_merchant).filter(is_active=True).exists()


def test_location_update_closes_a_location_when_another_is_open(owner, merchant):
    second = LocationFactory(merchant=merchant, name="Damansara")

    services.location_update(location=second, by=owner, is_active=False)

    assert Location.objects.get(pk=second.pk).is_active is False
    entry = AuditLog.objects.get()
    assert (entry.action, entry.before, entry.after) == ("location.update", {"is_active": True}, {"is_active": False})


def test_location_create_writes_an_audit_entry(manager, merchant):
    location = services.location_create(merchant=merchant, by=manager, name="Damansara", phone="03 1234 5678")

    entry = AuditLog.objects.get()
    assert (entry.action, entry.object_id, entry.actor) == ("location.create", str(location.pk), manager.user)
    assert entry.after == {"name": "Damansara", "address": "", "phone": "03 1234 5678", "is_active": True}


def test_location_create_refuses_a_cashier(cashier, merchant):
    with pytest.raises(PermissionDenied):
        services.location_create(merchant=merchant, by=cashier, name="Damansara")

    assert not Location.objects.filter(name="Damansara").exists()


def test_location_create_refuses_a_name_the_shop_already_uses_in_another_case(owner, merchant):
    with pytest.raises(ValidationError):
        services.location_create(merchant=merchant, by=owner, name="ss2")

    assert Location.objects.for_merchant(merchant).count() == 1


def test_invitations_purge_deletes_only_old_closed_invitations(merchant):
    now = timezone.now()
    long_ago = now - timedelta(days=40)
    recently = now - timedelta(days=3)
    kept = [
        InvitationFactory(merchant=merchant, email="pending@example.com"),
        InvitationFactory(merchant=merchant, email="accepted-recently@example.com", accepted_at=recently),
        InvitationFactory(merchant=merchant, email="revoked-recently@example.com", revoked_at=recently),
        InvitationFactory(merchant=merchant, email="expired-recently@example.com", expires_at=recently),
    ]
    InvitationFactory(merchant=merchant, email="accepted-long-ago@example.com", accepted_at=long_ago)
    InvitationFactory(merchant=merchant, email="revoked-long-ago@example.com", revoked_at=long_ago)
    InvitationFactory(merchant=merchant, email="expired-long-ago@example.com", expires_at=long_ago)

    deleted = services.invitations_purge(older_than_days=30)

    assert deleted == 3
    assert sorted(Invitation.objects.values_list("email", flat=True)) == sorted(i.email for i in kept)


@pytest.mark.parametrize(
    "call",
    [
        lambda merchant, by: services.merchant_update(merchant=merchant, by=by, name="Taken over"),
        lambda merchant, by: services.location_create(merchant=merchant, by=by, name="Annexe"),
        lambda merchant, by: services.location_update(
            location=Location.objects.for_merchant(merchant).get(), by=by, name="Taken over"
        ),
        lambda merchant, by: services.invitation_create(
            merchant=merchant, by=by, email="spy@example.com", role="cashier"
        ),
        lambda merchant, by: services.invitation_resend(invitation=InvitationFactory(merchant=merchant), by=by),
        lambda merchant, by: services.invitation_revoke(invitation=InvitationFactory(merchant=merchant), by=by),
        lambda merchant, by: services.staff_update(
            staff=StaffFactory(merchant=merchant, role=Role.CASHIER), by=by, role=Role.MANAGER
        ),
    ],
    ids=[
        "merchant_update",
        "location_create",
        "location_update",
        "invitation_create",
        "invitation_resend",
        "invitation_revoke",
        "staff_update",
    ],
)
def test_services_refuse_staff_of_another_shop(merchant, other_owner, call):
    audit_before = AuditLog.objects.count()

    with pytest.raises(PermissionDenied):
        call(merchant, other_owner)

    assert AuditLog.objects.count() == audit_before
    assert Merchant.objects.get(pk=merchant.pk).name == "Bubbles Laundromat"
    assert list(Location.objects.for_merchant(merchant).values_list("name", flat=True)) == ["SS2"]
    assert not Invitation.objects.filter(email="spy@example.com").exists()
    assert not Staff.objects.for_merchant(merchant).exclude(role=Role.CASHIER).exists()
    assert not Invitation.objects.filter(revoked_at__isnull=False).exists()


def test_invitation_create_refuses_a_manager_inviting_a_manager(manager, merchant, mailoutbox):
    with pytest.raises(PermissionDenied):
        services.invitation_create(merchant=merchant, by=manager, email="boss@example.com", role=Role.MANAGER)

    assert not Invitation.objects.exists()


def test_invitation_accept_works_only_once(merchant):
    invitation = InvitationFactory(merchant=merchant, email="new@example.com", token_hash=services.token_hash("t1"))
    services.invitation_accept(token="t1", password="laundry-day-42", name="New")

    with pytest.raises(services.InvitationInvalid) as raised:
        services.invitation_accept(token="t1", password="another-pass-42", name="Again")

    assert raised.value.code == "used"
    assert Staff.objects.for_merchant(merchant).filter(user__email=invitation.email).count() == 1
