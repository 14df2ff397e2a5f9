"""seed_demo's generated history: the ledger's invariants on every account, and no duplicates."""

from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import connection

from members.models import Member
from merchants.models import AuditLog, Merchant
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Program, Purchase, Redemption, Refund, TierChange, TierFee

pytestmark = pytest.mark.django_db

MEMBERS, MONTHS = 300, 6


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--members", str(MEMBERS), "--months", str(MONTHS), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def shop() -> Merchant:
    _seed()
    return Merchant.objects.get(slug="bubbles-laundromat")


# One row of violation counts over every account of the shop: a failure says which rule broke.
ACCOUNT_INVARIANTS = """
WITH e AS (
    SELECT account_id, kind, points, balance_after, expires_at,
           SUM(points) OVER (PARTITION BY account_id ORDER BY created_at, id ROWS UNBOUNDED PRECEDING) AS running
    FROM rewards_pointsentry WHERE merchant_id = %(shop)s
), per_account AS (
    SELECT account_id,
           SUM(points) AS total,
           SUM(CASE WHEN points > 0 AND kind IN ('earn', 'bonus', 'import') THEN points ELSE 0 END) AS earned,
           SUM(CASE WHEN running <> balance_after OR balance_after < 0 THEN 1 ELSE 0 END) AS broken_links,
           -- what the expiry rule says is overdue: credits due by the last run, less every debit
           SUM(CASE WHEN points < 0 OR expires_at <= %(expired_through)s THEN points ELSE 0 END) AS overdue
    FROM e GROUP BY account_id
), purchases AS (
    SELECT account_id, COUNT(*) AS n, SUM(amount - refunded_amount) AS spend
    FROM rewards_purchase WHERE merchant_id = %(shop)s GROUP BY account_id
)
SELECT
    COUNT(*) AS accounts,
    SUM(CASE WHEN a.balance <> COALESCE(p.total, 0) THEN 1 ELSE 0 END) AS balance_not_sum,
    SUM(CASE WHEN a.balance < 0 OR COALESCE(p.broken_links, 0) > 0 THEN 1 ELSE 0 END) AS chain_broken,
    SUM(CASE WHEN a.lifetime_earned <> COALESCE(p.earned, 0) THEN 1 ELSE 0 END) AS lifetime_earned_wrong,
    SUM(CASE WHEN a.purchase_count <> COALESCE(b.n, 0) THEN 1 ELSE 0 END) AS purchase_count_wrong,
    SUM(CASE WHEN ABS(a.lifetime_spend - COALESCE(b.spend, 0)) > 0.001 THEN 1 ELSE 0 END) AS lifetime_spend_wrong,
    SUM(CASE WHEN COALESCE(p.overdue, 0) > 0 THEN 1 ELSE 0 END) AS points_overdue
FROM rewards_account a
LEFT JOIN per_account p ON p.account_id = a.id
LEFT JOIN purchases b ON b.account_id = a.id
WHERE a.merchant_id = %(shop)s
"""

PURCHASE_INVARIANTS = """
SELECT
    SUM(CASE WHEN COALESCE(e.points, 0) <> p.points THEN 1 ELSE 0 END) AS earn_entry_differs,
    SUM(CASE WHEN COALESCE(-r.taken, 0) <> COALESCE(x.reversed, 0) THEN 1 ELSE 0 END) AS reversal_differs,
    SUM(CASE WHEN p.points_reversed <> COALESCE(r.due, 0) OR p.points_reversed > p.points THEN 1 ELSE 0 END)
        AS reversed_wrong,
    SUM(CASE WHEN ABS(p.refunded_amount - COALESCE(r.amount, 0)) > 0.001 THEN 1 ELSE 0 END) AS refunded_wrong
FROM rewards_purchase p
LEFT JOIN rewards_pointsentry e ON e.purchase_id = p.id AND e.kind = 'earn'
LEFT JOIN (SELECT purchase_id, SUM(points) AS reversed FROM rewards_pointsentry WHERE kind = 'reversal'
           GROUP BY purchase_id) x ON x.purchase_id = p.id
LEFT JOIN (SELECT purchase_id, SUM(points) AS taken, SUM(points + shortfall) AS due, SUM(amount) AS amount
           FROM rewards_refund GROUP BY purchase_id) r ON r.purchase_id = p.id
WHERE p.merchant_id = %(shop)s
"""


def _violations(sql: str, shop: Merchant) -> dict[str, int]:
    program = Program.objects.get(merchant=shop)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"shop": shop.pk, "expired_through": program.expired_through})
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_every_account_keeps_the_ledger_invariants(shop):
    assert _violations(ACCOUNT_INVARIANTS, shop) == {
        "accounts": MEMBERS,
        "balance_not_sum": 0,
        "chain_broken": 0,
        "lifetime_earned_wrong": 0,
        "purchase_count_wrong": 0,
        "lifetime_spend_wrong": 0,
        "points_overdue": 0,
    }


def test_each_purchase_earned_its_entry_and_refunds_took_back_at_most_that(shop):
    assert _violations(PURCHASE_INVARIANTS, shop) == {
        "earn_entry_differs": 0,
        "reversal_differs": 0,
        "reversed_wrong": 0,
        "refunded_wrong": 0,
    }


