"""Rewards pages: program settings, tiers, catalog, a member's page and its actions, the shortfall report.

Each page opens for the right role only; every view that takes an id answers 404 for another shop's
object and changes nothing; each action writes what it says, once per form key, or shows why not.
"""

from decimal import Decimal

import pytest
from babel.dates import format_date
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.actors import Actor
from merchants.models import AuditLog, Role
from rewards import ledger
from rewards.models import (
    Account,
    Mode,
    PointsEntry,
    Program,
    Purchase,
    Redemption,
    Refund,
    Reward,
    RewardKind,
    Tier,
    TierFee,
    VoucherStatus,
)
from tests.factories import MemberFactory, MerchantFactory, RewardFactory, StaffFactory, TierFactory

pytestmark = pytest.mark.django_db

OWNERS_ONLY = "Only the shop&#x27;s owner can open this page."
OWNERS_AND_MANAGERS = "Only the shop&#x27;s owner and managers can open this page."


# ---------------------------------------------------------------------------------------------
# Fixtures: a shop with a points program, a member with points, and another shop's objects


@pytest.fixture
def shop_program(merchant) -> Program:
    return ledger.program_for(merchant)


@pytest.fixture
def boss(merchant) -> Actor:
    return Actor.for_staff(StaffFactory(merchant=merchant, role=Role.OWNER))


@pytest.fixture
def customer(merchant, shop_program):
    return MemberFactory(merchant=merchant, first_name="Aisyah", last_name="Rahman")


def credit(member, points: int, actor: Actor) -> None:
    ledger.points_adjust(
        member=member, points=points, reason="opening", actor=actor, idempotency_key=f"open-{member.pk}"
    )


@pytest.fixture
def rich_customer(customer, boss):
    """200 points."""
    credit(customer, 200, boss)
    return customer


@pytest.fixture
def mug(merchant) -> Reward:
    return RewardFactory(merchant=merchant, name="Mug", points_cost=100)


@pytest.fixture
def voucher(rich_customer, mug, boss) -> Redemption:
    return ledger.reward_redeem(member=rich_customer, reward=mug, actor=boss, idempotency_key="redeem-fixture")


@pytest.fixture
def purchase(customer, boss) -> Purchase:
    return ledger.purchase_record(member=customer, amount=Decimal(40), actor=boss, idempotency_key="buy-fixture")


@pytest.fixture
def foreign(other_merchant):
    """Another shop's member with points, a purchase, a voucher, a reward and a tier."""
    owner = Actor.for_staff(StaffFactory(merchant=other_merchant, role=Role.OWNER))
    member = MemberFactory(merchant=other_merchant, phone="+66812345678")
    reward = RewardFactory(merchant=other_merchant, points_cost=10)
    purchase = ledger.purchase_record(member=member, amount=Decimal(100), actor=owner, idempotency_key="f-buy")
    voucher = ledger.reward_redeem(member=member, reward=reward, actor=owner, idempotency_key="f-redeem")
    tier = TierFactory(merchant=other_merchant, name="Gold", is_paid=True, fee=Decimal(300))
    return {"member": member, "reward": reward, "purchase": purchase, "voucher": voucher, "tier": tier}


def snapshot() -> dict[str, object]:
    """What a refused or foreign request must leave as it was."""
    return {
        "purchases": Purchase.objects.count(),
        "entries": PointsEntry.objects.count(),
        "refunds": Refund.objects.count(),
        "redemptions": sorted(Redemption.objects.values_list("pk", "status")),
        "fees": TierFee.objects.count(),
        "balances": sorted(Account.objects.values_list("pk", "balance")),
        "audit": AuditLog.objects.count(),
        "tiers": sorted(Tier.objects.values_list("pk", "name", "threshold")),
        "rewards": sorted(Reward.objects.values_list("pk", "name", "points_cost", "stock")),
    }


def balance(member) -> int:
    return Account.objects.get(member=member).balance


def program_data(program: Program, **changes: object) -> dict[str, object]:
    """The program form as the page would post it, with some changes."""
    data = {
        "mode": program.mode,
        "points_per_unit": "1",
        "rounding": program.rounding,
        "min_purchase": "0",
        "max_purchase": "1000000",
        "point_value": "0.01",
        "stamps_per_card": "10",
        "one_stamp_per_day": "on",
        "stamp_reward": "",
        "expiry_mode": program.expiry_mode,
        "expiry_months": "12",
        "welcome_bonus": "0",
        "birthday_bonus": "0",
        "referral_bonus": "0",
        "daily_cap": "",
        "tier_basis": program.tier_basis,
        "tier_window_months": "12",
        "paid_tier_reminder_days": "7",
        "voucher_days": "30",
    }
    return data | changes


