"""The counter in a real browser, on a tablet and on a phone, from the keyboard where a cashier would:
a new customer is enrolled, their first purchase recorded (the points shown before it is confirmed),
a reward redeemed, undone and redeemed again, the voucher used, and the customer's card scanned."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Card, ConsentEvent, Member
from rewards.models import Account, Purchase, Redemption, VoucherStatus
from tests.factories import LocationFactory, MemberFactory, ProgramFactory, RewardFactory

from .conftest import PHONE, Tab
from .test_console import sign_in

pytestmark = pytest.mark.e2e

TABLET = {"width": 1180, "height": 820}  # a 10.9" tablet in landscape, on the counter


@pytest.fixture
def open_device(browser, live_server, settings):
    """open_device("counter-tablet", TABLET): a signed-out person on a device of that size."""
    settings.SITE_URL = live_server.url
    contexts = []

    def open_device(name: str, viewport: dict[str, int]) -> Tab:
        context = browser.new_context(viewport=viewport, locale="en-US", base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Tab(context, live_server.url, name)

    yield open_device
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("device", "viewport"), [("tablet", TABLET), ("phone", PHONE)])
def test_cashier_enrols_a_customer_records_a_purchase_and_redeems_at_the_counter(
    open_device, cashier, merchant, device, viewport
):
    ProgramFactory(merchant=merchant, welcome_bonus=50)
    RewardFactory(merchant=merchant, name="Free wash", points_cost=60)
    tab = open_device(f"counter-{device}", viewport)
    page = tab.page
    sign_in(page, cashier.user.email)
    page.get_by_role("link", name="Open the counter").click()

    # The search box has the cursor: the cashier types the customer's number as they say it.
    search = page.get_by_role("searchbox", name="Find a customer")
    expect(search).to_be_focused()
    expect(page.locator(".counter-who")).to_contain_text("SS2")
    tab.check("empty")
    with page.expect_request(re.compile(r"/counter/\?q=012-345(\+|%20)6789$")) as typed:
        page.keyboard.type("012-345 6789")
    assert typed.value.headers["hx-request"] == "true"
    main = page.locator("#counter-main")
    expect(main).to_contain_text("No member matches “012-345 6789”.")
    expect(page.get_by_label("Phone")).to_have_value("012-345 6789")
    expect(page.get_by_label("Offers by email")).not_to_be_checked()
    tab.check("not-found")

    # Screen two: the enrolment form under the search box, from the keyboard; Enter submits.
    page.keyboard.press("Tab")  # the Find button
    page.keyboard.press("Tab")
    expect(page.get_by_label("First name")).to_be_focused()
    page.keyboard.type("Ali")
    page.keyboard.press("Tab")
    page.keyboard.type("Hassan")
    page.get_by_label("Offers by SMS").focus()
    page.keyboard.press("Space")
    tab.check("enrol-filled")
    page.keyboard.press("Enter")

    # Screen three: the member's panel, the cursor in the amount, the points shown before confirming.
    expect(page.get_by_role("heading", name="Ali Hassan")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Ali Hassan is now a member.")
    member = Member.objects.get(merchant=merchant)
    expect(page).to_have_url(re.compile(rf"/counter/members/{member.pk}/$"))
    amount = page.get_by_label("Amount")
    expect(amount).to_be_focused()
    balance = page.locator("#balance .balance")
    expect(balance).to_have_text("50 points")
    tab.check("enrolled")
    with page.expect_request(re.compile(r"/purchase/preview/\?amount=25\.90$")):
        page.keyboard.type("25.90")
    expect(page.locator("#purchase-preview")).to_have_text("Earns 25 points")
    tab.check("purchase-preview")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Purchase of RM25.90 recorded: 25 points earned.")
    expect(balance).to_have_text("75 points")
    expect(search).to_be_focused()  # the next customer's scan lands in the search box
    tab.check("purchase-recorded")

    # Redeem the reward, undo it (a mistake), redeem it again and use the voucher.
    panel = page.locator("#counter-member")
    panel.locator("#rewards li", has_text="Free wash").get_by_role("button", name="Redeem").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("issued for “Free wash”")
    expect(balance).to_have_text("15 points")
    expect(search).to_be_focused()
    tab.check("redeemed")
    panel.locator(".last-action").get_by_role("button", name="Undo").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Reward undone")
    expect(balance).to_have_text("75 points")
    panel.locator("#rewards li", has_text="Free wash").get_by_role("button", name="Redeem").click()
    expect(balance).to_have_text("15 points")
    # After a reward the page moves the cursor to the search box once the answer settles: wait for
    # that move before the cashier's next key, or it would take the focus from under the key.
    expect(search).to_be_focused()
    panel.locator("#vouchers").get_by_role("button", name="Mark used").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("marked used")
    expect(panel.locator("#vouchers")).to_contain_text("No vouchers to use.")
    tab.check("voucher-used")

    # The next visit: the scanner types the card number and Enter, and the member opens at once.
    page.get_by_role("link", name="Next customer").click()
    expect(search).to_be_focused()
    page.keyboard.type(member.card_number)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ali Hassan")).to_be_visible()
    page.wait_for_timeout(500)  # past the as-you-type delay: the list must not come back over the member
    expect(page.get_by_role("heading", name="Ali Hassan")).to_be_visible()
    expect(amount).to_be_focused()
    expect(balance).to_have_text("15 points")
    tab.check("scanned")

    member.refresh_from_db()
    assert (member.phone, member.source, member.sms_consent, member.email_consent) == (
        "+60123456789",
        "counter",
        True,
        False,
    )
    assert ConsentEvent.objects.get(member=member).collected_by == cashier.user
    purchase = Purchase.objects.get(account__member=member)
    assert (purchase.points, purchase.location, purchase.actor_user) == (25, merchant.locations.get(), cashier.user)
    assert sorted(Redemption.objects.filter(account__member=member).values_list("status", flat=True)) == [
        VoucherStatus.USED,
        VoucherStatus.VOIDED,
    ]
    assert Account.objects.get(member=member).balance == 15


def test_owner_prints_cards_and_a_cashier_hands_one_out_on_a_phone(open_device, owner, cashier, merchant):
    ProgramFactory(merchant=merchant)
    LocationFactory(merchant=merchant, name="Damansara")
    siti = MemberFactory(merchant=merchant, first_name="Siti", last_name="Aminah", phone="+60123456789")
    owners = open_device("cards-owner", PHONE)
    page = owners.page
    sign_in(page, owner.user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cards").click()
    owners.check("cards-empty")
    page.get_by_label("How many cards").fill("12")
    page.get_by_role("button", name="Make cards to print").click()
    expect(page.locator(".print-card")).to_have_count(12)
    expect(page.locator(".print-card svg")).to_have_count(12)
    owners.check("print-sheet")
    page.get_by_role("link", name="All cards").click()
    expect(page.get_by_role("main")).to_contain_text("12 cards, 12 not handed out")
    owners.check("cards")
    number = Card.objects.filter(merchant=merchant).order_by("number").first().number

    # A shop with two locations: the cashier says where the counter is, once.
    cashiers = open_device("cards-cashier", PHONE)
    page = cashiers.page
    sign_in(page, cashier.user.email)
    page.goto("/counter/")
    expect(page.get_by_role("heading", name="Where are you serving?")).to_be_visible()
    cashiers.check("where")
    page.get_by_role("button", name="Damansara").click()
    search = page.get_by_role("searchbox", name="Find a customer")
    expect(search).to_be_focused()
    expect(page.locator(".counter-who")).to_contain_text("Damansara")

    # Siti gets the first printed card: typed into the card field, Enter links it.
    page.keyboard.type("Siti")
    page.locator("#counter-main").get_by_role("link", name=re.compile("Siti Aminah")).click()
    # The opened member panel puts the cursor in the amount field; move on once it has.
    expect(page.get_by_label("Amount")).to_be_focused()
    card_field = page.get_by_label("Card number")
    card_field.focus()
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Card {number} now belongs to Siti Aminah.")
    cashiers.check("card-linked")

    # Next time the card is scanned into the search box and Siti opens at once.
    page.get_by_role("link", name="Next customer").click()
    expect(search).to_be_focused()
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Siti Aminah")).to_be_visible()
    expect(page.locator("#counter-card")).to_contain_text(f"Card {number} is in use.")
    cashiers.check("card-scanned")
    assert Card.objects.get(number=number).member == siti
