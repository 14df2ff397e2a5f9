"""Campaigns: the outbox with its holdout, at most one message per member, consent and the frequency
cap, personalised messages with an unsubscribe link, retries, and the pages."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment
from members.sms import MemoryBackend
from merchants.actors import Actor
from rewards.models import Account
from tests.factories import MemberFactory


@pytest.fixture
def everyone(merchant):
    return Segment.objects.create(merchant=merchant, name="Everyone", rules={})


@pytest.fixture
def make_campaign(merchant, everyone, owner):
    def make(**fields) -> Campaign:
        defaults = {"name": "Come back", "segment": everyone, "channel": Channel.EMAIL, "subject": "Hi {first_name}",
                    "body": "You have {balance} points at {shop}.", "holdout_percent": 0, "created_by": owner.user}  # fmt: skip
        return Campaign.objects.create(merchant=merchant, **(defaults | fields))

    return make


@pytest.fixture
def actor(owner):
    return Actor.for_staff(owner)


@pytest.fixture
def start(actor, django_capture_on_commit_callbacks):
    """Start a campaign as the send button does; its sending, queued after the commit, runs (eagerly)."""

    def run(campaign: Campaign) -> Campaign:
        with django_capture_on_commit_callbacks(execute=True):
            started = services.campaign_start(campaign=campaign, actor=actor)
        started.refresh_from_db()
        return started

    return run


def opted_in(merchant, n: int, **fields):
    return [MemberFactory(merchant=merchant, email=f"m{i}@example.com", email_consent=True, **fields) for i in range(n)]


def test_sending_reaches_each_consenting_member_once_with_their_own_numbers(merchant, make_campaign, actor, start):
    alice, *_ = opted_in(merchant, 3)
    Account.objects.create(merchant=merchant, member=alice, balance=120)
    MemberFactory(merchant=merchant, email="no@example.com", email_consent=False)
    campaign = start(make_campaign())
    assert len(mail.outbox) == 3  # the eager task sent them
    message = next(m for m in mail.outbox if m.to == [alice.email])
    assert message.subject == f"Hi {alice.first_name}"
    assert f"You have 120 points at {merchant.name}." in message.body
    assert "/u/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_running_the_send_twice_sends_nothing_more(merchant, make_campaign, actor, start):
    opted_in(merchant, 2)
    campaign = start(make_campaign())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    sending.campaign_send(campaign_id=campaign.pk)
    assert sending.audience_write(campaign=campaign) == 0  # the unique key: written once
    assert len(mail.outbox) == 2


def sending_started(merchant, make_campaign, n: int) -> Campaign:
    opted_in(merchant, n)
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING, started_at=timezone.now())
    sending.audience_write(campaign=campaign)
    return campaign


def lapsed() -> datetime:
    return timezone.now() - sending.claim_lease() - timedelta(seconds=1)


def test_a_message_a_dead_worker_was_sending_is_never_sent_again(merchant, make_campaign):
    """It may have gone out before the worker died: at most once, so it is shown failed, saying why."""
    campaign = sending_started(merchant, make_campaign, 1)
    Message.objects.filter(campaign=campaign).update(status=MessageStatus.SENDING, claimed_at=lapsed())
    sending.campaign_send(campaign_id=campaign.pk)
    assert mail.outbox == []
    message = Message.objects.get(campaign=campaign)
    assert (message.status, message.error) == (
        MessageStatus.FAILED,
        "Interrupted while being sent: it may not have arrived.",
    )


def test_messages_a_dead_worker_claimed_but_did_not_send_go_out_once_its_claim_lapses(merchant, make_campaign):
    campaign = sending_started(merchant, make_campaign, 3)
    Message.objects.filter(campaign=campaign).update(claimed_at=lapsed())
    sending.campaign_send(campaign_id=campaign.pk)
    assert sorted(m.to[0] for m in mail.outbox) == ["m0@example.com", "m1@example.com", "m2@example.com"]
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 3


def test_messages_claimed_by_a_live_worker_are_left_to_it_and_the_campaign_waits(merchant, make_campaign):
    campaign = sending_started(merchant, make_campaign, 2)
    claimed = timezone.now()
    Message.objects.filter(campaign=campaign).update(claimed_at=claimed)
    come_back = sending.campaign_send(campaign_id=campaign.pk)
    assert mail.outbox == []
    assert come_back == claimed + sending.claim_lease()
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING


def test_a_run_that_lost_its_claim_does_not_send_the_message(merchant, make_campaign, monkeypatch):
    """Another run took the lapsed claim over while this one was slow: only the other one sends."""
    campaign = sending_started(merchant, make_campaign, 1)
    real_offer_before = sending._offer_before

    def slow_offer_before(campaign, message) -> None:
        real_offer_before(campaign, message)
        Message.objects.filter(pk=message.pk).update(claimed_at=timezone.now() + timedelta(seconds=5))

    monkeypatch.setattr(sending, "_offer_before", slow_offer_before)  # the other run's claim, mid-batch
    sending.send_batch(campaign=campaign)
    assert mail.outbox == []
    assert Message.objects.get(campaign=campaign).status == MessageStatus.PENDING


def test_a_sending_campaign_no_worker_touched_within_the_lease_is_stalled(merchant, make_campaign):
    campaign = sending_started(merchant, make_campaign, 2)
    Campaign.objects.filter(pk=campaign.pk).update(started_at=lapsed())
    assert sending.campaigns_stalled() == [campaign.pk]
    Message.objects.filter(campaign=campaign).update(claimed_at=timezone.now())
    assert sending.campaigns_stalled() == []


def test_the_holdout_gets_nothing_and_is_the_same_members_every_time(merchant, make_campaign, actor, start):
    opted_in(merchant, 40)
    campaign = make_campaign(holdout_percent=25)
    start(campaign)
    held = set(
        Message.objects.filter(campaign=campaign, status=MessageStatus.HELD_OUT).values_list("member_id", flat=True)
    )
    assert 0 < len(held) < 40
    assert len(mail.outbox) == 40 - len(held)
    assert held == {pk for pk in held if sending.held_out(campaign.pk, pk, 25)}


def test_a_member_messaged_lately_is_left_out(merchant, make_campaign, actor, start):
    (member,) = opted_in(merchant, 1)
    start(make_campaign(name="First"))
    start(make_campaign(name="Second"))
    assert len(mail.outbox) == 1  # the cap: one marketing message in 3 days
    Message.objects.filter(member=member).update(sent_at=timezone.now() - timedelta(days=4))
    start(make_campaign(name="Third"))
    assert len(mail.outbox) == 2


def test_sms_goes_to_members_who_agreed_to_texts(merchant, make_campaign, start):
    MemberFactory(merchant=merchant, phone="+60123456789", sms_consent=True)
    MemberFactory(merchant=merchant, phone="+60123456780", sms_consent=False)
    start(make_campaign(channel=Channel.SMS, subject="", body="Hi {first_name}!"))
    assert [m["to"] for m in MemoryBackend.outbox] == ["+60123456789"]
    assert "Stop offers:" in MemoryBackend.outbox[0]["body"]


def test_a_failed_message_is_retried_then_shown(merchant, make_campaign, actor, monkeypatch):
    def provider_down(self, fail_silently=False):
        raise ConnectionError("the provider is down")

    monkeypatch.setattr(EmailMessage, "send", provider_down)  # an outage we cannot cause for real
    opted_in(merchant, 1)
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    sending.audience_write(campaign=campaign)
    later = timezone.now()
    for _attempt in range(sending.MAX_ATTEMPTS):
        later += timedelta(hours=1)
        retry = sending.campaign_send(campaign_id=campaign.pk, now=later)
    message = Message.objects.get(campaign=campaign)
    assert (message.status, message.attempts, message.error) == (MessageStatus.FAILED, 3, "the provider is down")
    assert retry is None


def test_a_campaign_with_a_time_waits_for_it(merchant, make_campaign, actor, start):
    opted_in(merchant, 1)
    campaign = start(make_campaign(send_at=timezone.now() + timedelta(hours=2)))
    assert campaign.status == CampaignStatus.SCHEDULED
    assert mail.outbox == []
    assert services.campaigns_due(now=timezone.now() + timedelta(hours=3)) == [campaign.pk]


def test_cancelling_stops_what_was_not_sent(merchant, make_campaign, actor):
    opted_in(merchant, 2)
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    sending.audience_write(campaign=campaign)
    services.campaign_cancel(campaign=campaign, actor=actor)
    sending.campaign_send(campaign_id=campaign.pk)
    assert mail.outbox == []


class TestPages:
    def test_an_unknown_placeholder_is_refused_in_plain_words(self, merchant, everyone, manager_client):
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {
                "name": "X",
                "segment": everyone.pk,
                "channel": "email",
                "subject": "Hi",
                "body": "Hi {frist_name}",
                "holdout_percent": 10,
                "bonus_points": 0,
            },
        )
        assert "{frist_name} is not something we can fill in." in response.content.decode()
        assert not Campaign.objects.exists()

    def test_the_page_previews_the_message_and_sends_it(
        self, merchant, everyone, manager_client, django_capture_on_commit_callbacks
    ):
        opted_in(merchant, 1, first_name="Aminah")
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {
                "name": "Hello",
                "segment": everyone.pk,
                "channel": "email",
                "subject": "Hi",
                "body": "Dear {first_name}",
                "holdout_percent": 0,
                "bonus_points": 0,
            },
        )
        campaign = Campaign.objects.get(merchant=merchant)
        assert response.url == reverse("campaigns:campaign", args=[campaign.pk])
        assert "Dear Aminah" in manager_client.get(response.url).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            manager_client.post(reverse("campaigns:campaign_start", args=[campaign.pk]))
        assert len(mail.outbox) == 1

    def test_another_shops_segment_cannot_be_picked(self, merchant, other_merchant, manager_client):
        theirs = Segment.objects.create(merchant=other_merchant, name="Theirs")
        response = manager_client.post(
            reverse("campaigns:campaign_create"),
            {
                "name": "X",
                "segment": theirs.pk,
                "channel": "email",
                "subject": "Hi",
                "body": "Hi",
                "holdout_percent": 10,
                "bonus_points": 0,
            },
        )
        assert response.status_code == 200
        assert not Campaign.objects.exists()

    def test_another_shops_campaign_is_a_404(self, merchant, other_merchant, manager_client, owner):
        segment = Segment.objects.create(merchant=other_merchant, name="Theirs")
        theirs = Campaign.objects.create(merchant=other_merchant, name="T", segment=segment, body="x")
        for name in ("campaign", "campaign_edit"):
            assert manager_client.get(reverse(f"campaigns:{name}", args=[theirs.pk])).status_code == 404
        for name in ("campaign_start", "campaign_cancel"):
            assert manager_client.post(reverse(f"campaigns:{name}", args=[theirs.pk])).status_code == 404

    def test_cashiers_may_not_open_campaigns(self, merchant, cashier_client):
        assert cashier_client.get(reverse("campaigns:campaigns")).status_code == 403


def test_the_bonus_offer_goes_to_each_member_who_got_it_once(merchant, make_campaign, start, program):
    members = opted_in(merchant, 20)
    campaign = start(make_campaign(offer="bonus", bonus_points=50, holdout_percent=20, body="Here are {bonus} points"))
    got = set(Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).values_list("member_id", flat=True))
    for member in members:
        account = Account.objects.filter(member=member).first()
        assert (account.balance if account else 0) == (50 if member.pk in got else 0)
    assert "Here are 50 points" in mail.outbox[0].body
    sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT)
    sent.update(status=MessageStatus.PENDING)  # as if a second worker sent them again
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    sending.campaign_send(campaign_id=campaign.pk)
    assert sum(Account.objects.filter(merchant=merchant).values_list("balance", flat=True)) == 50 * len(got)


def test_the_holdout_draw_is_unbiased_and_independent():
    """10% held out, whatever the member ids look like, and a different 10% for each campaign."""
    ids = range(1, 20_001)
    share = sum(sending.held_out(7, pk, 10) for pk in ids) / len(ids)
    assert 0.09 < share < 0.11
    even = sum(sending.held_out(7, pk, 10) for pk in ids if pk % 2 == 0) / 10_000
    odd = sum(sending.held_out(7, pk, 10) for pk in ids if pk % 2) / 10_000
    assert abs(even - odd) < 0.015  # no pattern in the ids leaks into the draw
    both = sum(sending.held_out(7, pk, 10) and sending.held_out(8, pk, 10) for pk in ids) / len(ids)
    assert 0.005 < both < 0.015  # about 10% of 10%: campaign 8's holdout is not campaign 7's
    assert [sending.held_out(7, pk, 10) for pk in ids] == [sending.held_out(7, pk, 10) for pk in ids]