# ---------------------------------------------------------------------------------------------
# Who may open what


@pytest.mark.parametrize(
    ("url_name", "client_name"),
    [
        ("rewards:program", "owner_client"),
        ("rewards:tiers", "owner_client"),
        ("rewards:tier_create", "owner_client"),
        ("rewards:catalog", "manager_client"),
        ("rewards:reward_create", "manager_client"),
        ("rewards:shortfalls", "manager_client"),
    ],
)
def test_settings_pages_render_for_their_role(request, url_name, client_name, shop_program):
    response = request.getfixturevalue(client_name).get(reverse(url_name))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url_name", "client_name", "message"),
    [
        ("rewards:program", "manager_client", OWNERS_ONLY),
        ("rewards:tiers", "manager_client", OWNERS_ONLY),
        ("rewards:tier_create", "manager_client", OWNERS_ONLY),
        ("rewards:catalog", "cashier_client", OWNERS_AND_MANAGERS),
        ("rewards:reward_create", "cashier_client", OWNERS_AND_MANAGERS),
        ("rewards:shortfalls", "cashier_client", OWNERS_AND_MANAGERS),
    ],
)
def test_settings_pages_are_403_for_a_lower_role_with_a_reason(request, url_name, client_name, message):
    response = request.getfixturevalue(client_name).get(reverse(url_name))

    assert response.status_code == 403
    assert message in response.text


def test_member_page_renders_for_a_cashier_without_manager_actions(cashier_client, voucher, purchase):
    member = voucher.account.member

    response = cashier_client.get(reverse("rewards:member", args=[member.pk]))

    assert response.status_code == 200
    assert reverse("rewards:voucher_use", args=[member.pk, voucher.pk]) in response.text
    assert reverse("rewards:voucher_void", args=[member.pk, voucher.pk]) not in response.text
    assert reverse("rewards:adjust", args=[member.pk]) not in response.text
    assert reverse("rewards:refund", args=[member.pk, purchase.pk]) not in response.text


def test_member_page_shows_a_manager_void_adjust_and_refund(manager_client, voucher, purchase):
    member = voucher.account.member

    response = manager_client.get(reverse("rewards:member", args=[member.pk]))

    assert reverse("rewards:voucher_void", args=[member.pk, voucher.pk]) in response.text
    assert reverse("rewards:adjust", args=[member.pk]) in response.text
    assert reverse("rewards:refund", args=[member.pk, purchase.pk]) in response.text


@pytest.mark.parametrize("action", ["adjust", "void", "refund"])
def test_cashier_cannot_post_manager_actions(cashier_client, voucher, purchase, action):
    member = voucher.account.member
    url, data = {
        "adjust": (reverse("rewards:adjust", args=[member.pk]), {"key": "k", "points": "500", "reason": "gift"}),
        "void": (reverse("rewards:voucher_void", args=[member.pk, voucher.pk]), {"key": "k"}),
        "refund": (reverse("rewards:refund", args=[member.pk, purchase.pk]), {"key": "k", "amount": "40"}),
    }[action]
    before = snapshot()

    response = cashier_client.post(url, data)

    assert response.status_code == 403
    assert snapshot() == before


def test_manager_cannot_save_the_program(manager_client, shop_program):
    response = manager_client.post(reverse("rewards:program"), program_data(shop_program, welcome_bonus="999"))

    assert response.status_code == 403
    shop_program.refresh_from_db()
    assert shop_program.welcome_bonus == 0


# ---------------------------------------------------------------------------------------------
# Another shop's ids: 404 and nothing changes