def test_the_expiry_job_finds_nothing_left_to_expire(shop):
    program = Program.objects.get(merchant=shop)
    through = program.expired_through
    # Forget how far expiry ran, so the job looks at every account's history up to that point again.
    Program.objects.filter(pk=program.pk).update(expired_through=None)

    assert ledger.points_expire(merchant=shop, now=through) == 0


def test_tiers_are_what_the_nightly_review_leaves_them(shop):
    _assert_review_changes_nothing(shop)


def test_tiers_stay_consistent_over_two_years():
    """Past 12 months tiers come up for review and paid memberships lapse: the generator replays both."""
    call_command("seed_demo", "--members", "200", "--months", "24", stdout=StringIO())
    shop = Merchant.objects.get(slug="bubbles-laundromat")
    reasons = set(TierChange.objects.filter(merchant=shop).values_list("reason", flat=True))

    assert reasons == {"earned", "review", "paid", "lapsed"}
    _assert_review_changes_nothing(shop)


def _assert_review_changes_nothing(shop: Merchant) -> None:
    program = Program.objects.get(merchant=shop)
    fields = ["pk", "qualifying_total", "tier", "tier_until", "paid_tier", "paid_until"]
    before = list(Account.objects.filter(merchant=shop).order_by("pk").values_list(*fields))
    changes = TierChange.objects.count()

    outcome = ledger.tier_review(merchant=shop, today=program.last_expiry_run)

    assert outcome == {"promoted": 0, "demoted": 0, "kept": 0, "lapsed": 0}
    assert list(Account.objects.filter(merchant=shop).order_by("pk").values_list(*fields)) == before
    assert TierChange.objects.count() == changes


def test_the_history_has_every_kind_of_event(shop):
    entries = PointsEntry.objects.filter(merchant=shop)
    made = {
        "purchases": Purchase.objects.filter(merchant=shop).count(),
        "redemptions": Redemption.objects.filter(merchant=shop).count(),
        "refunds": Refund.objects.filter(merchant=shop).count(),
        "expiries": entries.filter(kind=Kind.EXPIRE).count(),
        "referrals": Member.objects.filter(merchant=shop, referred_by__isnull=False).count(),
        "referral bonuses": entries.filter(idempotency_key__startswith="referral:").count(),
        "birthday bonuses": entries.filter(idempotency_key__startswith="birthday:").count(),
        "adjustments": entries.filter(kind=Kind.ADJUST).count(),
        "adjustments audited": AuditLog.objects.filter(merchant=shop, action="points.adjust").count(),
        "club fees": TierFee.objects.filter(merchant=shop).count(),
        "promotions": TierChange.objects.filter(merchant=shop, reason="earned").count(),
    }
    assert all(made.values()), made
    assert made["adjustments audited"] == made["adjustments"]
    assert made["referral bonuses"] == 2 * made["referrals"]  # both sides, at the first purchase


def test_members_have_valid_malaysian_mobile_numbers(shop):
    phones = list(Member.objects.filter(merchant=shop).values_list("phone", flat=True))

    invalid = [p for p in phones if not phonenumbers.is_valid_number(phonenumbers.parse(p))]

    assert invalid == []
    assert {phonenumbers.region_code_for_number(phonenumbers.parse(p)) for p in phones} == {"MY"}
    assert all(p.startswith("+601") for p in phones)


def test_some_customers_lapsed(shop):
    program = Program.objects.get(merchant=shop)
    months_ago = ledger.local_midnight(shop, ledger.add_months(program.last_expiry_run, -2))

    lapsed = Account.objects.filter(merchant=shop, last_purchase_at__lt=months_ago).count()

    assert MEMBERS * 0.1 < lapsed < MEMBERS * 0.6


def test_a_second_run_adds_nothing(shop):
    counts = [m.objects.count() for m in (Member, Account, Purchase, PointsEntry, Redemption, Refund, AuditLog)]

    out = _seed()

    assert [m.objects.count() for m in (Member, Account, Purchase, PointsEntry, Redemption, Refund, AuditLog)] == counts
    assert f"already has {MEMBERS} members" in out


def test_reset_with_the_same_seed_makes_the_same_members_again(shop):
    people = sorted(Member.objects.values_list("first_name", "last_name", "phone", "email", "birthday"))
    spend = sorted(Purchase.objects.values_list("amount", flat=True))

    _seed("--reset")

    assert Member.objects.count() == MEMBERS
    assert sorted(Member.objects.values_list("first_name", "last_name", "phone", "email", "birthday")) == people
    assert sorted(Purchase.objects.values_list("amount", flat=True)) == spend
    assert _violations(ACCOUNT_INVARIANTS, shop)["balance_not_sum"] == 0


def test_another_seed_makes_other_members():
    _seed("--seed", "1")
    phones = set(Member.objects.values_list("phone", flat=True))

    _seed("--seed", "2", "--reset")

    assert set(Member.objects.values_list("phone", flat=True)) != phones
