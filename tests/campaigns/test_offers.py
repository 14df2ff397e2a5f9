"""Campaign offers (bonus, multiplier, voucher), the member's language, A/B versions, surprises and
recurring campaigns."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from campaigns import content, sending, services
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Offer, Repeat, Segment, Trigger
from campaigns.report import campaign_report
from merchants.actors import Actor
from rewards import ledger
from rewards.models import Account, Boost, Redemption, VoucherStatus
from tests.factories import MemberFactory, RewardFactory


@pytest.fixture
def everyone(merchant):
    return Segment.objects.create(merchant=merchant, name="Everyone", rules={})


@pytest.fixture
def make_campaign(merchant, everyone, owner):
    def make(**fields) -> Campaign:
        defaults = {"name": "Treat", "segment": everyone, "channel": Channel.EMAIL, "subject": "Hi {first_name}",
                    "body": "Hello {first_name}", "holdout_percent": 0, "created_by": owner.user}  # fmt: skip
        return Campaign.objects.create(merchant=merchant, **(defaults | fields))

    return make


@pytest.fixture
def start(owner, django_capture_on_commit_callbacks):
    def run(campaign: Campaign, now=None) -> Campaign:
        with django_capture_on_commit_callbacks(execute=True):
            services.campaign_start(campaign=campaign, actor=Actor.for_staff(owner), now=now)
        campaign.refresh_from_db()
        return campaign

    return run


def opted_in(merchant, n: int, **fields):
    return [MemberFactory(merchant=merchant, email=f"o{i}@example.com", email_consent=True, **fields) for i in range(n)]


class TestOffers:
    def test_a_voucher_offer_puts_a_free_voucher_and_its_code_in_the_message(
        self, merchant, program, make_campaign, start
    ):
        reward = RewardFactory(merchant=merchant, name="Free dry", points_cost=500, stock=10)
        (alice,) = opted_in(merchant, 1)
        start(make_campaign(offer=Offer.VOUCHER, reward=reward, offer_days=10, body="{reward}: code {voucher_code}"))
        voucher = Redemption.objects.get(account__member=alice)
        assert (voucher.points, voucher.status, voucher.reward) == (0, VoucherStatus.ISSUED, reward)
        assert f"Free dry: code {voucher.code}" in mail.outbox[0].body
        assert timedelta(days=10) < voucher.expires_at - timezone.now() <= timedelta(days=11)
        assert Message.objects.get(member=alice).voucher == voucher
        reward.refresh_from_db()
        assert reward.stock == 9
        assert Account.objects.get(member=alice).balance == 0  # free of points

    def test_a_voucher_whose_message_finally_fails_is_voided(self, merchant, program, make_campaign, monkeypatch):
        def provider_down(self, fail_silently=False):
            raise ConnectionError("the provider is down")

        monkeypatch.setattr(EmailMessage, "send", provider_down)  # an outage we cannot cause for real
        reward = RewardFactory(merchant=merchant, points_cost=500)
        opted_in(merchant, 1)
        campaign = make_campaign(offer=Offer.VOUCHER, reward=reward, body="{voucher_code}")
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        sending.audience_write(campaign=campaign)
        later = timezone.now()
        for _attempt in range(sending.MAX_ATTEMPTS):
            later += timedelta(hours=1)
            sending.campaign_send(campaign_id=campaign.pk, now=later)
        assert Message.objects.get(campaign=campaign).status == MessageStatus.FAILED
        assert Redemption.objects.get().status == VoucherStatus.VOIDED

    def test_a_multiplier_offer_multiplies_purchases_in_its_days_only(
        self, merchant, program, make_campaign, start, cashier_actor
    ):
        (alice,) = opted_in(merchant, 1)
        start(make_campaign(offer=Offer.MULTIPLIER, multiplier=Decimal(2), offer_days=3))
        bought = ledger.purchase_record(member=alice, amount=Decimal(10), actor=cashier_actor)
        assert bought.points == 20  # 10 at the program's 1 point per 1, doubled
        preview = ledger.purchase_preview(member=alice, amount=Decimal(10))
        assert (preview.points, "2" in preview.reason) == (20, True)
        past = timezone.now() - timedelta(days=5)  # as if the offer's days were over
        Account.objects.filter(member=alice).update(boost_until=past)
        Boost.objects.filter(account__member=alice).update(starts_at=past - timedelta(days=3), ends_at=past)
        assert ledger.purchase_record(member=alice, amount=Decimal(10), actor=cashier_actor).points == 10

    def test_a_held_out_member_gets_no_offer(self, merchant, program, make_campaign, start):
        opted_in(merchant, 20)
        campaign = start(make_campaign(offer=Offer.BONUS, bonus_points=30, holdout_percent=50))
        held = Message.objects.filter(campaign=campaign, status=MessageStatus.HELD_OUT).values("member")
        assert held.exists()
        assert not Account.objects.filter(member__in=held, balance__gt=0).exists()
        assert not Account.objects.filter(member__in=held, boost_until__isnull=False).exists()


class TestLanguage:
    def test_each_member_reads_the_text_written_in_their_language(self, merchant, program, make_campaign, start):
        merchant.language = "en"
        merchant.save()
        (english,) = opted_in(merchant, 1)
        hungarian = MemberFactory(merchant=merchant, email="hu@example.com", email_consent=True, language="hu")
        thai = MemberFactory(merchant=merchant, email="th@example.com", email_consent=True, language="th")
        start(
            make_campaign(
                subject="Hi", body="Hello {first_name}",
                translations={"hu": {"subject": "Szia", "body": "Szia {first_name}"}},
            )
        )  # fmt: skip
        by_address = {m.to[0]: m for m in mail.outbox}
        assert by_address["hu@example.com"].subject == "Szia"
        assert by_address["hu@example.com"].body.startswith(f"Szia {hungarian.first_name}")
        assert by_address[english.email].body.startswith(f"Hello {english.first_name}")
        assert by_address["th@example.com"].body.startswith(f"Hello {thai.first_name}")  # no Thai text: the main one

    def test_the_form_keeps_texts_in_other_languages(self, merchant, everyone, manager_client):
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {"name": "Hi", "segment": everyone.pk, "channel": "email", "subject": "Hi", "body": "Hello",
             "holdout_percent": 10, "subject_uk": "Привіт", "body_uk": "Вітаємо, {first_name}"},
        )  # fmt: skip
        campaign = Campaign.objects.get()
        assert campaign.translations == {"uk": {"subject": "Привіт", "body": "Вітаємо, {first_name}"}}
        page = manager_client.get(response.url).text
        assert "Вітаємо," in page  # previewed in Ukrainian too

    def test_an_unknown_placeholder_in_a_translation_is_refused(self, merchant, everyone, manager_client):
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {"name": "Hi", "segment": everyone.pk, "channel": "email", "subject": "Hi", "body": "Hello",
             "holdout_percent": 10, "body_hu": "Szia {keresztnev}"},
        )  # fmt: skip
        assert "{keresztnev} is not something we can fill in." in response.text
        assert not Campaign.objects.exists()


class TestVariants:
    def test_the_audience_splits_in_two_halves_the_same_way_every_time(self, merchant, make_campaign):
        campaign = make_campaign(ab_test=True, b_body="Other text")
        halves = [sending.variant_of(campaign, member_id) for member_id in range(1, 4001)]
        assert 1850 < halves.count("b") < 2150  # about half
        assert halves == [sending.variant_of(campaign, member_id) for member_id in range(1, 4001)]
        assert all(sending.variant_of(make_campaign(), pk) == "a" for pk in range(1, 50))  # no test: all A

    def test_each_half_gets_its_version_and_offer(self, merchant, program, make_campaign, start):
        members = opted_in(merchant, 30)
        campaign = start(
            make_campaign(body="A text", ab_test=True, b_body="B text", b_offer=Offer.BONUS, b_bonus_points=40)
        )
        for message in Message.objects.filter(campaign=campaign).select_related("member__account"):
            email = next(m for m in mail.outbox if m.to == [message.member.email])
            assert email.body.startswith("A text" if message.variant == "a" else "B text")
            balance = Account.objects.filter(member=message.member).values_list("balance", flat=True).first() or 0
            assert balance == (40 if message.variant == "b" else 0)
        assert {m.variant for m in Message.objects.filter(campaign=campaign)} == {"a", "b"}
        assert len(mail.outbox) == len(members)

    def test_the_report_names_the_version_that_converts_better(
        self, merchant, program, make_campaign, buy, manager_client
    ):
        campaign = make_campaign(ab_test=True, b_body="B", status=CampaignStatus.SENT, started_at=timezone.now())
        members = opted_in(merchant, 400)
        for i, who in enumerate(members):
            variant = "a" if i < 200 else "b"
            Message.objects.create(
                merchant=merchant, campaign=campaign, member=who, channel="email", occurrence=timezone.localdate(),
                status=MessageStatus.SENT, variant=variant,
            )  # fmt: skip
            if (variant == "a" and i < 20) or (variant == "b" and i < 200 + 80):  # 10% against 40%
                buy("10", member=who)
        report = campaign_report(campaign=campaign)
        assert (report.variants["a"].conversion, report.variants["b"].conversion) == (0.1, 0.4)
        assert report.better_variant == "b"
        page = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk])).text
        assert "Version B converts better, beyond chance." in page

    def test_version_b_needs_something_different(self, merchant, everyone, manager_client):
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {"name": "AB", "segment": everyone.pk, "channel": "email", "subject": "Hi", "body": "Hello",
             "holdout_percent": 10, "ab_test": "on", "b_offer": "same"},
        )  # fmt: skip
        assert "Write a different message or pick a different offer for version B." in response.text


class TestSurpriseAndRecurring:
    def test_a_surprise_reaches_only_a_random_sample(self, merchant, program, make_campaign, start):
        opted_in(merchant, 12)
        campaign = start(make_campaign(sample_size=5, offer=Offer.BONUS, bonus_points=10))
        assert Message.objects.filter(campaign=campaign).count() == 5
        assert len(mail.outbox) == 5
        assert Account.objects.filter(balance=10).count() == 5

    def test_a_weekly_campaign_runs_at_its_time_then_a_week_later(self, merchant, program, make_campaign, start):
        opted_in(merchant, 2)
        tz = merchant.tzinfo
        first = datetime.combine(timezone.localdate(timezone=tz) + timedelta(days=1), time(9), tz)
        campaign = start(make_campaign(repeat=Repeat.WEEKLY, send_at=first), now=first - timedelta(hours=1))
        assert campaign.status == CampaignStatus.ACTIVE
        assert sending.recurring_run(now=first - timedelta(minutes=1)) == []  # not yet
        assert sending.recurring_run(now=first + timedelta(minutes=1)) == [campaign.pk]
        assert sending.recurring_run(now=first + timedelta(minutes=2)) == []  # ran: waits a week
        campaign.refresh_from_db()
        assert campaign.send_at == first + timedelta(weeks=1)
        assert sending.recurring_run(now=first + timedelta(weeks=1, minutes=1)) == [campaign.pk]
        days = sorted(set(Message.objects.filter(campaign=campaign).values_list("occurrence", flat=True)))
        assert days == [first.date(), first.date() + timedelta(weeks=1)]

    def test_a_monthly_campaign_on_the_31st_runs_on_shorter_months_last_day(self, merchant, make_campaign):
        tz = merchant.tzinfo
        campaign = make_campaign(repeat=Repeat.MONTHLY, send_at=datetime(2027, 1, 31, 10, tzinfo=tz))
        assert sending.next_run(campaign, datetime(2027, 1, 31, 11, tzinfo=tz)) == datetime(2027, 2, 28, 10, tzinfo=tz)

    def test_a_recurring_campaign_switched_on_from_the_page(self, merchant, everyone, manager_client):
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {"name": "Weekly", "segment": everyone.pk, "channel": "email", "subject": "Hi", "body": "Hello",
             "holdout_percent": 10, "repeat": "weekly"},
        )  # fmt: skip
        assert "Every week, next on the moment you switch it on." in manager_client.get(response.url).text


def test_the_preview_shows_a_sample_voucher_code(merchant, program, make_campaign):
    campaign = make_campaign(offer=Offer.VOUCHER, reward=RewardFactory(merchant=merchant), body="{voucher_code}")
    _subject, text = content.render(campaign, MemberFactory(merchant=merchant))
    assert text.startswith(content.SAMPLE_CODE)


@pytest.mark.parametrize("trigger", [t for t in Trigger.values if t])
def test_every_trigger_says_when_it_runs_on_its_page(trigger, merchant, program, make_campaign, manager_client):
    campaign = make_campaign(
        trigger=trigger, trigger_days=3, body="{changes} {survey_link} {expiring_points} {reward}",
        status=CampaignStatus.ACTIVE, started_at=timezone.now(),
    )  # fmt: skip
    page = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk]))
    assert page.status_code == 200
    assert "Runs every day" in page.text or "next morning" in page.text


@pytest.mark.parametrize("offer", [o for o in Offer.values if o])
def test_every_offer_is_described_on_its_page(offer, merchant, program, make_campaign, manager_client):
    reward = RewardFactory(merchant=merchant, name="Free dry")
    campaign = make_campaign(offer=offer, bonus_points=25, reward=reward, multiplier=Decimal(3), offer_days=5)
    text = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk])).text
    expected = {"bonus": "25 bonus points", "multiplier": "Points times 3", "voucher": "A voucher for “Free dry”"}
    assert expected[offer] in text