def foreign_requests(f: dict, own_member, own_reward) -> list[tuple[str, str, dict]]:
    m, p, v, r, t = f["member"].pk, f["purchase"].pk, f["voucher"].pk, f["reward"].pk, f["tier"].pk
    return [
        ("get", reverse("rewards:member", args=[m]), {}),
        ("get", reverse("rewards:purchase_preview", args=[m]), {"amount": "10"}),
        ("post", reverse("rewards:purchase", args=[m]), {"key": "x1", "amount": "10"}),
        ("post", reverse("rewards:redeem", args=[m, r]), {"key": "x2"}),
        ("post", reverse("rewards:redeem", args=[own_member.pk, r]), {"key": "x3"}),
        ("post", reverse("rewards:redeem", args=[m, own_reward.pk]), {"key": "x4"}),
        ("post", reverse("rewards:voucher_use", args=[m, v]), {"key": "x5"}),
        ("post", reverse("rewards:voucher_use", args=[own_member.pk, v]), {"key": "x6"}),
        ("post", reverse("rewards:voucher_void", args=[own_member.pk, v]), {"key": "x7"}),
        ("post", reverse("rewards:tier_fee", args=[m]), {"key": "x8", "tier": str(t), "amount": "300"}),
        ("post", reverse("rewards:adjust", args=[m]), {"key": "x9", "points": "5", "reason": "x"}),
        ("get", reverse("rewards:refund", args=[m, p]), {}),
        ("post", reverse("rewards:refund", args=[m, p]), {"key": "x10", "amount": "100"}),
        ("post", reverse("rewards:refund", args=[own_member.pk, p]), {"key": "x11", "amount": "100"}),
        ("get", reverse("rewards:tier_edit", args=[t]), {}),
        ("post", reverse("rewards:tier_edit", args=[t]), {"name": "Taken", "threshold": "1", "multiplier": "1"}),
        ("get", reverse("rewards:reward_edit", args=[r]), {}),
        ("post", reverse("rewards:reward_edit", args=[r]), {"name": "Taken", "kind": "perk", "points_cost": "1"}),
    ]


def test_every_id_taking_view_is_404_for_another_shops_objects_and_changes_nothing(
    owner_client, foreign, customer, mug
):
    before = snapshot()
    for method, url, data in foreign_requests(foreign, customer, mug):
        response = getattr(owner_client, method)(url, data)
        assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Program settings, tiers, catalog


def test_program_save_changes_the_rules_and_writes_an_audit_entry(owner_client, shop_program, owner):
    response = owner_client.post(
        reverse("rewards:program"), program_data(shop_program, welcome_bonus="50", points_per_unit="1.5")
    )

    assert response.status_code == 302
    shop_program.refresh_from_db()
    assert (shop_program.welcome_bonus, shop_program.points_per_unit) == (50, Decimal("1.5"))
    entry = AuditLog.objects.get(action="program.update")
    assert entry.actor == owner.user
    assert entry.after == {"points_per_unit": "1.5", "welcome_bonus": 50}
    assert entry.before == {"points_per_unit": "1", "welcome_bonus": 0}


def test_program_saved_unchanged_writes_no_audit_entry(owner_client, shop_program):
    owner_client.post(reverse("rewards:program"), program_data(shop_program))

    assert not AuditLog.objects.filter(action="program.update").exists()


def test_program_refuses_to_switch_to_stamps_once_members_hold_points(owner_client, shop_program, rich_customer):
    before = snapshot()

    response = owner_client.post(reverse("rewards:program"), program_data(shop_program, mode=Mode.STAMPS))

    assert response.status_code == 200
    assert "can no longer switch between points and stamps" in response.context["form"].errors["mode"][0]
    shop_program.refresh_from_db()
    assert shop_program.mode == Mode.POINTS
    assert snapshot() == before


def test_program_switches_to_stamps_before_anyone_holds_points(owner_client, shop_program, mug):
    owner_client.post(
        reverse("rewards:program"), program_data(shop_program, mode=Mode.STAMPS, stamp_reward=str(mug.pk))
    )

    shop_program.refresh_from_db()
    assert (shop_program.mode, shop_program.stamp_reward) == (Mode.STAMPS, mug)


def test_program_refuses_another_shops_reward_for_the_full_card(owner_client, shop_program, foreign):
    response = owner_client.post(
        reverse("rewards:program"), program_data(shop_program, stamp_reward=str(foreign["reward"].pk))
    )

    assert "stamp_reward" in response.context["form"].errors
    shop_program.refresh_from_db()
    assert shop_program.stamp_reward is None


def test_program_refuses_more_decimals_than_the_currency_has(owner_client, shop_program):
    response = owner_client.post(reverse("rewards:program"), program_data(shop_program, min_purchase="5.555"))

    assert response.context["form"].errors["min_purchase"] == ["MYR amounts have at most 2 decimals."]
    assert not AuditLog.objects.exists()


def test_tier_create_saves_it_with_an_audit_entry(owner_client, merchant, shop_program):
    response = owner_client.post(
        reverse("rewards:tier_create"), {"name": "Gold", "threshold": "500", "multiplier": "1.5", "perks": "Free soap"}
    )

    assert response.status_code == 302
    tier = Tier.objects.get(merchant=merchant)
    assert (tier.name, tier.threshold, tier.multiplier, tier.is_paid) == ("Gold", Decimal(500), Decimal("1.5"), False)
    assert AuditLog.objects.get(action="tier.create").object_id == str(tier.pk)


