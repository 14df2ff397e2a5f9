"""The hourly check for unusual patterns: each pattern raised once per subject and day, none for a
normal day's work, and the owners told once by email in their own language."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from merchants.actors import Actor
from merchants.models import Alert, AlertPattern, Role
from rewards import fraud, ledger
from rewards.models import Purchase
from rewards.tasks import fraud_check_dispatch_task
from tests.factories import MemberFactory, RewardFactory, StaffFactory

pytestmark = pytest.mark.django_db


def check(merchant) -> int:
    return fraud.fraud_check(merchant_id=merchant.pk)


def alerts(pattern: str) -> list[Alert]:
    return list(Alert.objects.filter(pattern=pattern))


@pytest.fixture
def rich(member, owner):
    ledger.points_adjust(member=member, points=10_000, reason="opening", actor=Actor.for_staff(owner))
    return member


def _staff(merchant, role=Role.CASHIER) -> Actor:
    return Actor.for_staff(StaffFactory(merchant=merchant, role=role))


def _undone_purchases(member, actor: Actor, n: int) -> None:
    """`actor` records n purchases and undoes each (a refund by them)."""
    for _ in range(n):
        purchase = ledger.purchase_record(member=member, amount=Decimal(10), actor=actor)
        ledger.purchase_undo(purchase=purchase, actor=actor)


# ---------------------------------------------------------------------------------------------
# Voids: vouchers voided and purchases refunded by one person in a day


def test_more_voids_than_the_limit_in_a_day_raise_one_alert(merchant, rich, manager_actor, manager):
    reward = RewardFactory(merchant=merchant, points_cost=10)
    for _ in range(fraud.VOIDS_PER_DAY - 4):
        voucher = ledger.reward_redeem(member=rich, reward=reward, actor=manager_actor)
        ledger.voucher_void(redemption=voucher, actor=manager_actor)
    _undone_purchases(rich, manager_actor, 5)  # refunds count as voids too

    check(merchant)
    check(merchant)  # the next hour's run finds it again: no second alert

    [alert] = alerts(AlertPattern.VOIDS)
    assert (alert.subject_id, alert.details["count"]) == (str(manager.user_id), fraud.VOIDS_PER_DAY + 1)
    assert f"{manager.user} voided or refunded 11 times" in alert.description


def test_voids_up_to_the_limit_raise_nothing(merchant, rich, manager_actor):
    _undone_purchases(rich, manager_actor, fraud.VOIDS_PER_DAY)

    check(merchant)

    assert alerts(AlertPattern.VOIDS) == []


# ---------------------------------------------------------------------------------------------
# Bursts of earning on one card


def test_a_burst_of_purchases_on_one_card_raises_one_alert(merchant, member, cashier_actor):
    for _ in range(fraud.BURST_PURCHASES + 1):
        ledger.purchase_record(member=member, amount=Decimal(5), actor=cashier_actor)

    assert check(merchant) == 1
    assert check(merchant) == 0

    [alert] = alerts(AlertPattern.EARN_BURST)
    assert (alert.subject_type, alert.subject_id) == ("member", str(member.pk))
    assert alert.details == {"count": fraud.BURST_PURCHASES + 1, "minutes": fraud.BURST_MINUTES}


def test_as_many_purchases_spread_over_hours_raise_nothing(merchant, member, cashier_actor):
    now = timezone.now()
    for n in range(fraud.BURST_PURCHASES + 1):
        purchase = ledger.purchase_record(member=member, amount=Decimal(5), actor=cashier_actor)
        Purchase.objects.filter(pk=purchase.pk).update(created_at=now - timedelta(minutes=40 * n))

    check(merchant)

    assert alerts(AlertPattern.EARN_BURST) == []


def test_the_burst_limit_itself_raises_nothing(merchant, member, cashier_actor):
    for _ in range(fraud.BURST_PURCHASES):
        ledger.purchase_record(member=member, amount=Decimal(5), actor=cashier_actor)

    check(merchant)

    assert alerts(AlertPattern.EARN_BURST) == []


# ---------------------------------------------------------------------------------------------
# One person's refunds far above the others'


def test_one_cashiers_refunds_far_above_the_others_raise_one_alert(merchant, rich, cashier_actor, cashier):
    _undone_purchases(rich, cashier_actor, 5)
    _undone_purchases(rich, _staff(merchant), 1)
    _undone_purchases(rich, _staff(merchant), 1)

    check(merchant)
    check(merchant)

    [alert] = alerts(AlertPattern.REFUNDS)
    assert alert.subject_id == str(cashier.user_id)
    assert alert.details == {"count": 5, "days": fraud.REFUNDS_WINDOW_DAYS, "median": 1}


def test_refunds_close_to_the_others_raise_nothing(merchant, rich, cashier_actor):
    _undone_purchases(rich, cashier_actor, 5)
    _undone_purchases(rich, _staff(merchant), 2)
    _undone_purchases(rich, _staff(merchant), 2)

    check(merchant)

    assert alerts(AlertPattern.REFUNDS) == []


def test_few_refunds_raise_nothing_even_when_the_others_made_none(merchant, rich, cashier_actor):
    _undone_purchases(rich, cashier_actor, fraud.REFUNDS_MIN - 1)
    ledger.purchase_record(member=rich, amount=Decimal(5), actor=_staff(merchant))

    check(merchant)

    assert alerts(AlertPattern.REFUNDS) == []


# ---------------------------------------------------------------------------------------------
# The owners are told once, in their language; the beat task runs the check


def test_each_owner_is_emailed_once_in_their_own_language(
    merchant, member, cashier_actor, owner, mailoutbox, django_capture_on_commit_callbacks
):
    owner.user.language = "hu"
    owner.user.save()
    english = StaffFactory(merchant=merchant, role=Role.OWNER, user__language="en")
    StaffFactory(merchant=merchant, role=Role.MANAGER)  # managers are not emailed
    for _ in range(fraud.BURST_PURCHASES + 1):
        ledger.purchase_record(member=member, amount=Decimal(5), actor=cashier_actor)

    with django_capture_on_commit_callbacks(execute=True):
        check(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        check(merchant)

    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([owner.user.email, english.user.email])
    day = timezone.localdate(timezone=merchant.tzinfo)
    by_owner = {mail.to[0]: mail.body for mail in mailoutbox}
    assert f"{day:%Y}. " in by_owner[owner.user.email]  # Hungarian dates: "2026. december 3."
    assert f"{day:%Y}. " not in by_owner[english.user.email]
    assert member.card_number in by_owner[owner.user.email]


def test_the_beat_task_checks_every_shop(merchant, member, cashier_actor, other_merchant):
    for _ in range(fraud.BURST_PURCHASES + 1):
        ledger.purchase_record(member=member, amount=Decimal(5), actor=cashier_actor)

    assert fraud_check_dispatch_task.delay().get() == 2
    assert len(alerts(AlertPattern.EARN_BURST)) == 1


def test_another_shops_activity_raises_nothing_here(merchant, other_merchant):
    theirs = MemberFactory(merchant=other_merchant)
    actor = Actor.for_staff(StaffFactory(merchant=other_merchant, role=Role.CASHIER))
    ledger.program_for(other_merchant)
    for _ in range(fraud.BURST_PURCHASES + 1):
        ledger.purchase_record(member=theirs, amount=Decimal(5), actor=actor)

    check(merchant)

    assert Alert.objects.filter(merchant=merchant).count() == 0
