"""The owner's alerts page and the activity log's filters."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants import services
from merchants.models import Alert, AlertPattern, AuditLog
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _alert(merchant, subject="Ali", day=None, **fields) -> Alert:
    return Alert.objects.create(
        merchant=merchant,
        pattern=fields.pop("pattern", AlertPattern.VOIDS),
        subject_type="staff",
        subject_id=fields.pop("subject_id", "1"),
        subject_repr=subject,
        day=day or date(2026, 12, 1),
        details={"count": 14, "limit": 10},
        **fields,
    )


# ---------------------------------------------------------------------------------------------
# Alerts


def test_the_alerts_page_lists_open_alerts_with_the_count_in_the_nav(owner_client, merchant):
    _alert(merchant, subject="Ali")
    _alert(merchant, subject="Bo", subject_id="2", reviewed_at=timezone.now())

    response = owner_client.get(reverse("merchants:alerts"))

    assert "Ali voided or refunded 14 times in one day (the limit is 10)." in response.text
    assert "Bo voided" not in response.text
    assert '<span class="badge" id="nav-alerts">1' in response.text


def test_the_owner_marks_an_alert_reviewed(owner_client, merchant, owner):
    alert = _alert(merchant)

    owner_client.post(reverse("merchants:alert_review", args=[alert.pk]))

    alert.refresh_from_db()
    assert (alert.reviewed_by, alert.reviewed_at is not None) == (owner.user, True)
    assert AuditLog.objects.filter(action="alert.review", object_id=str(alert.pk)).count() == 1


def test_the_home_page_tells_the_owner_of_open_alerts(owner_client, merchant):
    _alert(merchant)

    response = owner_client.get(reverse("merchants:home"))

    assert "1 alert to review" in response.text


def test_another_shops_alert_is_not_found(owner_client, other_merchant):
    theirs = _alert(other_merchant)

    assert owner_client.post(reverse("merchants:alert_review", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.reviewed_at is None


def test_managers_do_not_see_alerts(manager_client, merchant):
    _alert(merchant)

    assert manager_client.get(reverse("merchants:alerts")).status_code == 403
    assert "nav-alerts" not in manager_client.get(reverse("merchants:home")).text


def test_raising_the_same_alert_twice_stores_one(merchant):
    first = services.alert_raise(
        merchant_id=merchant.pk, pattern=AlertPattern.VOIDS, subject_type="staff", subject_id=7,
        subject_repr="Ali", day=date(2026, 12, 1), details={},
    )  # fmt: skip
    again = services.alert_raise(
        merchant_id=merchant.pk, pattern=AlertPattern.VOIDS, subject_type="staff", subject_id=7,
        subject_repr="Ali", day=date(2026, 12, 1), details={},
    )  # fmt: skip

    assert (first is not None, again) == (True, None)
    assert Alert.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# The activity log's filters


@pytest.fixture
def log(merchant, owner, manager):
    """Locations made by the owner, a staff change by the manager, one entry a week ago."""
    for name in ("Damansara", "Cheras"):
        services.location_create(merchant=merchant, by=owner, name=name)
    cashier = StaffFactory(merchant=merchant)
    services.staff_update(staff=cashier, by=manager, is_active=False)
    old = services.location_create(merchant=merchant, by=owner, name="Old Klang")
    AuditLog.objects.filter(object_id=str(old.pk)).update(created_at=timezone.now() - timedelta(days=7))
    return merchant


def _shown(response) -> list[str]:
    return [entry.object_repr for entry in response.context["page"]]


def test_filter_by_staff_member(owner_client, log, manager):
    response = owner_client.get(reverse("merchants:audit_log"), {"actor": manager.user_id})

    assert [entry.action for entry in response.context["page"]] == ["staff.update"]


def test_filter_by_action_and_object_kind(owner_client, log):
    by_action = owner_client.get(reverse("merchants:audit_log"), {"action": "location.create"})
    by_kind = owner_client.get(reverse("merchants:audit_log"), {"object_type": "merchants.staff"})

    assert sorted(_shown(by_action)) == ["Cheras", "Damansara", "Old Klang"]
    assert [e.action for e in by_kind.context["page"]] == ["staff.update"]


def test_filter_by_date_range_in_the_shops_days(owner_client, log):
    today = timezone.localdate(timezone=log.tzinfo)
    week_ago = today - timedelta(days=7)

    recent = owner_client.get(reverse("merchants:audit_log"), {"start": today, "action": "location.create"})
    old = owner_client.get(reverse("merchants:audit_log"), {"start": week_ago, "end": week_ago})

    assert sorted(_shown(recent)) == ["Cheras", "Damansara"]
    assert _shown(old) == ["Old Klang"]


def test_search_by_the_objects_name(owner_client, log):
    response = owner_client.get(reverse("merchants:audit_log"), {"q": "dama"})

    assert _shown(response) == ["Damansara"]


def test_another_shops_staff_member_is_left_out_with_a_message(owner_client, log, other_merchant):
    stranger = StaffFactory(merchant=other_merchant)

    response = owner_client.get(reverse("merchants:audit_log"), {"actor": stranger.user_id})

    assert "This filter was left out." in response.text
    assert len(response.context["page"]) == AuditLog.objects.filter(merchant=log).count()


def test_an_htmx_request_gets_only_the_rows(owner_client, log):
    response = owner_client.get(reverse("merchants:audit_log"), {"q": "Cheras"}, headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<div id="audit-rows"')
    assert "<form" not in response.text


def test_the_filters_stay_in_the_page_links(owner_client, merchant, owner):
    for n in range(51):
        services.location_create(merchant=merchant, by=owner, name=f"Branch {n:02}")

    response = owner_client.get(reverse("merchants:audit_log"), {"action": "location.create", "q": "Branch"})

    assert "?action=location.create&amp;q=Branch&amp;page=2" in response.text
