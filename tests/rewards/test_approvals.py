"""Adjustments above the owner's limit wait for the owner: the limit's boundary, who it applies to,
the console and the API, and approving or declining once."""

import pytest
from django.urls import reverse

from merchants.actors import Actor
from merchants.models import AuditLog
from rewards import approvals, ledger
from rewards.models import AdjustmentRequest, Kind, PointsEntry, RequestStatus
from tests.api.conftest import Api
from tests.factories import MemberFactory, ProgramFactory, StaffFactory

from .conftest import balance_of

pytestmark = pytest.mark.django_db

LIMIT = 100


@pytest.fixture
def limited(rules):
    return rules(adjustment_approval_above=LIMIT)


@pytest.fixture
def owner_actor(owner) -> Actor:
    return Actor.for_staff(owner)


def submit(member, points, actor, key=None, reason="goodwill"):
    return approvals.adjustment_submit(member=member, points=points, reason=reason, actor=actor, idempotency_key=key)


def adjustments() -> int:
    return PointsEntry.objects.filter(kind=Kind.ADJUST).count()


def test_a_managers_adjustment_equal_to_the_limit_applies_at_once(limited, member, manager_actor):
    done = submit(member, LIMIT, manager_actor)

    assert isinstance(done, PointsEntry)
    assert balance_of(member) == LIMIT
    assert not AdjustmentRequest.objects.exists()


def test_a_managers_adjustment_above_the_limit_waits_and_writes_nothing(limited, member, manager_actor, manager):
    done = submit(member, LIMIT + 1, manager_actor)

    assert isinstance(done, AdjustmentRequest)
    assert (done.status, done.points, done.actor_user_id) == (RequestStatus.PENDING, LIMIT + 1, manager.user_id)
    assert balance_of(member) == 0
    assert adjustments() == 0
    assert AuditLog.objects.filter(action="adjustment.request").count() == 1


def test_taking_away_more_than_the_limit_waits_too(limited, member, manager_actor, owner_actor):
    submit(member, 500, owner_actor)

    done = submit(member, -(LIMIT + 1), manager_actor)

    assert isinstance(done, AdjustmentRequest)
    assert balance_of(member) == 500


def test_the_owners_own_adjustment_above_the_limit_applies_at_once(limited, member, owner_actor):
    done = submit(member, LIMIT * 5, owner_actor)

    assert isinstance(done, PointsEntry)
    assert balance_of(member) == LIMIT * 5


def test_without_a_limit_a_managers_big_adjustment_applies_at_once(program, member, manager_actor):
    submit(member, 10_000, manager_actor)

    assert balance_of(member) == 10_000


def test_the_ledger_itself_refuses_a_managers_adjustment_above_the_limit(limited, member, manager_actor):
    with pytest.raises(ledger.LedgerError) as refused:
        ledger.points_adjust(member=member, points=LIMIT + 1, reason="x", actor=manager_actor)

    assert refused.value.code == "approval_required"
    assert balance_of(member) == 0


def test_the_same_key_twice_asks_once(limited, member, manager_actor):
    first = submit(member, 300, manager_actor, key="k1")
    again = submit(member, 300, manager_actor, key="k1")

    assert again.pk == first.pk
    assert AdjustmentRequest.objects.count() == 1


def test_approving_writes_the_entry_and_the_decision_together(limited, member, manager_actor, owner_actor, owner):
    request = submit(member, 300, manager_actor)

    approved = approvals.adjustment_approve(request=request, actor=owner_actor)

    assert (approved.status, approved.decided_by_id) == (RequestStatus.APPROVED, owner.user_id)
    assert (approved.entry.points, approved.entry.kind, approved.entry.reason) == (300, Kind.ADJUST, "goodwill")
    assert balance_of(member) == 300
    assert AuditLog.objects.filter(action="adjustment.approve", actor=owner.user).count() == 1


def test_approving_twice_writes_once(limited, member, manager_actor, owner_actor):
    request = submit(member, 300, manager_actor)

    approvals.adjustment_approve(request=request, actor=owner_actor)
    approvals.adjustment_approve(request=request, actor=owner_actor)

    assert balance_of(member) == 300
    assert adjustments() == 1


def test_declining_writes_nothing_and_a_declined_request_cannot_be_approved(
    limited, member, manager_actor, owner_actor
):
    request = submit(member, 300, manager_actor)

    declined = approvals.adjustment_decline(request=request, actor=owner_actor)
    after = approvals.adjustment_approve(request=request, actor=owner_actor)

    assert (declined.status, after.status) == (RequestStatus.DECLINED, RequestStatus.DECLINED)
    assert balance_of(member) == 0
    assert adjustments() == 0