def test_tier_edit_changes_it_with_an_audit_entry(owner_client, merchant, shop_program):
    tier = TierFactory(merchant=merchant, name="Gold", threshold=Decimal(500))

    owner_client.post(
        reverse("rewards:tier_edit", args=[tier.pk]), {"name": "Gold", "threshold": "800", "multiplier": "1.5"}
    )

    tier.refresh_from_db()
    assert tier.threshold == Decimal(800)
    assert AuditLog.objects.get(action="tier.update").after == {"threshold": "800"}


def test_tier_create_refuses_a_name_the_shop_already_has(owner_client, merchant, shop_program):
    TierFactory(merchant=merchant, name="Gold")

    response = owner_client.post(reverse("rewards:tier_create"), {"name": "gold", "threshold": "9", "multiplier": "2"})

    assert response.context["form"].errors["name"] == ["This shop already has a tier with that name."]
    assert Tier.objects.count() == 1


def test_paid_tier_needs_a_fee(owner_client, shop_program):
    response = owner_client.post(
        reverse("rewards:tier_create"), {"name": "VIP", "multiplier": "2", "is_paid": "on", "paid_months": "12"}
    )

    assert response.context["form"].errors["fee"] == ["A paid membership needs a fee above zero."]
    assert not Tier.objects.exists()


