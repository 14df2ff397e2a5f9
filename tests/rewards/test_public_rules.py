"""The public "how it works" page /j/<shop>/how/: the program's rules in words, always the current ones."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from rewards.models import ExpiryMode, Mode, RewardKind, TierBasis
from rewards.selectors_public import earn_rate
from tests.factories import ProgramFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, merchant):
    """The page's text as a customer reads it (tags dropped, spaces squeezed)."""

    def read(shop=merchant, **headers: str) -> str:
        response = client.get(reverse("public_rules:how", args=[shop.slug]), headers=headers)
        assert response.status_code == 200
        return re.sub(r"\s+", " ", strip_tags(response.text))

    return read


def test_the_page_says_how_many_points_a_purchase_earns_in_the_shops_money(page, rules):
    rules(points_per_unit=Decimal(2), min_purchase=Decimal(5), daily_cap=300)

    text = page()

    assert "2 points for every RM1.00 you spend." in text
    assert "Purchases from RM5.00 count." in text
    assert "You can earn at most 300 points a day." in text
    assert "Points are rounded down to whole points." in text


def test_a_fraction_of_a_point_per_unit_reads_as_money_per_point(page, rules):
    rules(points_per_unit=Decimal("0.1"))

    assert "1 point for every RM10.00 you spend." in page()


def test_forints_have_no_decimals_and_the_money_follows_the_language(page, huf_merchant):
    program = huf_merchant.program
    program.points_per_unit = Decimal("0.01")
    program.save()

    text = page(shop=huf_merchant, accept_language="hu").replace("\xa0", " ")

    assert "100 Ft" in text
    assert "100,00" not in text


def test_the_page_changes_as_soon_as_the_rules_change(page, rules):
    rules(points_per_unit=Decimal(1), welcome_bonus=0)
    assert "1 point for every RM1.00" in page()
    assert "Welcome:" not in page()

    rules(points_per_unit=Decimal(3), welcome_bonus=50)

    assert "3 points for every RM1.00" in page()
    assert "Welcome: 50 points as soon as you join." in page()


def test_a_stamp_card_shop_talks_in_stamps(page, rules, merchant):
    reward = RewardFactory(merchant=merchant, name="Free coffee", points_cost=8)
    rules(mode=Mode.STAMPS, stamps_per_card=8, stamp_reward=reward, welcome_bonus=1, expiry_mode=ExpiryMode.NEVER)

    text = page()

    assert "You get a stamp each time you buy something" in text
    assert "A full card has 8 stamps." in text
    assert "A full card gets you: Free coffee." in text
    assert "Welcome: 1 stamp as soon as you join." in text
    assert "Your stamps never expire." in text
    assert "points for every" not in text


def test_bonuses_are_listed(page, rules):
    rules(welcome_bonus=50, birthday_bonus=100, referral_bonus=25)

    text = page()

    assert "Welcome: 50 points as soon as you join." in text
    assert "Birthday: 100 points on your birthday" in text
    assert "you both get 25 points." in text


def test_tiers_show_their_thresholds_windows_multipliers_perks_and_fees(page, rules, merchant):
    rules(tier_basis=TierBasis.SPEND, tier_window_months=12)
    TierFactory(
        merchant=merchant, name="Silver", threshold=Decimal(500), multiplier=Decimal("1.5"), perks="Free drying"
    )
    TierFactory(
        merchant=merchant, name="Club", is_paid=True, fee=Decimal(30), paid_months=12, threshold=0, multiplier=2
    )

    text = page()

    assert "what you spent in the last 12 months" in text
    assert "Silver From RM500.00 spent · \u00d71.5 points on every purchase Free drying" in text
    assert "Club Paid membership RM30.00 for 12 months, paid at the counter · \u00d72 points on every purchase" in text


def test_the_catalogue_lists_available_rewards_only(page, rules, merchant):
    rules(voucher_days=30)
    gold = TierFactory(merchant=merchant, name="Gold", threshold=Decimal(1000))
    RewardFactory(merchant=merchant, name="Free wash", points_cost=60)
    RewardFactory(
        merchant=merchant, name="RM5 off", kind=RewardKind.AMOUNT_OFF, value=Decimal(5), points_cost=200, min_tier=gold
    )
    RewardFactory(merchant=merchant, name="Retired mug", points_cost=10, is_active=False)
    RewardFactory(
        merchant=merchant, name="Last year's promo", points_cost=10, valid_until=timezone.localdate() - timedelta(2)
    )

    text = page()

    assert "Free wash 60 points" in text
    assert "RM5 off 200 points · RM5.00 off · for Gold members and above" in text
    assert "valid for 30 days" in text
    assert "Retired mug" not in text
    assert "Last year's promo" not in text


@pytest.mark.parametrize(
    ("mode", "months", "expected"),
    [
        (ExpiryMode.NEVER, 12, "Your points never expire."),
        (ExpiryMode.AFTER_EARNING, 12, "Points expire 12 months after the day you earned them."),
        (ExpiryMode.AFTER_INACTIVITY, 6, "Your points expire if you make no purchase for 6 months."),
    ],
)
def test_the_expiry_rule_is_in_words(page, rules, mode, months, expected):
    rules(expiry_mode=mode, expiry_months=months)

    assert expected in page()


def test_the_privacy_notice_names_the_shop_and_what_it_keeps(page, program, merchant):
    text = page()

    assert f"{merchant.name} runs this program and looks after your data." in text
    assert "your name and phone number; your email and birthday if you give them" in text
    assert "Offers by email or SMS only if you said yes" in text
    assert "download a copy of your data, or ask to be deleted" in text


def test_the_page_shows_one_shops_rules_only(page, rules, merchant, other_merchant):
    rules(welcome_bonus=50)
    ProgramFactory(merchant=other_merchant, welcome_bonus=999)
    RewardFactory(merchant=other_merchant, name="Somtam")

    text = page()

    assert "999" not in text
    assert "Somtam" not in text
    assert other_merchant.name not in text


def test_a_shop_that_never_set_up_its_program_still_explains_the_defaults(page, merchant):
    assert "1 point for every RM1.00 you spend." in page()


def test_an_unknown_shop_is_404(client):
    assert client.get(reverse("public_rules:how", args=["no-such-shop"])).status_code == 404


def test_the_page_follows_the_browsers_language(client, merchant, program):
    response = client.get(reverse("public_rules:how", args=[merchant.slug]), headers={"accept-language": "uk"})

    assert '<html lang="uk"' in response.text


def test_the_sign_up_page_links_here(client, merchant):
    response = client.get(reverse("public:signup", args=[merchant.slug]))

    assert reverse("public_rules:how", args=[merchant.slug]) in response.text


@pytest.mark.parametrize(
    ("per_unit", "points", "spend"),
    [("1", "1", "1"), ("2.5", "2.5", "1"), ("0.1", "1", "10.00"), ("0.3", "1", "3.33"), ("0", None, None)],
)
def test_earn_rate_reads_in_whole_numbers(program, per_unit, points, spend):
    program.points_per_unit = Decimal(per_unit)

    rate = earn_rate(program, "MYR")

    assert (rate and (str(rate.points), str(rate.spend))) == ((points, spend) if points else None)
