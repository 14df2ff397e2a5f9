"""Retention: the nightly job erases exactly the members idle for the shop's chosen years, in
batches, once; the settings page previews how many that is; erasure keeps every amount."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from members.models import Member
from members.services import member_erase
from merchants.actors import Actor
from merchants.periods import Window
from rewards import ledger, privacy, tasks
from rewards.kpis import cards
from rewards.kpis.rollups import rollups_rebuild
from rewards.models import Account, PointsEntry, Redemption
from tests.factories import MemberFactory, RewardFactory

from .conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db

NOW = timezone.now()
YEARS_AGO = {n: NOW - timedelta(days=365 * n + 2) for n in range(1, 5)}


@pytest.fixture
def shop(merchant, program):
    merchant.erase_inactive_years = 2
    merchant.save()
    return merchant


def member_at(merchant, *, joined, active=None) -> Member:
    """A member who joined then, and whose account was last active then (None: never)."""
    member = MemberFactory(merchant=merchant, joined_at=joined)
    Account.objects.create(merchant=merchant, member=member, last_activity_at=active, created_at=joined)
    return member


def test_the_job_erases_exactly_the_members_idle_for_the_period(shop):
    idle = member_at(shop, joined=YEARS_AGO[4], active=YEARS_AGO[3])
    never_came_back = member_at(shop, joined=YEARS_AGO[3])
    bought_last_year = member_at(shop, joined=YEARS_AGO[4], active=YEARS_AGO[1])
    joined_last_year = member_at(shop, joined=YEARS_AGO[1])
    no_account = MemberFactory(merchant=shop, joined_at=YEARS_AGO[3])

    assert privacy.inactive_members_erase(merchant_id=shop.pk, now=NOW) == 3

    erased = set(Member.objects.filter(erased_at__isnull=False).values_list("pk", flat=True))
    assert erased == {idle.pk, never_came_back.pk, no_account.pk}
    assert bought_last_year.pk not in erased
    assert joined_last_year.pk not in erased


def test_running_the_job_twice_erases_once(shop):
    member_at(shop, joined=YEARS_AGO[4], active=YEARS_AGO[3])
    privacy.inactive_members_erase(merchant_id=shop.pk, now=NOW)
    erased_at = Member.objects.get().erased_at

    assert privacy.inactive_members_erase(merchant_id=shop.pk, now=NOW) == 0
    assert Member.objects.get().erased_at == erased_at


def test_the_job_works_through_several_batches(shop, monkeypatch):
    monkeypatch.setattr(privacy, "ERASE_BATCH", 2)
    for _ in range(5):
        member_at(shop, joined=YEARS_AGO[3])

    assert privacy.inactive_members_erase(merchant_id=shop.pk, now=NOW) == 5
    assert not Member.objects.filter(erased_at__isnull=True).exists()


def test_a_shop_without_retention_erases_nobody(merchant, program):
    member_at(merchant, joined=YEARS_AGO[4])

    assert privacy.inactive_members_erase(merchant_id=merchant.pk, now=NOW) == 0
    assert Member.objects.get().erased_at is None


def test_another_shops_idle_members_are_left_alone(shop, other_merchant):
    theirs = member_at(other_merchant, joined=YEARS_AGO[4])

    privacy.inactive_members_erase(merchant_id=shop.pk, now=NOW)

    theirs.refresh_from_db()
    assert theirs.erased_at is None


def test_the_daily_task_runs_only_for_shops_with_retention(shop, other_merchant):
    mine, theirs = member_at(shop, joined=YEARS_AGO[4]), member_at(other_merchant, joined=YEARS_AGO[4])

    assert tasks.retention_dispatch_task.delay().get() == 1

    assert Member.objects.get(pk=mine.pk).erased_at is not None
    assert Member.objects.get(pk=theirs.pk).erased_at is None


def test_the_task_is_on_the_daily_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]

    assert entry["task"] == tasks.retention_dispatch_task.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {47})


# ---------------------------------------------------------------------------------------------
# The settings page's preview


def preview(client, years: str):
    return client.get(reverse("rewards:retention_preview"), {"erase_inactive_years": years})


def test_the_preview_counts_the_members_the_job_would_erase(owner_client, shop):
    member_at(shop, joined=YEARS_AGO[4], active=YEARS_AGO[3])
    member_at(shop, joined=YEARS_AGO[4], active=YEARS_AGO[1])

    assert "1 member has been inactive that long" in preview(owner_client, "2").content.decode()
    assert "2 members have been inactive that long" in preview(owner_client, "1").content.decode()
    assert "No member has been inactive that long" in preview(owner_client, "4").content.decode()


def test_the_preview_of_a_bad_number_says_what_to_give(owner_client, shop):
    assert "from 1 to 50" in preview(owner_client, "0").content.decode()


def test_the_settings_page_loads_the_preview(owner_client, shop):
    page = owner_client.get(reverse("merchants:settings")).content.decode()

    assert reverse("rewards:retention_preview") in page


def test_managers_cannot_see_the_preview(manager_client, shop):
    assert preview(manager_client, "2").status_code == 403


# ---------------------------------------------------------------------------------------------
# Amounts survive erasure (PostgreSQL: the reference database for the ledger's invariants)


@pytest.mark.postgres
def test_erasure_keeps_every_balance_equal_to_its_ledger_and_the_dashboard_unchanged(merchant, program, owner):
    boss = Actor.for_staff(owner, location=merchant.locations.first())
    reward = RewardFactory(merchant=merchant, points_cost=20)
    members = [MemberFactory(merchant=merchant) for _ in range(3)]
    for n, member in enumerate(members):
        ledger.purchase_record(member=member, amount=Decimal(50 + n), actor=boss)
        ledger.reward_redeem(member=member, reward=reward, actor=boss)
    today = ledger.local_today(merchant)
    window = Window(today - timedelta(days=29), today, None)

    def figures():
        rollups_rebuild(merchant=merchant)
        return (
            cards.activity_card(merchant=merchant, window=window),
            cards.liability_card(merchant=merchant, window=window),
            PointsEntry.objects.for_merchant(merchant).aggregate(s=Sum("points"))["s"],
            Redemption.objects.for_merchant(merchant).count(),
        )

    before = figures()

    member_erase(member=members[1], actor=boss)

    assert figures() == before
    for account in Account.objects.for_merchant(merchant):
        assert_ledger_consistent(account)
