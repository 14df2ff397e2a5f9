"""Segments in a real browser on a phone: a ready-made segment, then the count follows the form."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rewards.models import Account
from tests.factories import MemberFactory, ProgramFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e


def test_owner_starts_from_a_ready_made_segment_and_the_count_follows(open_tab, owner, merchant):
    ProgramFactory(merchant=merchant)
    long_ago = timezone.now() - timezone.timedelta(days=300)
    for balance in (10, 200, 400):
        member = MemberFactory(merchant=merchant, joined_at=long_ago)
        Account.objects.create(
            merchant=merchant, member=member, balance=balance, purchase_count=2, last_purchase_at=long_ago
        )
    tab = open_tab("segments")
    page = tab.page
    sign_in(page, owner.user.email)
    page.goto("/campaigns/segments/")
    page.get_by_role("button", name="Lapsed: no purchase in the last 120 days").click()

    expect(page.get_by_role("heading", name="Lapsed", level=1)).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Lapsed")  # the saved choices fill the form
    expect(page.get_by_label("No purchase in the last … days")).to_have_value("120")
    expect(page.locator("#segment-count")).to_have_text("3 members match")
    page.get_by_label("Points balance from").fill("150")
    expect(page.locator("#segment-count")).to_have_text("2 members match")  # live, without saving
    tab.check("segment-edit")  # no sideways scrolling on the phone, no console errors
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Segment “Lapsed” saved.")).to_be_visible()
    expect(page.get_by_text("2 members")).to_be_visible()
