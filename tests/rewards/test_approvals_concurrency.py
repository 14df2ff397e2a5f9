"""Two owners deciding one request at the same moment, on PostgreSQL's row locks (SQLite runs skip this)."""

import pytest

from merchants.actors import Actor
from merchants.models import AuditLog, Role
from rewards import approvals
from rewards.models import Account, AdjustmentRequest, Kind, PointsEntry, RequestStatus
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, StaffFactory

from .conftest import assert_ledger_consistent
from .test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting():
    """A request for 300 points, and two owners of the shop."""
    merchant = MerchantFactory()
    LocationFactory(merchant=merchant)
    ProgramFactory(merchant=merchant, adjustment_approval_above=100)
    member = MemberFactory(merchant=merchant)
    manager = Actor.for_staff(StaffFactory(merchant=merchant, role=Role.MANAGER))
    request = approvals.adjustment_submit(member=member, points=300, reason="lost card", actor=manager)
    owners = [Actor.for_staff(StaffFactory(merchant=merchant, role=Role.OWNER)) for _ in range(2)]
    return request, owners, member


def test_two_approvals_at_once_write_one_entry(waiting):
    request, owners, member = waiting

    results = race(lambda i: approvals.adjustment_approve(request=request, actor=owners[i]), n=2)

    assert [type(r) for r in results] == [AdjustmentRequest, AdjustmentRequest]
    assert PointsEntry.objects.filter(kind=Kind.ADJUST).count() == 1
    assert Account.objects.get(member=member).balance == 300
    assert AuditLog.objects.filter(action="adjustment.approve").count() == 1
    assert_ledger_consistent(Account.objects.get(member=member))


def test_an_approval_and_a_decline_at_once_decide_once(waiting):
    request, owners, _member = waiting
    decide = [approvals.adjustment_approve, approvals.adjustment_decline]

    results = race(lambda i: decide[i](request=request, actor=owners[i]), n=2)

    final = AdjustmentRequest.objects.get(pk=request.pk)
    assert {r.status for r in results} == {final.status}  # the loser saw the winner's decision
    entries = PointsEntry.objects.filter(kind=Kind.ADJUST).count()
    assert (final.status, entries) in {(RequestStatus.APPROVED, 1), (RequestStatus.DECLINED, 0)}
    assert AuditLog.objects.filter(action__in=["adjustment.approve", "adjustment.decline"]).count() == 1
