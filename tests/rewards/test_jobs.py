"""The nightly work per shop: dispatch by local day, birthdays, paid-tier reminders, the Celery path."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from merchants.actors import Actor
from rewards import jobs, ledger
from rewards.models import Account, Kind, PointsEntry, Program
from rewards.tasks import rewards_daily_dispatch_task
from tests.factories import MemberFactory, MerchantFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(merchant):
    return Program.objects.create(merchant=merchant, birthday_bonus=25)


def test_a_shop_is_due_until_its_nightly_work_ran_today(merchant, program):
    assert merchant.pk in jobs.daily_due_merchant_ids()

    jobs.daily_run(merchant_id=merchant.pk)

    assert merchant.pk not in jobs.daily_due_merchant_ids()


def test_the_shop_local_day_decides_when_it_is_due(monkeypatch):
    # 20:00 UTC on 23 November is already 24 November in Kiritimati (UTC+14), still the 23rd in Pago Pago.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 23, 20, tzinfo=UTC))
    ahead = MerchantFactory(timezone="Pacific/Kiritimati")
    behind = MerchantFactory(timezone="Pacific/Pago_Pago")
    for shop in (ahead, behind):
        Program.objects.create(merchant=shop, last_expiry_run=date(2026, 11, 23))

    assert jobs.daily_due_merchant_ids() == [ahead.pk]


def test_birthday_bonus_is_given_once_a_year(merchant, program):
    today = ledger.local_today(merchant)
    member = MemberFactory(merchant=merchant, birthday=today.replace(year=1990))
    MemberFactory(merchant=merchant, birthday=(today + timedelta(days=1)).replace(year=1990))

    assert ledger.birthday_bonuses(merchant=merchant, today=today) == 1
    assert ledger.birthday_bonuses(merchant=merchant, today=today) == 0
    assert Account.objects.get(member=member).balance == 25


def test_feb_29_birthdays_get_their_bonus_on_feb_28_in_common_years(merchant, program):
    member = MemberFactory(merchant=merchant, birthday=date(2000, 2, 29))

    ledger.birthday_bonuses(merchant=merchant, today=date(2027, 2, 28))

    assert PointsEntry.objects.filter(account__member=member, kind=Kind.BONUS).count() == 1


def test_paid_tier_reminder_is_emailed_once_in_the_members_language(merchant, program, owner):
    club = TierFactory(merchant=merchant, name="Club", is_paid=True, fee=Decimal(30), paid_months=1)
    member = MemberFactory(merchant=merchant, email="ana@example.com", language="en")
    ledger.tier_fee_record(member=member, tier=club, amount=Decimal(30), actor=Actor.for_staff(owner))
    account = Account.objects.get(member=member)
    almost_over = account.paid_until - timedelta(days=3)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ledger, "local_today", lambda merchant, now=None: almost_over)
        first = jobs.paid_tier_reminders_send(merchant=merchant)
        second = jobs.paid_tier_reminders_send(merchant=merchant)

    assert (first, second) == (1, 0)
    assert mail.outbox[0].to == ["ana@example.com"]
    assert "Club" in mail.outbox[0].subject


def test_the_hourly_dispatch_runs_each_due_shop_through_celery(merchant, other_merchant, program):
    assert rewards_daily_dispatch_task.delay().get() == 2

    assert not jobs.daily_due_merchant_ids()
    assert Program.objects.get(merchant=other_merchant).last_expiry_run == ledger.local_today(other_merchant)
