"""Segments: each rule picks the right members, the form's live count, the pages, ready-made RFM segments."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Segment
from campaigns.segments import segment_count, segment_members
from members.models import MemberTag, Tag
from merchants.models import AuditLog
from rewards.models import Account, Purchase
from tests.factories import LocationFactory, MemberFactory, TierFactory


@pytest.fixture
def shop(merchant, program):
    return merchant


def _account(member, **fields):
    Account.objects.filter(member=member).update(**fields) or Account.objects.create(
        merchant=member.merchant, member=member, **fields
    )
    return member


def picked(merchant, **rules) -> set:
    return set(segment_members(merchant=merchant, rules=rules).values_list("pk", flat=True))


class TestRules:
    def test_no_rule_picks_every_member_but_erased_ones(self, shop):
        kept = MemberFactory(merchant=shop)
        MemberFactory(merchant=shop, erased_at=timezone.now())
        assert picked(shop) == {kept.pk}

    def test_points_balance_range(self, shop):
        _low, mid, _high = (_account(MemberFactory(merchant=shop), balance=b) for b in (5, 50, 500))
        assert picked(shop, balance_min=10, balance_max=100) == {mid.pk}

    def test_last_purchase_more_or_less_than_days_ago(self, shop):
        now = timezone.now()
        recent = _account(MemberFactory(merchant=shop), last_purchase_at=now - timedelta(days=5))
        old = _account(MemberFactory(merchant=shop), last_purchase_at=now - timedelta(days=100))
        never = MemberFactory(merchant=shop, joined_at=now - timedelta(days=200))
        MemberFactory(merchant=shop, joined_at=now - timedelta(days=2))  # never bought, but only just joined
        assert picked(shop, bought_within_days=30) == {recent.pk}
        assert picked(shop, not_bought_days=60) == {old.pk, never.pk}

    def test_visits_and_spend_count_what_an_import_brought(self, shop):
        imported = _account(
            MemberFactory(merchant=shop), purchase_count=1, opening_visits=9, opening_spend=Decimal(300)
        )
        _account(MemberFactory(merchant=shop), purchase_count=2, lifetime_spend=Decimal(20))
        assert picked(shop, visits_min=10) == {imported.pk}
        assert picked(shop, spend_min="250") == {imported.pk}

    def test_tier_birthday_location_consent_and_tags(self, shop):
        gold = TierFactory(merchant=shop, name="Gold", threshold=100)
        there = LocationFactory(merchant=shop, name="There")
        vip = Tag.objects.create(merchant=shop, name="vip")
        member = MemberFactory(merchant=shop, birthday=date(1990, 3, 14), location=there, sms_consent=True)
        _account(member, tier=gold)
        MemberTag.objects.create(merchant=shop, member=member, tag=vip)
        MemberFactory(merchant=shop)
        for rules in (
            {"tiers": [gold.pk]},
            {"birthday_month": "3"},
            {"locations": [there.pk]},
            {"sms_consent": "yes"},
            {"tags": [vip.pk]},
        ):
            assert picked(shop, **rules) == {member.pk}, rules

    def test_joined_dates_follow_the_shops_days(self, shop):
        day = timezone.localdate(timezone=shop.tzinfo) - timedelta(days=10)
        late = MemberFactory(merchant=shop, joined_at=datetime.combine(day, time(23, 30), shop.tzinfo))
        MemberFactory(merchant=shop, joined_at=datetime.combine(day + timedelta(days=1), time(0, 30), shop.tzinfo))
        assert picked(shop, joined_from=day.isoformat(), joined_to=day.isoformat()) == {late.pk}

    def test_another_shops_members_are_never_picked(self, shop, other_merchant):
        MemberFactory(merchant=other_merchant)
        assert segment_count(merchant=shop, rules={}) == 0


class TestPages:
    def test_saving_a_segment_keeps_its_rules(self, shop, manager_client):
        response = manager_client.post(
            reverse("campaigns:segment_create"), {"name": "Big spenders", "spend_min": "100", "email_consent": "yes"}
        )
        assert response.status_code == 302
        segment = Segment.objects.get(merchant=shop)
        assert segment.rules == {"spend_min": "100", "email_consent": "yes"}
        assert AuditLog.objects.filter(merchant=shop, action="segment.save").exists()

    def test_the_live_count_follows_the_form(self, shop, manager_client):
        _account(MemberFactory(merchant=shop), balance=80)
        MemberFactory(merchant=shop)
        response = manager_client.get(reverse("campaigns:segment_count"), {"balance_min": "50"})
        assert b"1 member matches" in response.content
        response = manager_client.get(reverse("campaigns:segment_count"), {})
        assert b"2 members match" in response.content

    def test_a_range_the_wrong_way_round_is_refused_in_plain_words(self, shop, manager_client):
        response = manager_client.post(
            reverse("campaigns:segment_create"), {"name": "Odd", "visits_min": "10", "visits_max": "2"}
        )
        assert response.status_code == 200
        assert "The most visits is below the fewest." in response.content.decode()
        assert not Segment.objects.exists()

    def test_names_are_unique_per_shop(self, shop, manager_client):
        Segment.objects.create(merchant=shop, name="VIP")
        response = manager_client.post(reverse("campaigns:segment_create"), {"name": "vip"})
        assert "You already have a segment with this name." in response.content.decode()

    def test_a_ready_made_segment_opens_for_editing_once(self, shop, manager_client):
        first = manager_client.post(reverse("campaigns:segment_preset"), {"preset": "at_risk"})
        again = manager_client.post(reverse("campaigns:segment_preset"), {"preset": "at_risk"})
        segment = Segment.objects.get(merchant=shop)
        assert first.url == again.url == reverse("campaigns:segment_edit", args=[segment.pk])
        assert segment.rules == {"not_bought_days": 60, "bought_within_days": 120, "visits_min": 3}

    def test_an_unknown_preset_is_a_404(self, shop, manager_client):
        assert manager_client.post(reverse("campaigns:segment_preset"), {"preset": "nope"}).status_code == 404

    def test_another_shops_segment_is_a_404(self, shop, other_merchant, manager_client):
        theirs = Segment.objects.create(merchant=other_merchant, name="Theirs")
        assert manager_client.get(reverse("campaigns:segment_edit", args=[theirs.pk])).status_code == 404
        assert manager_client.post(reverse("campaigns:segment_delete", args=[theirs.pk])).status_code == 404
        assert Segment.objects.filter(pk=theirs.pk).exists()

    def test_cashiers_may_not_open_segments(self, shop, cashier_client):
        assert cashier_client.get(reverse("campaigns:segments")).status_code == 403

    def test_the_list_shows_each_segments_size(self, shop, manager_client):
        Segment.objects.create(merchant=shop, name="Everyone")
        MemberFactory.create_batch(3, merchant=shop)
        assert "3 members" in manager_client.get(reverse("campaigns:segments")).content.decode()


def test_purchases_make_members_leave_the_lapsed_segment(shop, member, buy):
    _account(member, purchase_count=3, last_purchase_at=timezone.now() - timedelta(days=200))
    assert member.pk in picked(shop, not_bought_days=120, visits_min=1)
    buy("10")
    assert member.pk not in picked(shop, not_bought_days=120, visits_min=1)
    assert Purchase.objects.filter(account__member=member).exists()


def test_the_edit_page_shows_the_saved_choices(shop, manager_client):
    segment = Segment.objects.create(
        merchant=shop, name="Quiet ones", rules={"not_bought_days": 45, "sms_consent": "yes"}
    )
    page = manager_client.get(reverse("campaigns:segment_edit", args=[segment.pk])).content.decode()
    assert 'value="Quiet ones"' in page
    assert 'value="45"' in page
