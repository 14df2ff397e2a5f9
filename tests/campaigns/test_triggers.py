"""Triggered campaigns: welcome, birthday and lapsed, each member once for their moment, every day."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment, Trigger
from campaigns.report import campaign_report
from merchants.actors import Actor
from rewards.models import Account, Purchase
from tests.factories import MemberFactory


@pytest.fixture
def triggered(merchant, owner):
    segment = Segment.objects.create(merchant=merchant, name="Everyone", rules={})

    def make(trigger: str, days: int = 0, **fields) -> Campaign:
        return Campaign.objects.create(
            merchant=merchant, name=trigger, segment=segment, channel=Channel.EMAIL, subject="Hi", body="Hello",
            holdout_percent=0, trigger=trigger, trigger_days=days, status=CampaignStatus.ACTIVE,
            started_at=timezone.now(), **fields,
        )  # fmt: skip

    return make


def noon(merchant, day: date) -> datetime:
    return datetime.combine(day, time(12), merchant.tzinfo)


def today(merchant) -> date:
    return timezone.localdate(timezone=merchant.tzinfo)


def member(merchant, **fields):
    return MemberFactory(
        merchant=merchant, email=f"{fields.get('first_name', 'm')}@example.com", email_consent=True, **fields
    )


def test_welcome_reaches_members_the_chosen_days_after_joining_once(merchant, triggered):
    campaign = triggered(Trigger.WELCOME, days=2)
    member(merchant, first_name="due", joined_at=noon(merchant, today(merchant) - timedelta(days=2)))
    member(merchant, first_name="early", joined_at=noon(merchant, today(merchant) - timedelta(days=1)))
    sending.triggers_run()
    sending.triggers_run()  # the next hour's run
    assert [m.to for m in mail.outbox] == [["due@example.com"]]
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE  # stays on


def test_birthday_reaches_members_on_their_day_in_the_shops_time_zone(merchant, triggered):
    triggered(Trigger.BIRTHDAY)
    day = today(merchant)
    member(merchant, first_name="born", birthday=date(1990, day.month, day.day if day.day < 29 else 28))
    member(merchant, first_name="other", birthday=(day + timedelta(days=3)).replace(year=1991))
    sending.triggers_run()
    expected = ["born@example.com"] if day.day < 29 else []
    assert [m.to[0] for m in mail.outbox] == expected


def test_lapsed_reaches_members_whose_last_purchase_was_that_long_ago(merchant, triggered, program):
    campaign = triggered(Trigger.LAPSED, days=30)
    gone = member(merchant, first_name="gone")
    back = member(merchant, first_name="back")
    Account.objects.create(
        merchant=merchant, member=gone, last_purchase_at=noon(merchant, today(merchant) - timedelta(days=30))
    )
    Account.objects.create(
        merchant=merchant, member=back, last_purchase_at=noon(merchant, today(merchant) - timedelta(days=3))
    )
    sending.triggers_run()
    assert [m.to[0] for m in mail.outbox] == ["gone@example.com"]
    message = Message.objects.get(campaign=campaign)
    assert message.occurrence == today(merchant) - timedelta(days=30)  # once for that last purchase


def test_a_switched_off_campaign_sends_nothing(merchant, triggered, owner):
    campaign = triggered(Trigger.WELCOME)
    services.campaign_cancel(campaign=campaign, actor=Actor.for_staff(owner))
    member(merchant, first_name="new", joined_at=timezone.now())
    sending.triggers_run()
    assert mail.outbox == []


def test_switching_on_from_the_page(merchant, manager_client, django_capture_on_commit_callbacks):
    segment = Segment.objects.create(merchant=merchant, name="Everyone")
    response = manager_client.post(
        reverse("campaigns:campaign_create"),
        {"name": "Welcome", "segment": segment.pk, "channel": "email", "subject": "Hi", "body": "Welcome!",
         "holdout_percent": 0, "bonus_points": 0, "trigger": "welcome", "trigger_days": 0},
    )  # fmt: skip
    campaign = Campaign.objects.get(merchant=merchant)
    assert "Runs every day: each new member gets it 0 days after joining." in manager_client.get(response.url).text
    member(merchant, first_name="new", joined_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("campaigns:campaign_start", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE
    assert [m.to[0] for m in mail.outbox] == ["new@example.com"]


def test_lapsed_needs_a_number_of_days(merchant, manager_client):
    segment = Segment.objects.create(merchant=merchant, name="Everyone")
    response = manager_client.post(
        reverse("campaigns:campaign_create"),
        {"name": "Miss you", "segment": segment.pk, "channel": "email", "subject": "Hi", "body": "Come back",
         "holdout_percent": 10, "bonus_points": 0, "trigger": "lapsed", "trigger_days": 0},
    )  # fmt: skip
    assert "Say after how many days without a purchase a member counts as lapsed." in response.text


def test_each_message_is_measured_from_its_own_day(merchant, triggered, buy, program):
    campaign = triggered(Trigger.WELCOME)
    early, late = member(merchant, first_name="early"), member(merchant, first_name="late")
    for who, days_ago in ((early, 40), (late, 5)):
        Message.objects.create(
            merchant=merchant, campaign=campaign, member=who, channel="email", status=MessageStatus.SENT,
            occurrence=today(merchant) - timedelta(days=days_ago),
        )  # fmt: skip
        purchase = buy("10", member=who)
        Purchase.objects.filter(pk=purchase.pk).update(
            created_at=noon(merchant, today(merchant) - timedelta(days=days_ago - 2))
        )
    report = campaign_report(campaign=campaign)
    assert (report.sent.members, report.sent.converted, report.sent.visits) == (2, 2, 2)
