"""A campaign's results against its holdout, on groups whose answers are known."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus, Segment
from campaigns.report import campaign_report
from rewards.models import Purchase
from tests.factories import MemberFactory


@pytest.fixture
def campaign(merchant):
    segment = Segment.objects.create(merchant=merchant, name="Everyone")
    return Campaign.objects.create(
        merchant=merchant, name="Back", segment=segment, body="Hi", status=CampaignStatus.SENT,
        started_at=timezone.now() - timedelta(days=20),
    )  # fmt: skip


def group(merchant, campaign, status, size: int, buyers: int, buy, amount="10") -> None:
    for i in range(size):
        member = MemberFactory(merchant=merchant)
        Message.objects.create(
            merchant=merchant, campaign=campaign, member=member, occurrence=campaign.started_at.date(), channel="email",
            status=status,
        )  # fmt: skip
        if i < buyers:
            purchase = buy(amount, member=member)
            Purchase.objects.filter(pk=purchase.pk).update(created_at=campaign.started_at + timedelta(days=3))


def test_conversion_lift_and_what_it_brought(merchant, program, campaign, buy):
    group(merchant, campaign, MessageStatus.SENT, 100, 30, buy)
    group(merchant, campaign, MessageStatus.HELD_OUT, 100, 10, buy)
    report = campaign_report(campaign=campaign)
    assert (report.sent.conversion, report.held_out.conversion) == (0.3, 0.1)
    assert report.lift == pytest.approx(0.2)
    low, high = report.lift_interval
    assert low == pytest.approx(0.2 - 1.96 * (0.3 * 0.7 / 100 + 0.1 * 0.9 / 100) ** 0.5)
    assert high == pytest.approx(0.2 + 1.96 * (0.3 * 0.7 / 100 + 0.1 * 0.9 / 100) ** 0.5)
    assert report.significant
    assert report.extra_visits == pytest.approx(20)  # 0.3 - 0.1 visits a member, 100 members
    assert report.extra_revenue == Decimal(200)
    assert report.complete


def test_purchases_after_the_window_do_not_count(merchant, program, campaign, buy):
    group(merchant, campaign, MessageStatus.SENT, 2, 0, buy)
    group(merchant, campaign, MessageStatus.HELD_OUT, 2, 0, buy)
    late = buy("10", member=Message.objects.filter(status=MessageStatus.SENT).first().member)
    Purchase.objects.filter(pk=late.pk).update(created_at=campaign.started_at + timedelta(days=15))
    assert campaign_report(campaign=campaign).sent.converted == 0


def test_a_small_difference_is_called_possible_chance(merchant, program, campaign, buy, manager_client):
    group(merchant, campaign, MessageStatus.SENT, 10, 3, buy)
    group(merchant, campaign, MessageStatus.HELD_OUT, 10, 2, buy)
    assert not campaign_report(campaign=campaign).significant
    page = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk])).content.decode()
    assert "could still be chance" in page
    assert "Of the members who got it, 30% bought within 14 days, against 20% of those held out." in page


def test_the_page_says_what_a_clear_win_brought(merchant, program, campaign, buy, manager_client):
    group(merchant, campaign, MessageStatus.SENT, 60, 30, buy, amount="20")
    group(merchant, campaign, MessageStatus.HELD_OUT, 60, 6, buy, amount="20")
    page = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk])).content.decode()
    assert "It brought back about 24 extra visits and RM480.00 extra revenue." in page


def test_no_holdout_means_no_measure(merchant, program, campaign, buy):
    group(merchant, campaign, MessageStatus.SENT, 5, 1, buy)
    report = campaign_report(campaign=campaign)
    assert not report.measurable
    assert report.lift is None


def test_the_dashboard_card_shows_campaigns_of_the_period(merchant, program, campaign, buy, manager_client):
    group(merchant, campaign, MessageStatus.SENT, 4, 2, buy)
    group(merchant, campaign, MessageStatus.HELD_OUT, 4, 1, buy)
    page = manager_client.get(reverse("campaigns:kpi_campaigns"), {"period": "30"}).content.decode()
    assert "Back" in page
    assert "50% bought, against 25% held out" in page


def test_the_dashboard_card_is_empty_without_campaigns(merchant, manager_client):
    assert manager_client.get(reverse("campaigns:kpi_campaigns")).content == b""


def test_the_report_counts_what_the_offer_cost(merchant, program, campaign, buy, manager_client):
    program.point_value = Decimal("0.05")
    program.save()
    group(merchant, campaign, MessageStatus.SENT, 60, 30, buy, amount="20")
    group(merchant, campaign, MessageStatus.HELD_OUT, 60, 6, buy, amount="20")
    Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).update(points=40)
    report = campaign_report(campaign=campaign)
    assert (report.points_given, report.cost) == (2400, Decimal("120.00"))
    page = manager_client.get(reverse("campaigns:campaign", args=[campaign.pk])).content.decode()
    assert "The points cost RM120.00." in page