def test_reward_create_saves_it_with_an_audit_entry(manager_client, merchant, shop_program, manager):
    tier = TierFactory(merchant=merchant, name="Gold")

    response = manager_client.post(
        reverse("rewards:reward_create"),
        {
            "name": "RM5 off",
            "kind": RewardKind.AMOUNT_OFF,
            "value": "5",
            "points_cost": "250",
            "min_tier": str(tier.pk),
            "stock": "20",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    reward = Reward.objects.get(merchant=merchant)
    assert (reward.name, reward.value, reward.points_cost, reward.min_tier, reward.stock) == (
        "RM5 off",
        Decimal(5),
        250,
        tier,
        20,
    )
    assert AuditLog.objects.get(action="reward.create").actor == manager.user


def test_reward_create_refuses_a_percent_above_100(manager_client, shop_program):
    response = manager_client.post(
        reverse("rewards:reward_create"),
        {"name": "Half", "kind": RewardKind.PERCENT_OFF, "value": "150", "points_cost": "10"},
    )

    assert response.context["form"].errors["value"] == ["A percent off is between 1 and 100."]
    assert not Reward.objects.exists()


def test_reward_edit_changes_it(manager_client, mug, shop_program):
    manager_client.post(
        reverse("rewards:reward_edit", args=[mug.pk]), {"name": "Big mug", "kind": mug.kind, "points_cost": "120"}
    )

    mug.refresh_from_db()
    assert (mug.name, mug.points_cost, mug.is_active) == ("Big mug", 120, False)


# ---------------------------------------------------------------------------------------------
# The member page


def test_member_page_shows_balance_history_and_who_did_what(cashier_client, rich_customer, boss):
    response = cashier_client.get(reverse("rewards:member", args=[rich_customer.pk]))

    assert "200 points" in response.text
    assert "opening" in response.text  # the adjustment's reason
    assert str(boss.staff.user) in response.text


def test_member_page_shows_when_credits_expire_in_the_shops_time_zone(cashier_client, customer, boss, shop_program):
    shop_program.expiry_mode, shop_program.expiry_months = "after_earning", 6
    shop_program.save()
    credit(customer, 10, boss)
    entry = PointsEntry.objects.get(account__member=customer)

    response = cashier_client.get(reverse("rewards:member", args=[customer.pk]))

    local = timezone.localtime(entry.expires_at, customer.merchant.tzinfo)
    assert local.hour == 0  # midnight in Kuala Lumpur, not in UTC
    assert format_date(local, "medium", locale="en") in response.text


def test_member_page_in_a_stamp_shop_shows_circles_and_never_the_word_points(
    cashier_client, customer, boss, shop_program, merchant
):
    shop_program.mode, shop_program.stamps_per_card = Mode.STAMPS, 8
    shop_program.save()
    for n in range(3):
        ledger.purchase_record(member=customer, amount=Decimal(10), actor=boss, idempotency_key=f"s{n}")
    RewardFactory(merchant=merchant, name="Free coffee", points_cost=3)

    response = cashier_client.get(reverse("rewards:member", args=[customer.pk]))

    text = response.text
    assert text.count('class="stamp filled"') == 1  # one stamp a day
    assert text.count('class="stamp"') == 7
    assert "1 of 8 stamps" in text
    main = text[text.index("<main") : text.index("</main>")]
    assert "point" not in main.lower()


def test_member_page_shows_tier_and_progress_to_the_next(cashier_client, customer, boss, merchant):
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    TierFactory(merchant=merchant, name="Gold", threshold=Decimal(500))
    ledger.purchase_record(member=customer, amount=Decimal(150), actor=boss, idempotency_key="t1")

    response = cashier_client.get(reverse("rewards:member", args=[customer.pk]))

    progress = response.context["card"].progress
    assert (progress.current.name, progress.next.name, progress.needed, progress.percent) == (
        "Silver",
        "Gold",
        Decimal(350),
        30,
    )
    assert "Spend RM350.00 more to reach Gold." in response.text


def test_member_page_lists_only_rewards_they_can_have(cashier_client, rich_customer, merchant):
    gold = TierFactory(merchant=merchant, name="Gold", threshold=Decimal(1000))
    RewardFactory(merchant=merchant, name="Mug", points_cost=100)
    RewardFactory(merchant=merchant, name="Towel", points_cost=500)
    RewardFactory(merchant=merchant, name="Lounge", points_cost=10, min_tier=gold)
    RewardFactory(merchant=merchant, name="Sold out", points_cost=10, stock=0)

    response = cashier_client.get(reverse("rewards:member", args=[rich_customer.pk]))

    assert [r.name for r in response.context["card"].rewards] == ["Mug"]


def test_member_page_takes_a_bounded_number_of_queries(
    cashier_client, rich_customer, merchant, boss, django_assert_max_num_queries
):
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    TierFactory(merchant=merchant, name="VIP", is_paid=True, fee=Decimal(30))
    for n in range(4):
        reward = RewardFactory(merchant=merchant, points_cost=10)
        ledger.reward_redeem(member=rich_customer, reward=reward, actor=boss, idempotency_key=f"r{n}")
    for n in range(30):
        ledger.purchase_record(member=rich_customer, amount=Decimal(5), actor=boss, idempotency_key=f"p{n}")

    # However long the history: the page, the card, its vouchers, history, pending adjustments, consents.
    with django_assert_max_num_queries(16):
        response = cashier_client.get(reverse("rewards:member", args=[rich_customer.pk]))

    assert len(response.context["card"].vouchers) == 4
    assert len(response.context["history"].object_list) == 25


# ---------------------------------------------------------------------------------------------
# Recording a purchase


def test_purchase_preview_says_what_it_would_earn_and_writes_nothing(cashier_client, customer):
    before = snapshot()

    response = cashier_client.get(
        reverse("rewards:purchase_preview", args=[customer.pk]), {"amount": "25.90"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<p id="purchase-preview"')
    assert "Earns 25 points" in response.text
    assert snapshot() == before


def test_purchase_preview_explains_a_bad_amount(cashier_client, customer):
    response = cashier_client.get(reverse("rewards:purchase_preview", args=[customer.pk]), {"amount": "12.345"})

    assert "MYR amounts have at most 2 decimals." in response.text


def test_purchase_preview_in_a_stamp_shop_counts_stamps(cashier_client, customer, shop_program):
    shop_program.mode = Mode.STAMPS
    shop_program.save()

    response = cashier_client.get(reverse("rewards:purchase_preview", args=[customer.pk]), {"amount": "80"})

    assert "Earns 1 stamp" in response.text


def test_record_purchase_credits_points_and_goes_back_to_the_member(cashier_client, customer, cashier, merchant):
    location = merchant.locations.get()

    response = cashier_client.post(
        reverse("rewards:purchase", args=[customer.pk]),
        {"key": "k-buy", "amount": "25.90", "receipt": "R-1", "location": str(location.pk)},
    )

    assert response.status_code == 302
    assert response.url == reverse("rewards:member", args=[customer.pk]) + "#main"
    purchase = Purchase.objects.get(account__member=customer)
    assert (purchase.amount, purchase.points, purchase.receipt, purchase.location) == (
        Decimal("25.90"),
        25,
        "R-1",
        location,
    )
    assert (purchase.actor_user, purchase.idempotency_key) == (cashier.user, "k-buy")
    assert balance(customer) == 25


def test_record_purchase_posted_twice_with_the_same_key_records_once(cashier_client, customer):
    data = {"key": "k-double", "amount": "30"}

    for _ in range(2):
        response = cashier_client.post(reverse("rewards:purchase", args=[customer.pk]), data)
        assert response.status_code == 302

    assert Purchase.objects.filter(account__member=customer).count() == 1
    assert balance(customer) == 30


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "MYR amounts have at most 2 decimals."),
        ("-5", "Enter an amount above zero."),
        ("0", "Enter an amount above zero."),
        ("99999999", "That is more than"),
    ],
)
def test_record_purchase_with_a_bad_amount_shows_the_ledgers_message_and_writes_nothing(
    cashier_client, customer, amount, message
):
    before = snapshot()

    response = cashier_client.post(reverse("rewards:purchase", args=[customer.pk]), {"key": "k-bad", "amount": amount})

    assert response.status_code == 200
    assert message in " ".join(response.context["purchase_form"].errors["amount"])
    assert snapshot() == before


def test_record_purchase_with_a_reused_key_and_another_amount_is_refused(cashier_client, customer):
    cashier_client.post(reverse("rewards:purchase", args=[customer.pk]), {"key": "k-same", "amount": "30"})

    response = cashier_client.post(reverse("rewards:purchase", args=[customer.pk]), {"key": "k-same", "amount": "31"})

    assert "This request key was already used for a different request." in response.text
    assert Purchase.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Rewards and vouchers


def test_redeem_issues_a_voucher_and_takes_the_points(cashier_client, rich_customer, mug):
    response = cashier_client.post(reverse("rewards:redeem", args=[rich_customer.pk, mug.pk]), {"key": "k-r"})

    assert response.status_code == 302
    voucher = Redemption.objects.get(account__member=rich_customer)
    assert (voucher.reward, voucher.points, voucher.status) == (mug, 100, VoucherStatus.ISSUED)
    assert balance(rich_customer) == 100


def test_redeem_posted_twice_with_the_same_key_issues_one_voucher(cashier_client, rich_customer, mug):
    for _ in range(2):
        cashier_client.post(reverse("rewards:redeem", args=[rich_customer.pk, mug.pk]), {"key": "k-rr"})

    assert Redemption.objects.filter(account__member=rich_customer).count() == 1
    assert balance(rich_customer) == 100


def test_redeem_above_the_balance_shows_the_ledgers_message_and_writes_nothing(cashier_client, customer, mug):
    before = snapshot()

    response = cashier_client.post(reverse("rewards:redeem", args=[customer.pk, mug.pk]), {"key": "k-poor"})

    assert response.status_code == 200
    assert "Aisyah Rahman has 0 and needs 100 for “Mug”." in response.context["reward_error"]
    assert snapshot() == before


def test_pay_with_points_turns_the_points_asked_for_into_a_discount(cashier_client, rich_customer, merchant):
    reward = RewardFactory(merchant=merchant, kind=RewardKind.PAY_WITH_POINTS, points_cost=50, points_step=50)

    cashier_client.post(
        reverse("rewards:redeem", args=[rich_customer.pk, reward.pk]), {"key": "k-pwp", "points": "150"}
    )

    voucher = Redemption.objects.get(account__member=rich_customer)
    assert (voucher.points, voucher.discount) == (150, Decimal("1.50"))
    assert balance(rich_customer) == 50


def test_pay_with_points_off_the_step_is_refused(cashier_client, rich_customer, merchant):
    reward = RewardFactory(merchant=merchant, kind=RewardKind.PAY_WITH_POINTS, points_cost=50, points_step=50)

    response = cashier_client.post(
        reverse("rewards:redeem", args=[rich_customer.pk, reward.pk]), {"key": "k-s", "points": "70"}
    )

    assert "Use at least 50 points, in steps of 50." in response.context["reward_error"]
    assert not Redemption.objects.exists()


def test_mark_voucher_used(cashier_client, voucher, cashier):
    member = voucher.account.member

    response = cashier_client.post(reverse("rewards:voucher_use", args=[member.pk, voucher.pk]), {"key": "k-use"})

    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.status, voucher.used_by) == (VoucherStatus.USED, cashier.user)


