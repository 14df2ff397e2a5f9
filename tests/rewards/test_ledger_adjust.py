"""A manager's adjustment: a reason, a role, a balance that stays at or above zero, an audit line."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from merchants.actors import Actor
from merchants.models import AuditLog
from rewards import ledger
from rewards.models import Kind, PointsEntry
from tests.factories import MemberFactory, StaffFactory

from .conftest import balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def adjust(manager_actor):
    def run(member, points, reason="goodwill", actor=manager_actor, **kwargs):
        return ledger.points_adjust(member=member, points=points, reason=reason, actor=actor, **kwargs)

    return run


def test_a_manager_adds_points_with_a_reason(adjust, member, manager):
    entry = adjust(member, 40, reason="  missed stamp last week ")

    assert (entry.kind, entry.points, entry.reason, entry.actor_user_id) == (
        Kind.ADJUST,
        40,
        "missed stamp last week",
        manager.user_id,
    )
    assert balance_of(member) == 40


def test_a_manager_takes_points_away(adjust, member):
    adjust(member, 40)

    adjust(member, -15, reason="double scan")

    assert balance_of(member) == 25


def test_an_owner_may_adjust(adjust, member, owner):
    adjust(member, 10, actor=Actor.for_staff(owner))

    assert balance_of(member) == 10


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_adjustment_without_a_reason_is_refused(adjust, member, reason):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError) as refused:
        adjust(member, 10, reason=reason)

    assert "reason" in refused.value.message_dict
    assert ledger_snapshot() == before


def test_a_cashier_cannot_adjust(adjust, member, cashier_actor):
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        adjust(member, 10, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_a_manager_of_another_shop_cannot_adjust(adjust, other_merchant, member):
    stranger = Actor.for_staff(StaffFactory(merchant=other_merchant, role="owner"))

    with pytest.raises(PermissionDenied):
        adjust(member, 10, actor=stranger)

    assert balance_of(member) == 0


def test_taking_more_than_the_balance_is_refused(adjust, member):
    adjust(member, 30)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="has only 30 points"):
        adjust(member, -31)

    assert ledger_snapshot() == before


@pytest.mark.parametrize(("language", "shown"), [("en", "12,345"), ("hu", "12\xa0345"), ("uk", "12\xa0345")])
def test_the_balance_in_a_refusal_is_written_as_the_language_writes_numbers(adjust, member, language, shown):
    adjust(member, 12345)

    with translation.override(language), pytest.raises(ledger.LedgerError) as refused:
        adjust(member, -20000)

    assert shown in " ".join(refused.value.messages)


def test_taking_the_whole_balance_is_allowed(adjust, member):
    adjust(member, 30)

    adjust(member, -30)

    assert balance_of(member) == 0


def test_an_adjustment_of_zero_points_is_refused(adjust, member):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        adjust(member, 0)

    assert ledger_snapshot() == before


def test_an_adjustment_is_written_to_the_audit_log(adjust, member, manager):
    adjust(member, 25, reason="birthday missed")

    log = AuditLog.objects.get(action="points.adjust")
    assert (log.merchant_id, log.actor_id, log.object_id) == (member.merchant_id, manager.user_id, str(member.pk))
    assert log.after == {"points": 25, "reason": "birthday missed", "balance": 25}


def test_added_points_expire_by_the_rule_and_removed_ones_carry_no_date(rules, adjust, member):
    rules(expiry_mode="after_earning", expiry_months=6)

    added, removed = adjust(member, 20), adjust(member, -5)

    assert added.expires_at is not None
    assert removed.expires_at is None


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_replayed_adjustment_returns_the_first_and_writes_nothing(adjust, member):
    first = adjust(member, 20, idempotency_key="adj-1")
    before = ledger_snapshot()

    again = adjust(member, 20, idempotency_key="adj-1")

    assert again.pk == first.pk
    assert ledger_snapshot() == before
    assert PointsEntry.objects.count() == 1


def test_an_adjustment_key_reused_with_other_points_is_a_conflict(adjust, member):
    adjust(member, 20, idempotency_key="adj-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        adjust(member, 21, idempotency_key="adj-1")

    assert ledger_snapshot() == before


def test_an_adjustment_key_reused_for_another_member_is_a_conflict(adjust, merchant, member):
    adjust(member, 20, idempotency_key="adj-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        adjust(MemberFactory(merchant=merchant), 20, idempotency_key="adj-1")

    assert ledger_snapshot() == before
