"""Triggered campaigns: welcome, birthday and lapsed, each member once for their moment, every day."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment, Trigger
from campaigns.report import campaign_report
from merchants.actors import Actor
from merchants.models import AuditLog
from rewards import ledger
from rewards import services as reward_services
from rewards.models import Account, Kind, Purchase, TierChange
from rewards.models import PointsEntry as Entry
from tests.factories import MemberFactory, RewardFactory, TierFactory


@pytest.fixture
def triggered(merchant, owner):
    segment = Segment.objects.create(merchant=merchant, name="Everyone", rules={})

    def make(trigger: str, days: int = 0, **fields) -> Campaign:
        defaults = {"subject": "Hi", "body": "Hello", "holdout_percent": 0, "started_at": timezone.now()}
        return Campaign.objects.create(
            merchant=merchant, name=trigger, segment=segment, channel=Channel.EMAIL, trigger=trigger,
            trigger_days=days, status=CampaignStatus.ACTIVE, **(defaults | fields),
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


# ---------------------------------------------------------------------------------------------
# Points expiring, a reward within reach, tier promotion, feedback, program changes


def test_expiring_tells_what_is_left_of_the_points_due_that_day(merchant, triggered, rules, give):
    rules(expiry_mode="after_earning", expiry_months=12)
    campaign = triggered(Trigger.EXPIRING, days=7, body="{expiring_points} points go on {expiry_date}")
    soon, later = member(merchant, first_name="soon"), member(merchant, first_name="later")
    due_day = today(merchant) + timedelta(days=7)
    for who, day in ((soon, due_day), (later, due_day + timedelta(days=1))):
        ledger.points_credit(
            member=who, points=100, kind=Kind.BONUS, reason="x", actor=Actor.job("t"), idempotency_key=f"e{who.pk}",
            expires_at=noon(merchant, day),
        )  # fmt: skip
    give(soon, -30)  # spends the soonest points first
    sending.triggers_run()
    sending.triggers_run()
    assert [m.to[0] for m in mail.outbox] == ["soon@example.com"]
    assert mail.outbox[0].body.startswith("70 points go on")
    assert Message.objects.get(campaign=campaign).occurrence == due_day


def test_expiring_after_months_without_a_visit(merchant, triggered, rules):
    rules(expiry_mode="after_inactivity", expiry_months=6)
    triggered(Trigger.EXPIRING, days=3)
    idle, busy = member(merchant, first_name="idle"), member(merchant, first_name="busy")
    last_day = today(merchant) + timedelta(days=3)
    visited = ledger.add_months(last_day, -6)
    Account.objects.create(merchant=merchant, member=idle, balance=50, last_activity_at=noon(merchant, visited))
    Account.objects.create(merchant=merchant, member=busy, balance=50, last_activity_at=timezone.now())
    sending.triggers_run()
    assert [m.to[0] for m in mail.outbox] == ["idle@example.com"]


def test_a_reward_newly_within_reach_is_told_once(merchant, triggered, program, give):
    RewardFactory(merchant=merchant, name="Free coffee", points_cost=100)
    campaign = triggered(Trigger.REACH, body="{reward} is yours for the asking")
    close, rich = member(merchant, first_name="close"), member(merchant, first_name="rich")
    give(close, 90)
    give(rich, 150)
    Entry.objects.update(created_at=timezone.now() - timedelta(days=3))  # both balances are old news
    give(close, 20)  # 90 -> 110: passes 100 today
    give(rich, 10)  # 150 -> 160: was already there
    sending.triggers_run()
    sending.triggers_run()
    assert [m.to[0] for m in mail.outbox] == ["close@example.com"]
    assert mail.outbox[0].body.startswith("Free coffee is yours for the asking")
    assert Message.objects.get(campaign=campaign).occurrence == today(merchant)


def test_tier_promotion_is_told_and_demotion_is_not(merchant, triggered, program):
    silver, gold = TierFactory(merchant=merchant, threshold=100), TierFactory(merchant=merchant, threshold=500)
    triggered(Trigger.PROMOTION, body="Welcome to {tier}")
    up, down = member(merchant, first_name="up"), member(merchant, first_name="down")
    up_account = Account.objects.create(merchant=merchant, member=up, tier=gold)
    down_account = Account.objects.create(merchant=merchant, member=down, tier=silver)
    TierChange.objects.create(merchant=merchant, account=up_account, from_tier=silver, to_tier=gold, reason="earned")
    TierChange.objects.create(merchant=merchant, account=down_account, from_tier=gold, to_tier=silver, reason="review")
    sending.triggers_run()
    assert [(m.to[0], m.body.split("\n")[0]) for m in mail.outbox] == [("up@example.com", f"Welcome to {gold.name}")]


def test_feedback_is_asked_the_day_after_a_purchase_with_the_members_own_link(merchant, triggered, buy):
    triggered(Trigger.FEEDBACK, days=1, body="How was it? {survey_link}")
    regular = member(merchant, first_name="regular")
    for _visit in range(2):
        purchase = buy("10", member=regular)
        Purchase.objects.filter(pk=purchase.pk).update(created_at=noon(merchant, today(merchant) - timedelta(days=1)))
    buy("10", member=member(merchant, first_name="today"))
    sending.triggers_run()
    assert [m.to[0] for m in mail.outbox] == ["regular@example.com"]  # once, for two purchases that day
    assert "/s/" in mail.outbox[0].body


def test_program_changes_are_told_the_next_morning_in_one_message(merchant, triggered, program, owner):
    campaign = triggered(Trigger.RULES, body="From {change_date}:\n{changes}")
    Campaign.objects.filter(pk=campaign.pk).update(started_at=timezone.now() - timedelta(days=3))
    member(merchant, first_name="all")
    actor = Actor.for_staff(owner)
    reward_services.program_update(program=program, actor=actor, points_per_unit=Decimal(2))
    reward_services.reward_save(merchant=merchant, actor=actor, name="Free wash", points_cost=300)
    sending.triggers_run()
    assert mail.outbox == []  # the owner may still be editing: told tomorrow
    yesterday = timezone.now() - timedelta(days=1)
    AuditLog.objects.filter(merchant=merchant).update(created_at=yesterday)
    sending.triggers_run()
    sending.triggers_run()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Points per 1 of your currency: 1 → 2" in body
    assert "New reward: Free wash" in body
    Message.objects.update(sent_at=timezone.now() - timedelta(days=5))  # past the frequency cap
    program_update_later = timezone.now()
    reward_services.program_update(program=program, actor=actor, welcome_bonus=50)
    AuditLog.objects.filter(merchant=merchant, created_at__gte=program_update_later).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    sending.triggers_run(now=timezone.now() + timedelta(days=1))
    assert len(mail.outbox) == 2
    assert "Welcome bonus: 0 → 50" in mail.outbox[1].body
    assert "Free wash" not in mail.outbox[1].body  # only the new change


# ---------------------------------------------------------------------------------------------
# Time zones and midnight: a shop's day is its own, not the server's


@pytest.fixture
def kl(merchant):
    merchant.timezone = "Asia/Kuala_Lumpur"  # UTC+8: local midnight is 16:00 UTC the day before
    merchant.save()
    return merchant


def test_welcome_days_follow_the_shops_midnight(kl, triggered):
    campaign = triggered(Trigger.WELCOME, days=0)
    tz = kl.tzinfo
    day = date(2026, 12, 10)
    late = member(kl, first_name="late", joined_at=datetime.combine(day, time(23, 50), tz))
    member(kl, first_name="early", joined_at=datetime.combine(day + timedelta(days=1), time(0, 10), tz))
    sending.triggers_run(now=datetime.combine(day, time(23, 55), tz))
    assert [m.to[0] for m in mail.outbox] == ["late@example.com"]
    sending.triggers_run(now=datetime.combine(day + timedelta(days=1), time(0, 20), tz))
    assert [m.to[0] for m in mail.outbox] == ["late@example.com", "early@example.com"]
    assert Message.objects.get(campaign=campaign, member=late).occurrence == day


def test_birthday_starts_at_the_shops_midnight_while_the_server_is_still_on_the_day_before(kl, triggered):
    triggered(Trigger.BIRTHDAY)
    member(kl, first_name="born", birthday=date(1990, 12, 11))
    just_after_midnight = datetime.combine(date(2026, 12, 11), time(0, 5), kl.tzinfo)
    assert just_after_midnight.astimezone(UTC).date() == date(2026, 12, 10)
    sending.triggers_run(now=just_after_midnight - timedelta(minutes=10))
    assert mail.outbox == []
    sending.triggers_run(now=just_after_midnight)
    assert [m.to[0] for m in mail.outbox] == ["born@example.com"]
