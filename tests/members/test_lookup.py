"""Finding a member at the counter: what the search matches, and on PostgreSQL, which index serves it."""

import pytest
from django.db import connection

from members.models import Card, Member
from members.selectors import member_search
from members.services import member_by_card
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def siti(merchant) -> Member:
    return MemberFactory(
        merchant=merchant, first_name="Siti", last_name="Aminah", phone="+60123456789", email="siti@example.com"
    )


@pytest.mark.parametrize("query", ["Sit", "amin", "siti am", "012-345 6789", "6789", "0123", "SITI@example.com"])
def test_search_finds_by_name_prefix_phone_fragment_or_email(siti, query):
    assert list(member_search(merchant=siti.merchant, query=query)) == [siti]


@pytest.mark.parametrize("query", ["iti", "0001", "789", "example.com"])
def test_search_ignores_what_says_too_little(siti, query):
    """Names match from their start; a phone needs four digits, three of them after a leading 0."""
    assert list(member_search(merchant=siti.merchant, query=query)) == []


@pytest.fixture
def crowded(siti) -> None:
    """A shop of 500 members, analysed: enough for the planner to tell a fitting index from a filter."""
    merchant = siti.merchant
    Member.objects.bulk_create(
        Member(
            merchant=merchant,
            first_name=f"Name{n}",
            last_name=f"Family{n}",
            phone=f"+6019{n:07d}",
            card_number=f"CARD{n:06d}",
            referral_code=f"REF{n:05d}",
        )
        for n in range(500)
    )
    Card.objects.bulk_create(Card(merchant=merchant, number=f"PRINT{n:05d}") for n in range(500))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
        cursor.execute("ANALYZE members_card")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("Sit", "member_first_name_prefix"),
        ("Amin", "member_last_name_prefix"),
        ("ABCDEFGHJK", "member_card_unique_per_merchant"),
        ("siti@example.com", "member_email_unique_per_merchant"),
    ],
)
def test_each_kind_of_search_uses_its_index(siti, crowded, query, index):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 500 rows fit in a few pages: reading them all is cheap
        plan = member_search(merchant=siti.merchant, query=query).explain()

    assert index in plan


@pytest.mark.postgres
def test_a_phone_fragment_can_use_the_trigram_index(crowded):
    # In a small shop the planner reads the shop's rows instead; at 100,000 it ORs this index in
    # (bench/lookup_bench.py shows the plan). Here: the index fits the search's LIKE '%...%'.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Member.objects.filter(phone__contains="6789").explain()

    assert "member_phone_trigram" in plan


@pytest.mark.postgres
def test_the_counters_phone_search_asks_the_trigram_index_not_the_whole_shop_newest_first(siti, crowded):
    """The counter's first page of a phone search is not a walk down the joined-date index, newest
    first, testing every member on the way (PostgreSQL's choice at 100,000 members: 90 ms, where
    the trigram index's few matches, sorted, take 2 to 5 ms; bench/lookup_bench.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = member_search(merchant=siti.merchant, query="012-345 6789")[:11].explain()

    assert "Backward using member_joined" not in plan


def test_a_phone_search_lists_the_newest_member_first(merchant):
    older = MemberFactory(merchant=merchant, phone="+60121116789")
    newer = MemberFactory(merchant=merchant, phone="+60122226789")
    Member.objects.filter(pk=older.pk).update(joined_at=newer.joined_at.replace(year=newer.joined_at.year - 1))

    assert list(member_search(merchant=merchant, query="6789")) == [newer, older]


@pytest.mark.postgres
def test_a_physical_card_lookup_uses_its_index(merchant, crowded):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Card.objects.for_merchant(merchant).filter(number="PRINT00042").explain()

    assert "card_number_unique_per_merchant" in plan


def test_a_card_number_typed_in_small_letters_finds_its_member(merchant):
    member = MemberFactory(merchant=merchant, card_number="ABCD123456")

    assert member_by_card(merchant=merchant, number=" abcd123456 ") == member


def test_an_email_typed_in_other_capitals_finds_its_member(merchant):
    member = MemberFactory(merchant=merchant, email="Siti.Aminah@Example.com")

    assert list(member_search(merchant=merchant, query="siti.aminah@example.COM")) == [member]
