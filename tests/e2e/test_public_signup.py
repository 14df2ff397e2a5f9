"""A customer scans the shop's poster and joins on their phone: the sign-up page, the "check your
phone" page, the card link by SMS, and the rules page; then the manager's poster page."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from members.models import ConsentEvent, Member, Source
from members.sms import MemoryBackend
from rewards.models import Account, Program
from tests.factories import MemberFactory, RewardFactory, TierFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e

CARD_LINK = re.compile(r"https?://\S+/c/[\w:.-]+/")


def test_a_customer_signs_up_from_the_public_page_on_a_phone(open_tab, merchant):
    Program.objects.create(merchant=merchant, welcome_bonus=50, points_per_unit=Decimal(2), referral_bonus=20)
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(300), multiplier=Decimal("1.5"))
    RewardFactory(merchant=merchant, name="Free wash", points_cost=100)
    friend = MemberFactory(merchant=merchant, referral_code="ACE777")
    tab = open_tab("public-signup")
    page = tab.page

    # The friend's referral link: the code is already filled in.
    page.goto(f"/j/{merchant.slug}/?ref=ACE777")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join {merchant.name}'s loyalty program")
    expect(page.get_by_label("Friend's referral code (optional)")).to_have_value("ACE777")
    expect(page.get_by_label("Send me offers by SMS")).not_to_be_checked()
    tab.check("signup")

    # A typo first: a clear message, and nothing is created.
    page.get_by_label("First name").fill("Siti")
    page.get_by_label("Last name").fill("Aminah")
    page.get_by_label("Mobile phone").fill("012-345")
    page.get_by_role("button", name="Get my card").click()
    expect(page.locator(".has-error")).to_contain_text("is not a valid phone number")
    assert not Member.objects.filter(merchant=merchant, first_name="Siti").exists()
    tab.check("signup-error")

    page.get_by_label("Mobile phone").fill("012-345 6789")
    page.get_by_label("Send me offers by SMS").check()
    page.get_by_role("button", name="Get my card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your phone or email")
    tab.check("signup-done")

    member = Member.objects.get(merchant=merchant, phone="+60123456789")
    assert (member.name, member.source, member.referred_by) == ("Siti Aminah", Source.SIGNUP, friend)
    assert list(ConsentEvent.objects.filter(member=member).values_list("channel", "granted", "source")) == [
        ("sms", True, "signup")
    ]
    assert Account.objects.get(member=member).balance == 50
    # The card link arrived by SMS, pointing at this site.
    [sms] = MemoryBackend.outbox
    assert sms["to"] == "+60123456789"
    assert CARD_LINK.search(sms["body"]).group(0).startswith(tab.origin)

    # How the program works, from the done page.
    page.get_by_role("link", name="How the program works").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"How {merchant.name}'s loyalty program works")
    earn = page.locator("#earn")
    expect(earn).to_contain_text("2 points for every RM1.00 you spend.")
    expect(page.locator("#tiers")).to_contain_text("Silver")
    expect(page.locator("#rewards")).to_contain_text("Free wash")
    expect(page.locator("#privacy")).to_contain_text(f"{merchant.name} runs this program")
    tab.check("how-it-works")


def test_signing_up_again_with_the_same_phone_looks_the_same_and_resends_the_link(open_tab, merchant):
    MemberFactory(merchant=merchant, phone="+60123456789", email="", first_name="Siti")
    tab = open_tab("public-signup-again")
    page = tab.page

    page.goto(f"/j/{merchant.slug}/")
    page.get_by_label("First name").fill("Someone")
    page.get_by_label("Mobile phone").fill("+60 12-345 6789")
    page.get_by_role("button", name="Get my card").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your phone or email")
    tab.check("signup-again-done")
    assert Member.objects.filter(merchant=merchant).count() == 1
    assert [sms["to"] for sms in MemoryBackend.outbox] == ["+60123456789"]


def test_a_manager_downloads_the_poster_on_a_phone(open_tab, manager, merchant):
    tab = open_tab("poster")
    page = tab.page
    sign_in(page, manager.user.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign-up poster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-up poster")
    expect(page.locator(".poster-qr svg")).to_be_visible()
    tab.check("poster-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download poster (PDF, A4)").click()
    assert download.value.suggested_filename == f"signup-poster-{merchant.slug}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
