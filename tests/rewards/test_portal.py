"""The member's own card page at /c/<token>/: what it shows for points and stamp shops, who can open it."""

import html as htmllib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from django.urls import reverse
from django.utils import timezone

from members.card_codes import barcode_svg, qr_svg
from members.models import Member, portal_key_new
from members.portal import card_token
from members.services import member_enroll
from rewards import ledger, selectors
from rewards.models import PointsEntry
from tests.factories import MemberFactory, ProgramFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


def card_url(member: Member) -> str:
    return reverse("portal:card", args=[card_token(member)])


def text_of(response) -> str:
    """The page's visible words, tags stripped and spaces folded."""
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def alice(merchant, program, cashier_actor) -> Member:
    return member_enroll(
        merchant=merchant, actor=cashier_actor, first_name="Alice", last_name="Tan", phone="0123456789"
    )


# ---------------------------------------------------------------------------------------------
# A points shop


def test_card_page_shows_the_shop_the_member_and_the_balance(client, alice, buy):
    buy("120.00", member=alice)

    response = client.get(card_url(alice))

    assert response.status_code == 200
    text = text_of(response)
    assert "Bubbles Laundromat" in text
    assert "Alice Tan" in text
    assert "120 points" in text


def test_card_page_has_a_qr_code_and_a_barcode_of_the_card_number(client, alice):
    html = client.get(card_url(alice)).content.decode()

    # Both encode the card number (what the counter's scanner types), not the private link.
    assert qr_svg(alice.card_number) in html
    assert barcode_svg(alice.card_number) in html
    assert re.search(r'<svg[^>]*class="qr"', html)
    assert f'<p class="scan-number">{alice.card_number}</p>' in html


def test_card_page_shows_the_tier_and_what_is_left_to_reach_the_next(client, merchant, alice, buy):
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    TierFactory(merchant=merchant, name="Gold", threshold=Decimal(500))
    buy("150.00", member=alice)

    text = text_of(client.get(card_url(alice)))

    assert "Your tier Silver" in text
    assert "Spend RM350.00 more to reach Gold." in text


def test_card_page_shows_usable_vouchers_with_their_code_and_validity(client, merchant, alice, give, cashier_actor):
    give(alice, 100)
    reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=60)
    voucher = ledger.reward_redeem(member=alice, reward=reward, actor=cashier_actor, idempotency_key="r1")

    response = client.get(card_url(alice))

    html = response.content.decode()
    assert f'<p class="voucher-big-code" aria-label="Voucher code {voucher.code}">{voucher.code}</p>' in html
    valid_until = format_date(timezone.localtime(voucher.expires_at, merchant.tzinfo), "medium", locale="en")
    assert f"valid until {valid_until}" in text_of(response)


def test_a_used_voucher_is_no_longer_on_the_card(client, merchant, alice, give, cashier_actor):
    give(alice, 100)
    reward = RewardFactory(merchant=merchant, points_cost=60)
    voucher = ledger.reward_redeem(member=alice, reward=reward, actor=cashier_actor, idempotency_key="r1")
    ledger.voucher_use(redemption=voucher, actor=cashier_actor, idempotency_key="u1")

    assert voucher.code not in client.get(card_url(alice)).content.decode()


def test_catalogue_says_which_rewards_are_affordable_and_how_far_the_others_are(client, merchant, alice, give):
    give(alice, 100)
    RewardFactory(merchant=merchant, name="Free wash", points_cost=80)
    RewardFactory(merchant=merchant, name="Big towel", points_cost=500)
    RewardFactory(merchant=merchant, name="Gone", points_cost=10, is_active=False)

    text = text_of(client.get(card_url(alice)))

    assert "Free wash 80 points You can have this now" in text
    assert "Big towel 500 points 400 points to go" in text
    assert "Gone" not in text


def test_history_shows_when_each_credit_expires(client, merchant, alice, buy, rules):
    rules(expiry_mode="after_earning", expiry_months=12)
    purchase = buy("40.00", member=alice)
    expires = PointsEntry.objects.get(purchase=purchase).expires_at

    text = text_of(client.get(card_url(alice)))

    day = format_date(timezone.localtime(expires, merchant.tzinfo), "medium", locale="en")
    assert f"Expires {day}" in text
    assert f"40 points expire on {day}." in text


def test_points_expiring_leaves_out_what_was_already_spent(merchant, alice, buy, rules, cashier_actor):
    rules(expiry_mode="after_earning", expiry_months=1)
    soon = PointsEntry.objects.get(purchase=buy("100.00", member=alice)).expires_at
    rules(expiry_months=2)
    later = PointsEntry.objects.get(purchase=buy("50.00", member=alice)).expires_at
    reward = RewardFactory(merchant=merchant, points_cost=120)
    ledger.reward_redeem(member=alice, reward=reward, actor=cashier_actor, idempotency_key="r1")

    expiring = selectors.points_expiring(account=selectors.account_for(member=alice))

    # The 120 took the soonest batch (100) first, then 20 of the later one.
    assert [(e.expires_at, e.points) for e in expiring] == [(later, 30)]
    assert soon < later


