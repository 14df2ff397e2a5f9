"""A campaign in a real browser on a phone: written, previewed, sent, with its progress."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Segment
from tests.factories import MemberFactory, ProgramFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e


def test_owner_writes_previews_and_sends_a_campaign(open_tab, owner, merchant, mailoutbox):
    ProgramFactory(merchant=merchant)
    Segment.objects.create(merchant=merchant, name="Everyone", rules={})
    MemberFactory(merchant=merchant, first_name="Aminah", email="aminah@example.com", email_consent=True)
    MemberFactory(merchant=merchant, first_name="Ben", email="ben@example.com", email_consent=False)
    tab = open_tab("campaigns")
    page = tab.page
    sign_in(page, owner.user.email)
    page.goto("/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name", exact=True).fill("We miss you")
    page.get_by_label("Audience").select_option(label="Everyone")
    page.get_by_label("Subject", exact=True).fill("A treat for {first_name}")
    page.get_by_label("Message", exact=True).fill("Hello {first_name}, you have {balance} points.")
    page.get_by_label("Offer", exact=True).select_option(label="Bonus points")
    page.get_by_label("Bonus points", exact=True).fill("20")
    page.get_by_label("Held out").fill("0")
    page.get_by_text("In Ukrainian").click()  # a folded section: the text in another language
    page.get_by_label("Message · Ukrainian").fill("Вітаємо, {first_name}!")
    page.get_by_role("button", name="Save and preview").click()

    expect(page.locator(".message-preview").first).to_contain_text("Hello Aminah, you have 0 points.")
    expect(page.locator(".message-preview[lang=uk]")).to_contain_text("Вітаємо, Aminah!")
    expect(page.get_by_text("1 member can get it now", exact=False)).to_be_visible()
    tab.check("campaign-draft")
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending: the numbers below fill in as it goes.")).to_be_visible()
    assert [message.to for message in mailoutbox] == [["aminah@example.com"]]