def test_mark_voucher_used_twice_with_the_same_key_is_one_use(cashier_client, voucher):
    member = voucher.account.member
    url = reverse("rewards:voucher_use", args=[member.pk, voucher.pk])

    first = cashier_client.post(url, {"key": "k-use2"})
    second = cashier_client.post(url, {"key": "k-use2"})

    assert (first.status_code, second.status_code) == (302, 302)
    voucher.refresh_from_db()
    assert voucher.used_key == "k-use2"


def test_mark_a_used_voucher_again_with_a_new_key_says_when_it_was_used(cashier_client, voucher):
    member = voucher.account.member
    url = reverse("rewards:voucher_use", args=[member.pk, voucher.pk])
    cashier_client.post(url, {"key": "k-a"})

    response = cashier_client.post(url, {"key": "k-b"})

    assert f"Voucher {voucher.code} was already used on" in response.context["voucher_error"]


def test_void_voucher_gives_the_points_back(manager_client, voucher):
    member = voucher.account.member

    response = manager_client.post(reverse("rewards:voucher_void", args=[member.pk, voucher.pk]), {"key": "k-void"})

    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.VOIDED
    assert balance(member) == 200


def test_void_twice_returns_the_points_once(manager_client, voucher):
    member = voucher.account.member
    url = reverse("rewards:voucher_void", args=[member.pk, voucher.pk])

    manager_client.post(url, {"key": "k-v1"})
    manager_client.post(url, {"key": "k-v1"})

    assert balance(member) == 200


