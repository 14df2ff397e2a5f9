"""A shop's first day on a phone: the owner sets up the program and a reward, enrols a customer,
records a purchase (seeing the points before confirming), redeems the reward and marks the voucher used."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Member
from merchants.models import AuditLog
from rewards.models import Account, Program, Purchase, Redemption, VoucherStatus

from .test_console import sign_in

pytestmark = pytest.mark.e2e


def test_owner_runs_a_customer_through_earn_and_redeem_on_a_phone(open_tab, owner, merchant):
    tab = open_tab("member-flow")
    page = tab.page
    sign_in(page, owner.user.email)
    nav = page.get_by_role("navigation", name="Main")

    # The program: a welcome bonus of 50 points.
    nav.get_by_role("link", name="Program").click()
    tab.check("program")
    page.get_by_label("Welcome bonus").fill("50")
    page.get_by_role("button", name="Save program").click()
    expect(page.get_by_role("status")).to_contain_text("Program saved.")
    tab.check("program-saved")

    # A reward worth 60 points.
    nav.get_by_role("link", name="Rewards catalog").click()
    page.get_by_role("link", name="Add reward").click()
    tab.check("reward-new")
    page.get_by_label("Name").fill("Free wash")
    page.get_by_label("Points cost").fill("60")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Reward “Free wash” saved.")
    tab.check("catalog")

    # A new member, who gets the welcome bonus.
    nav.get_by_role("link", name="Members").click()
    tab.check("members-empty")
    page.get_by_role("link", name="Add member").click()
    tab.check("member-new")
    page.get_by_label("First name").fill("Siti")
    page.get_by_label("Last name").fill("Aminah")
    page.get_by_label("Phone").fill("012-345 6789")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")
    balance = page.locator("#balance .balance")
    expect(balance).to_have_text("50 points")
    tab.check("member")

    # A purchase: the page says what it earns before the cashier confirms.
    purchase = page.locator("#purchase")
    with page.expect_request(re.compile(r"/purchase/preview/\?amount=25\.90$")) as preview:
        purchase.get_by_label("Amount").fill("25.90")
    assert preview.value.headers["hx-request"] == "true"
    expect(page.locator("#purchase-preview")).to_have_text("Earns 25 points")
    tab.check("purchase-preview")
    purchase.get_by_role("button", name="Record purchase").click()
    expect(page.get_by_role("status")).to_contain_text("Purchase of RM25.90 recorded: 25 points earned.")
    expect(balance).to_have_text("75 points")
    tab.check("purchase-recorded")

    # Redeem the reward, then use the voucher at the counter.
    page.locator("#rewards li", has_text="Free wash").get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("status")).to_contain_text("issued for “Free wash”")
    expect(balance).to_have_text("15 points")
    vouchers = page.locator("#vouchers")
    expect(vouchers.locator(".voucher-code")).to_have_count(1)
    tab.check("voucher")
    vouchers.get_by_role("button", name="Mark used").click()
    expect(page.get_by_role("status")).to_contain_text("marked used")
    expect(vouchers).to_contain_text("No vouchers to use.")
    expect(page.locator("#history tbody tr")).to_have_count(3)  # the welcome bonus, the purchase, the reward
    tab.check("voucher-used")

    # Find her again by typing part of her phone number.
    nav.get_by_role("link", name="Members").click()
    with page.expect_request(re.compile(r"/members/\?q=3456")):
        page.get_by_role("searchbox").fill("3456")
    expect(page.locator("#member-rows")).to_contain_text("Siti Aminah")
    tab.check("members-search")

    member = Member.objects.get(merchant=merchant)
    assert Account.objects.get(member=member).balance == 15
    assert Purchase.objects.get(account__member=member).points == 25
    assert Redemption.objects.get(account__member=member).status == VoucherStatus.USED
    assert Program.objects.get(merchant=merchant).welcome_bonus == 50
    assert AuditLog.objects.filter(merchant=merchant, action__in=["program.update", "reward.create"]).count() == 2