def test_a_manager_cannot_approve(limited, member, manager_actor):
    request = submit(member, 300, manager_actor)

    with pytest.raises(approvals.PermissionDenied):
        approvals.adjustment_approve(request=request, actor=manager_actor)

    assert AdjustmentRequest.objects.get().status == RequestStatus.PENDING


def test_an_approval_the_balance_no_longer_allows_is_refused_and_stays_pending(
    limited, member, manager_actor, owner_actor
):
    submit(member, 500, owner_actor)
    request = submit(member, -400, manager_actor)
    submit(member, -200, owner_actor)

    with pytest.raises(ledger.LedgerError):
        approvals.adjustment_approve(request=request, actor=owner_actor)

    assert AdjustmentRequest.objects.get().status == RequestStatus.PENDING
    assert balance_of(member) == 300


# ---------------------------------------------------------------------------------------------
# The console


def _adjust(client, member, points, key="k-console"):
    url = reverse("rewards:adjust", args=[member.pk])
    return client.post(url, {"key": key, "points": str(points), "reason": "lost receipt"}, follow=True)


def test_a_manager_sees_their_request_waiting_on_the_member_page(limited, member, manager_client):
    response = _adjust(manager_client, member, 250)

    assert "waits for the owner&#x27;s approval" in response.text or "waits for the owner's approval" in response.text
    assert 'id="adjust-requests"' in response.text
    assert "Waiting for approval" in response.text
    assert balance_of(member) == 0


def test_the_owners_nav_counts_requests_waiting(limited, member, manager_actor, owner_client):
    submit(member, 250, manager_actor)
    submit(member, 260, manager_actor)

    response = owner_client.get(reverse("rewards:approvals"))

    assert '<span class="badge" id="nav-approvals">2' in response.text
    assert response.text.count("Approve</button>") == 2


def test_the_owner_approves_on_the_approvals_page(limited, member, manager_actor, owner_client):
    request = submit(member, 250, manager_actor)

    response = owner_client.post(reverse("rewards:approval_approve", args=[request.pk]), follow=True)

    assert "Approved: +250 points" in response.text
    assert balance_of(member) == 250


def test_the_owner_declines_on_the_approvals_page(limited, member, manager_actor, owner_client):
    request = submit(member, 250, manager_actor)

    owner_client.post(reverse("rewards:approval_decline", args=[request.pk]))

    assert AdjustmentRequest.objects.get().status == RequestStatus.DECLINED
    assert balance_of(member) == 0


def test_another_shops_request_is_not_found(owner_client, other_merchant):
    ProgramFactory(merchant=other_merchant, adjustment_approval_above=LIMIT)
    stranger = MemberFactory(merchant=other_merchant)
    their_manager = Actor.for_staff(StaffFactory(merchant=other_merchant, role="manager"))
    theirs = submit(stranger, 500, their_manager)

    for name in ("rewards:approval_approve", "rewards:approval_decline"):
        assert owner_client.post(reverse(name, args=[theirs.pk])).status_code == 404

    assert AdjustmentRequest.objects.get().status == RequestStatus.PENDING


def test_the_program_page_sets_the_limit(program, owner_client):
    form = owner_client.get(reverse("rewards:program")).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data |= {"stamp_reward": "", "adjustment_approval_above": "150"}

    owner_client.post(reverse("rewards:program"), data)

    program.refresh_from_db()
    assert program.adjustment_approval_above == 150


# ---------------------------------------------------------------------------------------------
# The API: a key acts as a manager


@pytest.fixture
def api(merchant, program):
    from merchants.models import ApiScope
    from merchants.services import api_key_create

    _key, raw = api_key_create(merchant=merchant, name="Till 1", scope=ApiScope.FULL, by=None)
    return Api(raw)


def test_the_api_answers_202_with_the_request_above_the_limit(limited, api, member):
    response = api.post("/api/v1/adjustments/", {"member": member.pk, "points": LIMIT + 1, "reason": "promo"})

    assert response.status_code == 202
    assert response.json() | {"id": 0, "created_at": ""} == {
        "id": 0, "member": member.pk, "points": LIMIT + 1, "reason": "promo", "status": "pending",
        "created_at": "", "decided_at": None,
    }  # fmt: skip
    assert balance_of(member) == 0


def test_the_api_writes_an_adjustment_at_the_limit_at_once(limited, api, member):
    response = api.post("/api/v1/adjustments/", {"member": member.pk, "points": LIMIT, "reason": "promo"})

    assert (response.status_code, response.json()["balance_after"]) == (201, LIMIT)


def test_the_schema_documents_the_202(api):
    schema = api.client.get("/api/schema/", {"format": "json"}).json()

    answers = schema["paths"]["/api/v1/adjustments/"]["post"]["responses"]
    assert answers["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PendingAdjustment"}
    assert "201" in answers