# ---------------------------------------------------------------------------------------------
# Refunds, adjustments, tier fees, the shortfall report


def test_refund_page_offers_what_is_left_to_refund(manager_client, purchase):
    response = manager_client.get(reverse("rewards:refund", args=[purchase.account.member_id, purchase.pk]))

    assert response.status_code == 200
    assert response.context["form"]["amount"].value() == Decimal(40)


def test_refund_page_of_a_fully_refunded_purchase_offers_no_form(manager_client, purchase, boss):
    ledger.purchase_refund(purchase=purchase, amount=Decimal(40), actor=boss, idempotency_key="all")

    response = manager_client.get(reverse("rewards:refund", args=[purchase.account.member_id, purchase.pk]))

    assert "This purchase was refunded in full." in response.text
    assert 'name="amount"' not in response.text


def test_refund_takes_back_the_points_in_proportion(manager_client, purchase):
    member = purchase.account.member

    response = manager_client.post(
        reverse("rewards:refund", args=[member.pk, purchase.pk]), {"key": "k-ref", "amount": "10", "reason": "torn"}
    )

    assert response.status_code == 302
    refund = Refund.objects.get(purchase=purchase)
    assert (refund.amount, refund.points, refund.shortfall, refund.reason) == (Decimal(10), 10, 0, "torn")
    assert balance(member) == 30


def test_refund_posted_twice_with_the_same_key_refunds_once(manager_client, purchase):
    url = reverse("rewards:refund", args=[purchase.account.member_id, purchase.pk])

    for _ in range(2):
        manager_client.post(url, {"key": "k-ref2", "amount": "10"})

    assert Refund.objects.count() == 1


def test_refund_larger_than_what_is_left_shows_the_ledgers_message(manager_client, purchase):
    before = snapshot()

    response = manager_client.post(
        reverse("rewards:refund", args=[purchase.account.member_id, purchase.pk]), {"key": "k-big", "amount": "41"}
    )

    assert response.context["form"].errors["amount"] == ["Only RM40.00 of this purchase is left to refund."]
    assert snapshot() == before


def test_adjust_with_a_reason_writes_an_entry_and_an_audit_record(manager_client, customer, manager):
    response = manager_client.post(
        reverse("rewards:adjust", args=[customer.pk]), {"key": "k-adj", "points": "15", "reason": "Missed stamp"}
    )

    assert response.status_code == 302
    entry = PointsEntry.objects.get(account__member=customer)
    assert (entry.kind, entry.points, entry.reason, entry.actor_user) == ("adjust", 15, "Missed stamp", manager.user)
    assert AuditLog.objects.get(action="points.adjust").object_id == str(customer.pk)


def test_adjust_posted_twice_with_the_same_key_adjusts_once(manager_client, customer):
    for _ in range(2):
        manager_client.post(
            reverse("rewards:adjust", args=[customer.pk]), {"key": "k-adj2", "points": "15", "reason": "x"}
        )

    assert balance(customer) == 15


def test_adjust_without_a_reason_shows_the_ledgers_message_and_writes_nothing(manager_client, customer):
    before = snapshot()

    response = manager_client.post(reverse("rewards:adjust", args=[customer.pk]), {"key": "k-adj3", "points": "15"})

    assert response.context["adjust_form"].errors["reason"] == ["Say why you adjust the points."]
    assert snapshot() == before


def test_adjust_below_zero_is_refused(manager_client, customer):
    response = manager_client.post(
        reverse("rewards:adjust", args=[customer.pk]), {"key": "k-neg", "points": "-5", "reason": "oops"}
    )

    assert response.context["adjust_form"].errors["points"] == ["Aisyah Rahman has only 0 points."]
    assert not PointsEntry.objects.exists()


