"""The member's card on their phone: the balance after a purchase at the counter, vouchers, the stamp
card, signing in with a code, and their details. Screenshots land in test-results/e2e/."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from members.models import ConsentEvent, Member
from members.portal import card_url, unsubscribe_url
from members.services import consent_set, member_enroll, member_request_deletion
from merchants.actors import Actor
from rewards import ledger
from rewards.models import Account
from tests.factories import ProgramFactory, RewardFactory, TierFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e

CODE = re.compile(r"^\s+(\d{6})$", re.M)


@pytest.fixture
def counter(cashier) -> Actor:
    return Actor.for_staff(cashier, location=cashier.merchant.locations.first())


@pytest.fixture
def siti(merchant, counter) -> Member:
    ProgramFactory(merchant=merchant, welcome_bonus=50, referral_bonus=20, expiry_mode="after_earning")
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100), multiplier=Decimal(1))
    TierFactory(merchant=merchant, name="Gold", threshold=Decimal(500), multiplier=Decimal(2))
    RewardFactory(merchant=merchant, name="Free wash", points_cost=60, description="Any machine, any time")
    RewardFactory(merchant=merchant, name="Laundry bag", points_cost=300)
    return member_enroll(
        merchant=merchant,
        actor=counter,
        first_name="Siti",
        last_name="Aminah",
        phone="012-345 6789",
        email="siti@example.com",
    )


def test_card_shows_the_new_balance_after_a_purchase_at_the_counter(open_tab, siti, counter):
    tab = open_tab("member-card")
    page = tab.page
    page.goto(card_url(siti))
    balance = page.locator(".wallet-number")
    expect(balance).to_have_text("50 points")
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")
    expect(page.locator(".scan-qr svg")).to_be_visible()
    expect(page.locator(".scan-barcode svg")).to_be_visible()
    tab.check("card-new-member")

    # The cashier records a purchase at the counter; the member pulls to refresh.
    ledger.purchase_record(member=siti, amount=Decimal("125.90"), actor=counter, idempotency_key="e2e-1")
    page.reload()
    expect(balance).to_have_text("175 points")
    expect(page.locator(".wallet-tier")).to_have_text("Silver")
    expect(page.locator("#rewards li", has_text="Free wash")).to_contain_text("You can have this now")
    expect(page.locator("#history li").first).to_contain_text("+125 points")
    expect(page.locator("#history li").first).to_contain_text("Expires")
    tab.check("card-after-purchase")

    # A reward redeemed at the counter: its voucher code, big enough to read out.
    ledger.reward_redeem(member=siti, reward=siti.merchant.rewards.get(name="Free wash"), actor=counter)
    page.reload()
    expect(balance).to_have_text("115 points")
    expect(page.locator(".voucher-big-code")).to_have_count(1)
    tab.check("card-voucher")
    assert Account.objects.get(member=siti).balance == 115


def test_share_button_copies_the_invite_link_where_the_phone_cannot_share(open_tab, siti, live_server):
    tab = open_tab("member-card-share")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.add_init_script("delete Navigator.prototype.share")  # a browser with no share sheet
    page.goto(card_url(siti))

    page.get_by_role("button", name="Share").click()

    expect(page.locator(".share-status")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()").endswith(
        f"/j/{siti.merchant.slug}/?ref={siti.referral_code}"
    )
    tab.check("share")


def test_stamp_card_on_a_phone(open_tab, merchant, counter):
    ProgramFactory(merchant=merchant, mode="stamps", stamps_per_card=10, one_stamp_per_day=False)
    RewardFactory(merchant=merchant, name="Free coffee", points_cost=10)
    member = member_enroll(merchant=merchant, actor=counter, first_name="Ploy", phone="0198765432")
    for n in range(4):
        ledger.purchase_record(member=member, amount=Decimal("8.50"), actor=counter, idempotency_key=f"s{n}")
    tab = open_tab("member-card-stamps")
    page = tab.page

    page.goto(card_url(member))

    expect(page.locator(".wallet-stamp.filled")).to_have_count(4)
    expect(page.locator(".wallet-caption")).to_contain_text("4 of 10 stamps")
    assert "point" not in page.locator("main").inner_text().lower()
    tab.check("stamp-card")


def test_member_signs_in_with_a_code_and_changes_their_details(open_tab, siti, mailoutbox):
    tab = open_tab("member-login")
    page = tab.page
    page.goto(f"/j/{siti.merchant.slug}/login/")
    tab.check("login")
    page.get_by_label("Your phone number or email").fill("SITI@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Type your code")
    tab.check("login-code")

    page.get_by_label("The 6-digit code").fill(
        "000000" if CODE.search(mailoutbox[-1].body)[1] != "000000" else "111111"
    )
    page.get_by_role("button", name="Open my card").click()
    expect(page.locator(".error")).to_contain_text("That code is not right. 4 tries left.")
    tab.check("login-wrong-code")
    page.get_by_label("The 6-digit code").fill(CODE.search(mailoutbox[-1].body)[1])
    page.get_by_role("button", name="Open my card").click()
    expect(page.locator(".wallet-number")).to_have_text("50 points")

    page.get_by_role("link", name="My details and privacy").click()
    tab.check("details")
    page.get_by_label("Phone").fill("12345")
    page.get_by_label("Send me offers by SMS").check()
    page.get_by_role("button", name="Save my details").click()
    expect(page.locator("#id_phone_error")).to_contain_text("is not a valid phone number")
    tab.check("details-error")
    page.get_by_label("Phone").fill("+60 12-555 0101")
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details are saved.")
    tab.check("details-saved")
    siti.refresh_from_db()
    assert (siti.phone, siti.sms_consent) == ("+60125550101", True)
    assert ConsentEvent.objects.filter(member=siti, channel="sms", granted=True, source="portal").count() == 1

    page.get_by_role("link", name="Ask to delete my data").click()
    tab.check("delete-confirm")
    page.get_by_role("button", name="Yes, delete my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We have told the shop")
    tab.check("delete-requested")


def test_member_unsubscribes_from_a_message_footer_and_undoes_it(open_tab, siti):
    consent_set(member=siti, channel="email", granted=True, source="signup")
    tab = open_tab("member-unsubscribe")
    page = tab.page

    page.goto(unsubscribe_url(siti))

    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    siti.refresh_from_db()
    assert siti.email_consent is False
    tab.check("unsubscribed")
    page.get_by_role("button", name="Undo: keep sending me offers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back")
    tab.check("undone")
    siti.refresh_from_db()
    assert siti.email_consent is True


def test_an_old_card_link_says_it_no_longer_works(open_tab, siti):
    tab = open_tab("member-link-invalid")
    page = tab.page

    page.goto(card_url(siti).replace("/c/", "/c/x"))

    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    tab.check("link-invalid", status=404)


def test_the_owner_erases_a_member_who_asked_to_be_deleted(open_tab, owner, siti, counter):
    ledger.purchase_record(member=siti, amount=Decimal("30.00"), actor=counter, idempotency_key="e2e-erase")
    member_request_deletion(member=siti)
    tab = open_tab("member-erase")
    page = tab.page
    sign_in(page, owner.user.email)

    page.goto(f"/members/{siti.pk}/")
    expect(page.locator(".page-head")).to_contain_text("Asked on")
    erase = page.locator("#erase")
    tab.check("member-asked")
    erase.get_by_label("To confirm, type").fill(str(siti))
    erase.get_by_role("button", name="Erase personal data").click()

    expect(page.get_by_role("status")).to_contain_text("Personal data erased.")
    expect(page.locator("#erased")).to_be_visible()
    expect(page.locator(".balance")).to_have_text("80 points")
    tab.check("member-erased")
    siti.refresh_from_db()
    assert (siti.first_name, siti.phone, siti.email) == ("", "", "")