def test_referral_link_is_absolute_with_the_members_code(client, settings, merchant, alice):
    settings.SITE_URL = "https://loyalty.example.com"

    html = client.get(card_url(alice)).content.decode()

    link = f"https://loyalty.example.com/j/{merchant.slug}/?ref={alice.referral_code}"
    assert f'value="{link}"' in html
    assert 'data-share="#referral-link"' in html


def test_card_page_loads_no_inline_script(client, alice):
    html = client.get(card_url(alice)).content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html)


# ---------------------------------------------------------------------------------------------
# A stamps shop


@pytest.fixture
def stamp_shop(rules):
    return rules(mode="stamps", stamps_per_card=8, one_stamp_per_day=False)


def test_stamp_card_shows_filled_circles_and_never_says_points(client, merchant, alice, buy, stamp_shop):
    RewardFactory(merchant=merchant, name="Free coffee", points_cost=8)
    TierFactory(merchant=merchant, name="Regular", threshold=Decimal(100))
    for _ in range(3):
        buy("5.00", member=alice)

    response = client.get(card_url(alice))

    html = response.content.decode()
    assert html.count('class="wallet-stamp filled"') == 3
    assert html.count('class="wallet-stamp"') == 5
    text = text_of(response)
    assert "3 of 8 stamps" in text
    assert "5 stamps to go" in text
    assert "point" not in text.lower()


# ---------------------------------------------------------------------------------------------
# Who can open it


def test_a_forged_token_is_not_found(client, alice):
    token = card_token(alice)

    response = client.get(reverse("portal:card", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")]))

    assert response.status_code == 404
    assert "This link no longer works" in text_of(response)


def test_a_token_made_with_another_key_is_not_found(client, alice):
    old_url = card_url(alice)
    Member.objects.filter(pk=alice.pk).update(portal_key=portal_key_new())  # "sign out everywhere"

    assert client.get(old_url).status_code == 404


def test_another_shops_member_never_shows_on_this_shops_card(client, merchant, other_merchant, alice, give):
    ProgramFactory(merchant=other_merchant)
    stranger = MemberFactory(merchant=other_merchant, first_name="Somchai", last_name="Jaidee")
    give(alice, 10)

    alice_page = text_of(client.get(card_url(alice)))
    stranger_page = text_of(client.get(card_url(stranger)))

    assert "Somchai" not in alice_page
    assert "Alice" not in stranger_page
    assert "Charlie's Cafe" in stranger_page
    assert "Bubbles Laundromat" not in stranger_page


def test_opening_the_card_link_remembers_the_member_so_c_opens_their_card(client, alice):
    client.get(card_url(alice))

    response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response["Location"] == card_url(alice)


def test_c_without_a_card_opened_says_how_to_find_it(client, db):
    response = client.get(reverse("portal:home"))

    assert response.status_code == 404
    assert "Open your card from your link" in text_of(response)


def test_c_forgets_a_member_whose_links_were_revoked(client, alice):
    client.get(card_url(alice))
    Member.objects.filter(pk=alice.pk).update(portal_key=portal_key_new())

    assert client.get(reverse("portal:home")).status_code == 404


def test_card_page_is_in_the_members_language(client, merchant, alice):
    Member.objects.filter(pk=alice.pk).update(language="ms")

    response = client.get(card_url(alice))

    assert response.headers["Content-Language"] == "ms"


def test_card_page_dates_are_in_the_shops_time_zone(client, merchant, alice, buy, rules):
    rules(expiry_mode="after_earning", expiry_months=1)
    purchase = buy("10.00", member=alice)
    # Late evening UTC is the next morning in Kuala Lumpur: the page shows the shop's date.
    late = timezone.now().replace(hour=20, minute=0) - timedelta(days=3)
    PointsEntry.objects.filter(purchase=purchase).update(created_at=late)

    text = text_of(client.get(card_url(alice)))

    assert format_date(timezone.localtime(late, merchant.tzinfo), "medium", locale="en") in text


def test_card_page_takes_a_bounded_number_of_queries(
    client, merchant, alice, buy, give, cashier_actor, django_assert_max_num_queries
):
    client.get(card_url(alice))  # the session is started; later visits only read it
    for n in range(5):
        buy(f"{n + 10}.00", member=alice, idempotency_key=f"p{n}")
        RewardFactory(merchant=merchant, points_cost=10 + n)
    ledger.reward_redeem(member=alice, reward=RewardFactory(merchant=merchant, points_cost=5), actor=cashier_actor)

    with django_assert_max_num_queries(13):
        response = client.get(card_url(alice))

    assert response.status_code == 200