def test_record_a_paid_tier_fee(cashier_client, customer, merchant):
    vip = TierFactory(merchant=merchant, name="VIP", is_paid=True, fee=Decimal(30), paid_months=12)

    response = cashier_client.post(
        reverse("rewards:tier_fee", args=[customer.pk]), {"key": "k-fee", "tier": str(vip.pk), "amount": "30"}
    )

    assert response.status_code == 302
    fee = TierFee.objects.get(account__member=customer)
    assert (fee.tier, fee.amount) == (vip, Decimal(30))
    assert Account.objects.get(member=customer).paid_tier == vip


def test_tier_fee_form_shows_only_when_the_shop_has_paid_tiers(cashier_client, customer, merchant):
    without = cashier_client.get(reverse("rewards:member", args=[customer.pk]))
    TierFactory(merchant=merchant, name="VIP", is_paid=True, fee=Decimal(30))
    with_paid = cashier_client.get(reverse("rewards:member", args=[customer.pk]))

    assert without.context["fee_form"] is None
    assert reverse("rewards:tier_fee", args=[customer.pk]) in with_paid.text


def test_shortfall_report_lists_refunds_that_could_not_take_back_all_points(manager_client, purchase, boss, merchant):
    member = purchase.account.member
    reward = RewardFactory(merchant=merchant, name="Cap", points_cost=40)
    ledger.reward_redeem(member=member, reward=reward, actor=boss, idempotency_key="spend-all")
    ledger.purchase_refund(purchase=purchase, amount=Decimal(40), actor=boss, idempotency_key="refund-all")
    other = ledger.purchase_record(member=member, amount=Decimal(10), actor=boss, idempotency_key="b2")
    ledger.purchase_refund(purchase=other, amount=Decimal(10), actor=boss, idempotency_key="refund-ok")

    response = manager_client.get(reverse("rewards:shortfalls"))

    assert [r.shortfall for r in response.context["page"]] == [40]
    assert "40 points" in response.text


# ---------------------------------------------------------------------------------------------
# Navigation, the home page, other languages and currencies


@pytest.mark.parametrize(
    ("client_name", "shown", "hidden"),
    [
        (
            "cashier_client",
            ["members:list"],
            ["rewards:catalog", "rewards:program", "rewards:tiers", "rewards:shortfalls"],
        ),
        (
            "manager_client",
            ["members:list", "rewards:catalog", "rewards:shortfalls"],
            ["rewards:program", "rewards:tiers"],
        ),
        (
            "owner_client",
            ["members:list", "rewards:catalog", "rewards:shortfalls", "rewards:program", "rewards:tiers"],
            [],
        ),
    ],
)
def test_navigation_links_follow_the_role(request, client_name, shown, hidden):
    response = request.getfixturevalue(client_name).get(reverse("members:list"))

    nav = response.text[response.text.index('<nav class="nav"') : response.text.index("</nav>")]
    for url_name in shown:
        assert f'href="{reverse(url_name)}"' in nav, url_name
    for url_name in hidden:
        assert f'href="{reverse(url_name)}"' not in nav, url_name


def test_home_links_set_up_the_program_to_the_program_settings(owner_client):
    response = owner_client.get(reverse("merchants:home"))

    steps = response.text[response.text.index('<ol class="next-steps">') : response.text.index("</ol>")]
    assert f'href="{reverse("rewards:program")}"' in steps


def test_pages_in_hungarian_show_forints_without_decimals(db):
    shop = MerchantFactory(country="HU", currency="HUF", timezone="Europe/Budapest", language="hu")
    boss = StaffFactory(merchant=shop, role=Role.OWNER)
    member = MemberFactory(merchant=shop, phone="+36201234567")
    ledger.purchase_record(member=member, amount=Decimal(12500), actor=Actor.for_staff(boss), idempotency_key="huf-1")
    browser = Client()
    browser.force_login(boss.user)
    browser.cookies["django_language"] = "hu"

    response = browser.get(reverse("rewards:member", args=[member.pk]))

    assert response.status_code == 200
    assert "12\xa0500\xa0Ft" in response.text
    refused = browser.post(reverse("rewards:purchase", args=[member.pk]), {"key": "huf-2", "amount": "10,5"})
    assert refused.context["purchase_form"].errors["amount"] == ["HUF pénznemben nincsenek tizedesjegyek."]
    assert not Purchase.objects.filter(idempotency_key="huf-2").exists()


def test_history_pages_link_to_the_member_page_even_after_a_failed_post(cashier_client, customer, boss):
    for n in range(30):
        ledger.points_adjust(member=customer, points=1, reason="tick", actor=boss, idempotency_key=f"tick-{n}")

    response = cashier_client.post(reverse("rewards:purchase", args=[customer.pk]), {"key": "k-x", "amount": "-1"})

    assert f'href="{reverse("rewards:member", args=[customer.pk])}?page=2"' in response.text
