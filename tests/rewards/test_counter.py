"""The counter: find or enrol a customer, the member's panel and its actions, the location.

Each action writes what it says, at the counter's location, once per form key, or shows why not and
writes nothing; every view that takes an id answers 404 for another shop's object.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import Card, CardStatus, ConsentEvent, Member
from members.services import card_link
from merchants.actors import Actor
from merchants.models import AuditLog, Role
from rewards import ledger
from rewards.counter import LOCATION
from rewards.models import Account, PointsEntry, Purchase, Redemption, Refund, VoucherStatus
from tests.factories import LocationFactory, MemberFactory, RewardFactory, StaffFactory

from .conftest import assert_ledger_consistent, ledger_snapshot

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
COUNTER = reverse("rewards:counter")
ENROL = reverse("rewards:counter_enrol")


def panel_url(member: Member, name: str = "counter_member", *args: int) -> str:
    return reverse(f"rewards:{name}", args=[member.pk, *args])


def members_snapshot() -> dict[str, object]:
    """What a refused enrolment or card change must leave as it was."""
    return {
        "members": sorted(Member.objects.values_list("pk", "phone", "email")),
        "cards": sorted(Card.objects.values_list("pk", "number", "status", "member_id")),
        "consents": ConsentEvent.objects.count(),
        "accounts": Account.objects.count(),
        "audit": AuditLog.objects.count(),
    }


def enrol_data(**fields: str) -> dict[str, str]:
    return {"key": "k-enrol", "first_name": "Ali", "last_name": "Hassan", "phone": "012-345 6789"} | fields


@pytest.fixture
def siti(merchant, program) -> Member:
    return MemberFactory(merchant=merchant, first_name="Siti", last_name="Aminah", phone="+60123456789")


@pytest.fixture
def rich_siti(siti, give) -> Member:
    give(siti, 200)
    return siti


@pytest.fixture
def mug(merchant):
    return RewardFactory(merchant=merchant, name="Mug", points_cost=100)


# ---------------------------------------------------------------------------------------------
# The screen


def test_counter_shows_the_location_and_the_cashier_with_the_search_box_focused(cashier_client, cashier, program):
    response = cashier_client.get(COUNTER)

    assert response.status_code == 200
    assert "SS2" in response.text
    assert str(cashier.user) in response.text
    assert 'id="counter-q"' in response.text
    start = response.text.index('id="counter-q"')
    search = response.text[start : response.text.index(">", start)]
    assert "autofocus" in search
    assert 'hx-trigger="input changed delay:200ms, search"' in search


def test_counter_sends_strangers_to_sign_in(client):
    response = client.get(COUNTER)

    assert response.status_code == 302
    assert response.url.startswith(reverse("merchants:login"))


@pytest.mark.parametrize("client_name", ["cashier_client", "manager_client", "owner_client"])
def test_counter_is_the_first_link_of_the_navigation_for_all_staff(request, client_name, program):
    response = request.getfixturevalue(client_name).get(reverse("members:list"))

    nav = response.text[response.text.index('<nav class="nav"') : response.text.index("</nav>")]
    first_link = nav[nav.index("<a ") : nav.index("</a>")]
    assert f'href="{COUNTER}"' in first_link


def test_a_cashiers_home_opens_the_counter(cashier_client):
    response = cashier_client.get(reverse("merchants:home"))

    assert f'href="{COUNTER}"' in response.text
    assert "Open the counter" in response.text


# ---------------------------------------------------------------------------------------------
# Search as you type, scanned cards


def test_search_as_you_type_answers_with_the_fragment_of_matches(cashier_client, siti):
    MemberFactory(merchant=siti.merchant, first_name="Kumar", phone="+60199990000")

    response = cashier_client.get(COUNTER, {"q": "sit"}, headers=HTMX)

    assert response.text.lstrip().startswith('<div id="counter-main"')
    assert "<html" not in response.text
    assert "Siti Aminah" in response.text
    assert "Kumar" not in response.text
    assert panel_url(siti) in response.text
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("query", ["012-345 6789", "+60 12 345 6789", "6789", "siti am"])
def test_search_finds_a_member_by_phone_in_any_format_its_last_digits_or_name(cashier_client, siti, query):
    response = cashier_client.get(COUNTER, {"q": query}, headers=HTMX)

    assert [m.pk for m in response.context["found"]] == [siti.pk]


def test_search_never_shows_another_shops_members(cashier_client, siti, other_merchant):
    MemberFactory(merchant=other_merchant, first_name="Siti", last_name="Other")

    response = cashier_client.get(COUNTER, {"q": "siti"}, headers=HTMX)

    assert [m.pk for m in response.context["found"]] == [siti.pk]


def test_search_takes_a_bounded_number_of_queries(cashier_client, merchant, program, django_assert_max_num_queries):
    MemberFactory.create_batch(30, merchant=merchant, first_name="Siti")

    # Session, user, memberships, locations, the card lookups, the search: the same for 3 or 30.
    with django_assert_max_num_queries(7):
        response = cashier_client.get(COUNTER, {"q": "siti"}, headers=HTMX)

    assert len(response.context["found"]) == 10
    assert response.context["more"]


def test_a_scanned_card_number_and_enter_opens_the_member_at_once(cashier_client, siti):
    response = cashier_client.get(COUNTER, {"q": siti.card_number.lower(), "open": "1"}, headers=HTMX)

    assert response.context["member"] == siti
    assert 'id="counter-member"' in response.text
    assert response["HX-Push-Url"] == panel_url(siti)


def test_a_card_number_typed_without_enter_lists_its_member(cashier_client, siti):
    response = cashier_client.get(COUNTER, {"q": siti.card_number}, headers=HTMX)

    assert "member" not in response.context
    assert response.context["found"] == [siti]


def test_a_scanned_card_number_without_script_redirects_to_the_members_panel(cashier_client, siti):
    response = cashier_client.get(COUNTER, {"q": siti.card_number, "open": "1"})

    assert response.status_code == 302
    assert response.url == panel_url(siti)


def test_a_linked_physical_card_opens_its_member(cashier_client, siti, cashier_actor):
    card_link(member=siti, number="PHYS0001", actor=cashier_actor)

    listed = cashier_client.get(COUNTER, {"q": "phys0001"}, headers=HTMX)
    opened = cashier_client.get(COUNTER, {"q": "phys0001", "open": "1"}, headers=HTMX)

    assert listed.context["found"] == [siti]
    assert opened.context["member"] == siti


def test_a_blocked_card_says_so_and_opens_nobody(cashier_client, siti, cashier_actor):
    card = card_link(member=siti, number="LOST0001", actor=cashier_actor)
    Card.objects.filter(pk=card.pk).update(status=CardStatus.BLOCKED)

    response = cashier_client.get(COUNTER, {"q": "LOST0001", "open": "1"}, headers=HTMX)

    assert "member" not in response.context
    assert "Card LOST0001 is blocked" in response.text


def test_nobody_found_offers_enrolment_with_what_was_typed(cashier_client, program):
    response = cashier_client.get(COUNTER, {"q": "012 999 8888"}, headers=HTMX)

    assert "No member matches" in response.text
    form = response.context["enrol_form"]
    assert form["phone"].value() == "012 999 8888"
    assert 'name="email_consent"' in response.text
    assert "checked" not in response.text  # marketing consent is never ticked for the customer


# ---------------------------------------------------------------------------------------------
# Enrolment


def test_enrol_creates_the_member_links_their_card_and_opens_the_panel_on_the_amount(
    cashier_client, cashier, merchant, program, django_capture_on_commit_callbacks, mailoutbox
):
    data = enrol_data(email="Ali@Example.com", email_consent="on", card="NEWCARD01")

    with django_capture_on_commit_callbacks(execute=True):
        response = cashier_client.post(ENROL, data, headers=HTMX)

    member = Member.objects.get(merchant=merchant)
    assert (member.name, member.phone, member.email, member.source) == (
        "Ali Hassan",
        "+60123456789",
        "ali@example.com",
        "counter",
    )
    assert member.location == merchant.locations.get()
    assert member.enrolled_by == cashier.user
    consent = ConsentEvent.objects.get(member=member)
    assert (consent.channel, consent.granted, consent.source, consent.collected_by) == (
        "email",
        True,
        "counter",
        cashier.user,
    )
    assert not member.sms_consent
    assert Card.objects.get(number="NEWCARD01").member == member
    assert [m.to for m in mailoutbox] == [["ali@example.com"]]  # the private card link
    assert response["HX-Push-Url"] == panel_url(member)
    amount = response.text[response.text.index('name="amount"') - 300 : response.text.index('name="amount"') + 400]
    assert "autofocus" in amount


def test_enrol_posted_twice_with_the_same_key_enrols_once(cashier_client, merchant, program):
    for _ in range(2):
        response = cashier_client.post(ENROL, enrol_data(), headers=HTMX)

    assert Member.objects.filter(merchant=merchant).count() == 1
    assert response.context["member"] == Member.objects.get(merchant=merchant)


def test_enrol_without_script_redirects_to_the_panel(cashier_client, merchant, program):
    response = cashier_client.post(ENROL, enrol_data())

    assert response.status_code == 302
    assert response.url == panel_url(Member.objects.get(merchant=merchant))


@pytest.mark.parametrize("phone", ["12", "not a phone", "+60 1"])
def test_enrol_with_a_malformed_phone_says_so_next_to_it_and_creates_nothing(cashier_client, program, phone):
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(phone=phone), headers=HTMX)

    assert response.context["enrol_form"].errors["phone"]
    assert "is not" in response.text
    assert members_snapshot() == before


def test_enrol_with_a_phone_that_is_taken_offers_that_member(cashier_client, siti):
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(phone="0123456789"), headers=HTMX)

    assert "Siti Aminah already has this phone number." in response.text
    assert f'href="{panel_url(siti)}"' in response.text
    assert members_snapshot() == before


def test_enrol_with_an_email_of_another_member_offers_that_member(cashier_client, siti):
    Member.objects.filter(pk=siti.pk).update(email="siti@example.com")
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(phone="", email="SITI@example.com"), headers=HTMX)

    assert "Siti Aminah already has this email." in response.text
    assert response.context["existing"] == siti
    assert members_snapshot() == before


def test_enrol_with_an_unknown_referral_code_says_so_and_creates_nothing(cashier_client, program):
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(referral_code="NOSUCH"), headers=HTMX)

    assert response.context["enrol_form"].errors["referral_code"] == ["No member has the referral code “NOSUCH”."]
    assert members_snapshot() == before


def test_enrol_with_their_own_referral_code_offers_the_member_they_already_are(cashier_client, siti):
    before = members_snapshot()

    response = cashier_client.post(
        ENROL, enrol_data(phone="012-345 6789", referral_code=siti.referral_code), headers=HTMX
    )

    assert response.context["existing"] == siti
    assert members_snapshot() == before


def test_enrol_with_a_blocked_card_says_so_and_creates_nothing(cashier_client, siti, cashier_actor):
    card = card_link(member=siti, number="LOST0002", actor=cashier_actor)
    Card.objects.filter(pk=card.pk).update(status=CardStatus.BLOCKED)
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(phone="0199998888", card="LOST0002"), headers=HTMX)

    assert "blocked" in response.context["enrol_form"].errors["card"][0]
    assert members_snapshot() == before


def test_enrol_with_another_members_card_says_so_and_creates_nothing(cashier_client, siti):
    before = members_snapshot()

    response = cashier_client.post(ENROL, enrol_data(phone="0199998888", card=siti.card_number), headers=HTMX)

    assert "already belongs to another member" in response.context["enrol_form"].errors["card"][0]
    assert members_snapshot() == before


# ---------------------------------------------------------------------------------------------
# The panel: purchase, redeem, vouchers


def test_member_panel_has_its_own_page_with_a_real_url(cashier_client, rich_siti, mug):
    response = cashier_client.get(panel_url(rich_siti))

    assert response.status_code == 200
    assert "<html" in response.text
    assert "200 points" in response.text
    assert "Mug" in response.text  # a reward they can afford
    assert reverse("rewards:purchase_preview", args=[rich_siti.pk]) in response.text


def test_member_panel_takes_a_bounded_number_of_queries(
    cashier_client, rich_siti, mug, cashier_actor, django_assert_max_num_queries
):
    for n in range(5):
        ledger.purchase_record(member=rich_siti, amount=Decimal(10 + n), actor=cashier_actor)
    ledger.reward_redeem(member=rich_siti, reward=mug, actor=cashier_actor)

    with django_assert_max_num_queries(16):
        response = cashier_client.get(panel_url(rich_siti), headers=HTMX)

    assert response.status_code == 200


def test_purchase_is_recorded_at_the_counters_location_by_the_cashier(cashier_client, siti, cashier, merchant):
    response = cashier_client.post(panel_url(siti, "counter_purchase"), {"key": "k1", "amount": "25.90"}, headers=HTMX)

    purchase = Purchase.objects.get(account__member=siti)
    assert (purchase.amount, purchase.points) == (Decimal("25.90"), 25)
    assert purchase.location == merchant.locations.get()
    assert purchase.actor_user == cashier.user
    assert PointsEntry.objects.get(purchase=purchase).location == merchant.locations.get()
    assert "Purchase of RM25.90 recorded: 25 points earned." in response.text
    assert "data-focus-search" in response.text  # the next scan goes to the search box


def test_purchase_posted_twice_with_the_same_key_records_once(cashier_client, siti):
    for _ in range(2):
        cashier_client.post(panel_url(siti, "counter_purchase"), {"key": "k1", "amount": "25.90"}, headers=HTMX)

    assert Purchase.objects.filter(account__member=siti).count() == 1
    assert Account.objects.get(member=siti).balance == 25


@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "12.345"])
def test_purchase_with_a_bad_amount_says_why_and_writes_nothing(cashier_client, siti, amount):
    before = ledger_snapshot()

    response = cashier_client.post(panel_url(siti, "counter_purchase"), {"key": "k1", "amount": amount}, headers=HTMX)

    assert response.context["purchase_form"].errors
    assert ledger_snapshot() == before


def test_redeem_issues_a_voucher_and_takes_the_points(cashier_client, rich_siti, mug, merchant):
    response = cashier_client.post(panel_url(rich_siti, "counter_redeem", mug.pk), {"key": "r1"}, headers=HTMX)

    voucher = Redemption.objects.get(account__member=rich_siti)
    assert voucher.location == merchant.locations.get()
    assert Account.objects.get(member=rich_siti).balance == 100
    assert f"Voucher {voucher.code} issued for “Mug”." in response.text


def test_redeem_posted_twice_with_the_same_key_redeems_once(cashier_client, rich_siti, mug):
    for _ in range(2):
        cashier_client.post(panel_url(rich_siti, "counter_redeem", mug.pk), {"key": "r1"}, headers=HTMX)

    assert Redemption.objects.filter(account__member=rich_siti).count() == 1


def test_redeem_above_the_balance_says_so_and_writes_nothing(cashier_client, siti, mug):
    before = ledger_snapshot()

    response = cashier_client.post(panel_url(siti, "counter_redeem", mug.pk), {"key": "r1"}, headers=HTMX)

    assert "needs 100" in response.text
    assert ledger_snapshot() == before


def test_mark_voucher_used(cashier_client, rich_siti, mug, cashier_actor):
    voucher = ledger.reward_redeem(member=rich_siti, reward=mug, actor=cashier_actor)

    response = cashier_client.post(panel_url(rich_siti, "counter_voucher_use", voucher.pk), {"key": "u1"}, headers=HTMX)

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.USED
    assert f"Voucher {voucher.code} marked used." in response.text


@pytest.mark.parametrize(
    ("stale", "message"),
    [
        ({"status": VoucherStatus.USED, "used_at": timezone.now()}, "was already used"),
        ({"status": VoucherStatus.VOIDED}, "was voided"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "has expired"),
    ],
)
def test_a_stale_voucher_is_refused_with_the_reason(cashier_client, rich_siti, mug, cashier_actor, stale, message):
    voucher = ledger.reward_redeem(member=rich_siti, reward=mug, actor=cashier_actor)
    Redemption.objects.filter(pk=voucher.pk).update(**stale)
    before = ledger_snapshot()

    response = cashier_client.post(panel_url(rich_siti, "counter_voucher_use", voucher.pk), {"key": "u1"}, headers=HTMX)

    assert message in response.text
    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Physical cards from the panel


def test_link_a_card_to_the_member(cashier_client, siti):
    cashier_client.post(panel_url(siti, "counter_card_link"), {"key": "c1", "number": "abc123"}, headers=HTMX)

    card = Card.objects.get(number="ABC123")
    assert (card.member, card.status) == (siti, CardStatus.ACTIVE)


def test_link_a_card_of_another_member_is_refused(cashier_client, siti, merchant, cashier_actor):
    other = MemberFactory(merchant=merchant)
    card_link(member=other, number="TAKEN01", actor=cashier_actor)
    before = members_snapshot()

    response = cashier_client.post(
        panel_url(siti, "counter_card_link"), {"key": "c1", "number": "TAKEN01"}, headers=HTMX
    )

    assert "already belongs to another member" in response.text
    assert members_snapshot() == before


def test_replace_a_lost_card_blocks_the_old_number(cashier_client, siti, cashier_actor):
    old = card_link(member=siti, number="OLD0001", actor=cashier_actor)

    cashier_client.post(
        panel_url(siti, "counter_card_replace", old.pk),
        {"key": "c2", "number": "NEW0001", "reason": "lost"},
        headers=HTMX,
    )

    old.refresh_from_db()
    assert (old.status, old.blocked_reason) == (CardStatus.BLOCKED, "lost")
    assert Card.objects.get(number="NEW0001").member == siti
    assert AuditLog.objects.filter(action="card.replace", object_id=str(old.pk)).exists()


def test_replace_posted_twice_with_the_same_key_replaces_once(cashier_client, siti, cashier_actor):
    old = card_link(member=siti, number="OLD0002", actor=cashier_actor)
    url = panel_url(siti, "counter_card_replace", old.pk)

    for _ in range(2):
        cashier_client.post(url, {"key": "c3", "number": "NEW0002"}, headers=HTMX)

    assert AuditLog.objects.filter(action="card.replace").count() == 1


# ---------------------------------------------------------------------------------------------
# Undo from the panel


def test_the_last_purchase_can_be_undone_by_the_cashier_who_recorded_it(cashier_client, siti):
    cashier_client.post(panel_url(siti, "counter_purchase"), {"key": "k1", "amount": "30"}, headers=HTMX)
    purchase = Purchase.objects.get(account__member=siti)
    panel = cashier_client.get(panel_url(siti), headers=HTMX)
    undo_url = panel_url(siti, "counter_purchase_undo", purchase.pk)
    assert f'hx-post="{undo_url}"' in panel.text

    response = cashier_client.post(undo_url, {"key": "u1"}, headers=HTMX)

    assert "Purchase undone: 30 points taken back." in response.text
    assert Account.objects.get(member=siti).balance == 0
    assert f'hx-post="{undo_url}"' not in response.text  # undone: nothing left to undo


def test_a_colleagues_purchase_cannot_be_undone_by_a_cashier(cashier_client, siti, merchant):
    colleague = Actor.for_staff(StaffFactory(merchant=merchant, role=Role.CASHIER))
    purchase = ledger.purchase_record(member=siti, amount=Decimal(30), actor=colleague)
    panel = cashier_client.get(panel_url(siti), headers=HTMX)
    assert "Only a manager can undo it now." in panel.text
    before = ledger_snapshot()

    response = cashier_client.post(panel_url(siti, "counter_purchase_undo", purchase.pk), {"key": "u1"}, headers=HTMX)

    assert "Only a manager can undo this" in response.text
    assert ledger_snapshot() == before


def test_a_manager_undoes_an_old_redemption(manager_client, rich_siti, mug, cashier_actor):
    voucher = ledger.reward_redeem(member=rich_siti, reward=mug, actor=cashier_actor)
    Redemption.objects.filter(pk=voucher.pk).update(created_at=timezone.now() - timedelta(hours=3))

    manager_client.post(panel_url(rich_siti, "counter_redemption_undo", voucher.pk), {"key": "u1"}, headers=HTMX)

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.VOIDED
    assert Account.objects.get(member=rich_siti).balance == 200
    assert_ledger_consistent(Account.objects.get(member=rich_siti))


# ---------------------------------------------------------------------------------------------
# The location


@pytest.fixture
def two_locations(merchant):
    return [merchant.locations.get(), LocationFactory(merchant=merchant, name="Damansara")]


def test_a_shop_with_several_locations_asks_where_the_counter_is_first(cashier_client, two_locations, siti):
    response = cashier_client.get(COUNTER)

    assert "Where are you serving?" in response.text
    assert 'id="counter-q"' not in response.text
    assert cashier_client.get(panel_url(siti)).url == COUNTER  # no panel before the location is known


def test_the_chosen_location_is_recorded_on_every_action(cashier_client, two_locations, siti):
    _ss2, damansara = two_locations
    cashier_client.post(reverse("rewards:counter_location"), {"key": "l1", "location": damansara.pk})

    cashier_client.post(panel_url(siti, "counter_purchase"), {"key": "k1", "amount": "10"}, headers=HTMX)

    assert cashier_client.session[LOCATION] == damansara.pk
    assert Purchase.objects.get(account__member=siti).location == damansara
    assert "Damansara" in cashier_client.get(COUNTER).text


# ---------------------------------------------------------------------------------------------
# Another shop's ids: 404 and nothing changes


def test_every_counter_view_is_404_for_another_shops_objects_and_changes_nothing(
    cashier_client, rich_siti, mug, other_merchant
):
    owner = Actor.for_staff(StaffFactory(merchant=other_merchant, role=Role.OWNER))
    stranger = MemberFactory(merchant=other_merchant)
    ledger.points_adjust(member=stranger, points=500, reason="x", actor=owner, idempotency_key="x")
    reward = RewardFactory(merchant=other_merchant, points_cost=10)
    purchase = ledger.purchase_record(member=stranger, amount=Decimal(50), actor=owner)
    voucher = ledger.reward_redeem(member=stranger, reward=reward, actor=owner)
    card = card_link(member=stranger, number="THEIRS1", actor=owner)
    location = other_merchant.locations.get()
    own, m = rich_siti, stranger
    requests = [
        ("get", panel_url(m), {}),
        ("post", panel_url(m, "counter_purchase"), {"key": "x1", "amount": "10"}),
        ("post", panel_url(m, "counter_redeem", reward.pk), {"key": "x2"}),
        ("post", panel_url(own, "counter_redeem", reward.pk), {"key": "x3"}),
        ("post", panel_url(m, "counter_redeem", mug.pk), {"key": "x4"}),
        ("post", panel_url(m, "counter_voucher_use", voucher.pk), {"key": "x5"}),
        ("post", panel_url(own, "counter_voucher_use", voucher.pk), {"key": "x6"}),
        ("post", panel_url(m, "counter_card_link"), {"key": "x7", "number": "MINE0001"}),
        ("post", panel_url(m, "counter_card_replace", card.pk), {"key": "x8", "number": "MINE0002"}),
        ("post", panel_url(own, "counter_card_replace", card.pk), {"key": "x9", "number": "MINE0003"}),
        ("post", panel_url(m, "counter_purchase_undo", purchase.pk), {"key": "x10"}),
        ("post", panel_url(own, "counter_purchase_undo", purchase.pk), {"key": "x11"}),
        ("post", panel_url(m, "counter_redemption_undo", voucher.pk), {"key": "x12"}),
        ("post", panel_url(own, "counter_redemption_undo", voucher.pk), {"key": "x13"}),
        ("post", reverse("rewards:counter_location"), {"key": "x14", "location": location.pk}),
    ]
    before = ledger_snapshot() | members_snapshot() | {"refunds": Refund.objects.count()}

    for method, url, data in requests:
        response = getattr(cashier_client, method)(url, data, headers=HTMX)
        assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"

    assert ledger_snapshot() | members_snapshot() | {"refunds": Refund.objects.count()} == before
    assert LOCATION not in cashier_client.session


def test_another_shops_card_number_opens_nobody(cashier_client, program, other_merchant):
    stranger = MemberFactory(merchant=other_merchant)

    response = cashier_client.get(COUNTER, {"q": stranger.card_number, "open": "1"}, headers=HTMX)

    assert "member" not in response.context
    assert response.context["found"] == []
