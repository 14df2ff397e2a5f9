"""Physical cards in the owner's console: a batch of numbers, the A4 sheet to print, the list."""

import pytest
import segno
from django.urls import reverse

from members.models import Card, CardStatus
from members.services import card_link, card_replace, cards_create_batch, member_by_card
from merchants.actors import Actor
from merchants.models import AuditLog
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

CARDS = reverse("members:cards")
BATCH = reverse("members:card_batch")


@pytest.fixture
def actor(manager) -> Actor:
    return Actor.for_staff(manager)


def test_cards_page_opens_for_a_manager(manager_client):
    response = manager_client.get(CARDS)

    assert response.status_code == 200
    assert 'name="count"' in response.text


def test_cards_page_is_not_for_cashiers(cashier_client):
    assert cashier_client.get(CARDS).status_code == 403
    assert cashier_client.post(BATCH, {"key": "k1", "count": "10"}).status_code == 403
    assert Card.objects.count() == 0


def test_a_batch_makes_new_numbers_and_opens_their_print_sheet(manager_client, merchant):
    response = manager_client.post(BATCH, {"key": "k1", "count": "12"})

    cards = Card.objects.filter(merchant=merchant)
    assert cards.count() == 12
    assert {c.status for c in cards} == {CardStatus.UNASSIGNED}
    assert response.url == reverse("members:card_print", args=[cards.first().batch])
    assert AuditLog.objects.filter(merchant=merchant, action="card.batch").count() == 1


def test_a_batch_posted_twice_with_the_same_key_makes_one_batch(manager_client, merchant):
    for _ in range(2):
        response = manager_client.post(BATCH, {"key": "k1", "count": "10"})

    assert Card.objects.filter(merchant=merchant).count() == 10
    assert response.url == reverse("members:card_print", args=[Card.objects.first().batch])


@pytest.mark.parametrize("count", ["0", "501", "-3", "ten", ""])
def test_a_batch_of_an_impossible_size_says_so_and_makes_nothing(manager_client, count):
    response = manager_client.post(BATCH, {"key": "k1", "count": count})

    assert response.status_code == 200
    assert response.context["form"].errors["count"]
    assert Card.objects.count() == 0


def test_print_sheet_has_each_card_with_the_shop_name_a_qr_code_and_the_number(manager_client, merchant, actor):
    cards = cards_create_batch(merchant=merchant, count=12, actor=actor)

    response = manager_client.get(reverse("members:card_print", args=[cards[0].batch]))

    assert response.status_code == 200
    page = response.text
    assert page.count('class="print-card"') == 12
    assert page.count("<svg") == 12
    assert page.count('class="card-sheet"') == 2  # ten to an A4 sheet
    assert page.count(f'<span class="print-card-shop">{merchant.name}</span>') == 12
    for card in cards:
        assert f'<span class="print-card-number">{card.number}</span>' in page


def test_the_qr_code_holds_the_card_number(manager_client, merchant, actor):
    card = cards_create_batch(merchant=merchant, count=1, actor=actor)[0]

    response = manager_client.get(reverse("members:card_print", args=[card.batch]))

    # A full QR code (a scanner types what it holds: the number, then Enter), not a Micro QR.
    assert segno.make_qr(card.number, error="m").svg_inline(omitsize=True, border=2, svgclass="qr") in response.text


def test_print_sheet_of_another_shops_batch_is_404(manager_client, other_merchant):
    theirs = cards_create_batch(merchant=other_merchant, count=2, actor=Actor.system())

    response = manager_client.get(reverse("members:card_print", args=[theirs[0].batch]))

    assert response.status_code == 404


def test_card_list_shows_status_and_member_of_each_card(manager_client, merchant, actor):
    member = MemberFactory(merchant=merchant, first_name="Siti", last_name="Aminah")
    cards_create_batch(merchant=merchant, count=2, actor=actor)
    old = card_link(member=member, number="OLD0001", actor=actor)
    card_replace(card=old, new_number="NEW0001", actor=actor, reason="lost in the wash")

    response = manager_client.get(CARDS)

    page = response.text
    assert "Not handed out yet" in page
    assert "lost in the wash" in page
    assert "Blocked" in page
    assert reverse("rewards:counter_member", args=[member.pk]) in page
    assert "2 cards, 2 not handed out" in page


def test_card_list_shows_only_this_shops_cards(manager_client, merchant, other_merchant, actor):
    cards_create_batch(merchant=other_merchant, count=3, actor=Actor.system())

    response = manager_client.get(CARDS)

    assert list(response.context["page"]) == []


def test_card_list_takes_a_bounded_number_of_queries(manager_client, merchant, actor, django_assert_max_num_queries):
    cards_create_batch(merchant=merchant, count=30, actor=actor)
    for n in range(10):
        card_link(member=MemberFactory(merchant=merchant), number=f"LINK{n:04}", actor=actor)

    with django_assert_max_num_queries(8):
        response = manager_client.get(CARDS)

    assert response.status_code == 200


def test_a_replaced_cards_number_opens_nobody_and_the_new_one_opens_the_member(merchant, actor):
    member = MemberFactory(merchant=merchant)
    old = card_link(member=member, number="OLD0002", actor=actor)

    card_replace(card=old, new_number="NEW0002", actor=actor)

    assert member_by_card(merchant=merchant, number="OLD0002") is None
    assert member_by_card(merchant=merchant, number="new0002") == member


def test_a_printed_card_is_handed_out_at_the_counter(cashier_client, merchant, actor):
    card = cards_create_batch(merchant=merchant, count=1, actor=actor)[0]
    member = MemberFactory(merchant=merchant)

    cashier_client.post(
        reverse("rewards:counter_card_link", args=[member.pk]),
        {"key": "k1", "number": card.number},
        headers={"HX-Request": "true"},
    )

    card.refresh_from_db()
    assert (card.member, card.status) == (member, CardStatus.ACTIVE)
    assert member_by_card(merchant=merchant, number=card.number) == member
