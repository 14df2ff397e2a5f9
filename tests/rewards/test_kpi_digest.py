"""The owners' weekly digest: last week's numbers, once a week, in the owner's language."""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail

from rewards import ledger
from rewards.kpis.digest import digest_due_merchant_ids, digest_send
from rewards.models import PointsEntry, Purchase


def _monday(merchant, hour: int) -> datetime:
    today = ledger.local_today(merchant)
    return datetime.combine(today - timedelta(days=today.weekday()), time(hour), merchant.tzinfo)


@pytest.fixture
def last_week_purchase(merchant, member, buy):
    moment = _monday(merchant, 12) - timedelta(days=3)  # last Friday
    purchase = buy("40")
    Purchase.objects.filter(pk=purchase.pk).update(created_at=moment)
    PointsEntry.objects.filter(purchase=purchase).update(created_at=moment)
    return purchase


def test_owners_get_last_weeks_numbers_with_a_link_to_the_dashboard(merchant, owner, manager, last_week_purchase):
    assert digest_send(merchant_id=merchant.pk, now=_monday(merchant, 9)) == 1
    (message,) = mail.outbox
    assert message.to == [owner.user.email]  # owners only, not the manager
    assert "Visits: 1" in message.body
    assert "Member revenue: RM40.00" in message.body
    assert "?period=7" in message.body
    assert "RM40.00" in message.alternatives[0][0]


def test_a_second_run_the_same_week_sends_nothing(merchant, owner, last_week_purchase):
    digest_send(merchant_id=merchant.pk, now=_monday(merchant, 9))
    assert digest_send(merchant_id=merchant.pk, now=_monday(merchant, 10)) == 0
    assert len(mail.outbox) == 1


def test_written_in_the_owners_language(merchant, owner, last_week_purchase):
    owner.user.language = "hu"
    owner.user.save()
    digest_send(merchant_id=merchant.pk, now=_monday(merchant, 9))
    assert "40,00" in mail.outbox[0].body  # Hungarian writes a decimal comma (the words come with issue 11)


def test_due_on_monday_morning_in_the_shops_time_zone(merchant):
    assert merchant.pk not in digest_due_merchant_ids(now=_monday(merchant, 7))
    assert merchant.pk in digest_due_merchant_ids(now=_monday(merchant, 8))


def test_not_due_again_once_sent(merchant, owner):
    digest_send(merchant_id=merchant.pk, now=_monday(merchant, 9))
    assert merchant.pk not in digest_due_merchant_ids(now=_monday(merchant, 11) + timedelta(days=2))
