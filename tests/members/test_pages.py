"""Member pages: the list with search as you type, and adding a member at the counter."""

import pytest
from django.test import Client
from django.urls import reverse

from members.models import Member
from rewards.ledger import program_for
from rewards.models import Account
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Session, user and memberships, then the count and the page of members: the same for 3 rows or 30.
MAX_QUERIES = 6


def enrol_data(**fields: str) -> dict[str, str]:
    return {"key": "k-enrol-1", "first_name": "Aisyah", "last_name": "Rahman", "phone": "012-345 6789"} | fields


def test_member_list_renders_for_a_cashier_in_a_few_queries(cashier_client, merchant, django_assert_max_num_queries):
    MemberFactory.create_batch(30, merchant=merchant)

    with django_assert_max_num_queries(MAX_QUERIES):
        response = cashier_client.get(reverse("members:list"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25


def test_member_list_sends_strangers_to_sign_in(client):
    response = client.get(reverse("members:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("merchants:login"))


def test_member_list_shows_only_this_shops_members(cashier_client, merchant, other_merchant):
    MemberFactory(merchant=merchant, first_name="Siti")
    MemberFactory(merchant=other_merchant, first_name="Somchai")

    response = cashier_client.get(reverse("members:list"))

    assert "Siti" in response.text
    assert "Somchai" not in response.text


def test_member_search_finds_by_name_prefix(cashier_client, merchant):
    MemberFactory(merchant=merchant, first_name="Siti", last_name="Aminah")
    MemberFactory(merchant=merchant, first_name="Kumar", last_name="Raj")

    response = cashier_client.get(reverse("members:list"), {"q": "sit"})

    assert [m.first_name for m in response.context["page"]] == ["Siti"]


def test_member_search_as_you_type_returns_only_the_results_partial(cashier_client, merchant):
    MemberFactory(merchant=merchant, first_name="Siti", phone="+60123456789")

    response = cashier_client.get(reverse("members:list"), {"q": "0123456789"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="member-rows"')
    assert "<html" not in response.text
    assert "Siti" in response.text
    assert "HX-Request" in response.get("Vary", "")


def test_member_search_with_no_match_offers_to_add_them_prefilled(cashier_client, merchant):
    response = cashier_client.get(reverse("members:list"), {"q": "012 999 8888"})

    assert "No member matches" in response.text
    assert reverse("members:create") + "?phone=012+999+8888" in response.text


def test_add_member_page_renders_with_a_fresh_key(cashier_client):
    first = cashier_client.get(reverse("members:create"))
    second = cashier_client.get(reverse("members:create"))

    assert first.status_code == 200
    assert first.context["form"]["key"].value() != second.context["form"]["key"].value()


def test_add_member_enrols_them_and_opens_their_page(cashier_client, merchant, cashier):
    program = program_for(merchant)
    program.welcome_bonus = 50
    program.save()

    response = cashier_client.post(reverse("members:create"), enrol_data())

    member = Member.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response.url == reverse("rewards:member", args=[member.pk])
    assert (member.name, member.phone, member.enrolled_by) == ("Aisyah Rahman", "+60123456789", cashier.user)
    assert Account.objects.get(member=member).balance == 50


def test_add_member_posted_twice_with_the_same_key_enrols_once(cashier_client, merchant):
    data = enrol_data(phone="")  # only a name: nothing in the data itself would stop a duplicate

    first = cashier_client.post(reverse("members:create"), data)
    second = cashier_client.post(reverse("members:create"), data)

    assert Member.objects.filter(merchant=merchant).count() == 1
    assert first.url == second.url


def test_add_member_with_a_phone_another_member_has_says_who_and_writes_nothing(cashier_client, merchant):
    MemberFactory(merchant=merchant, first_name="Mei", last_name="Ling", phone="+60123456789")

    response = cashier_client.post(reverse("members:create"), enrol_data())

    assert response.status_code == 200
    assert "Mei Ling already has this phone number or email." in response.text
    assert Member.objects.filter(merchant=merchant).count() == 1


def test_add_member_with_a_bad_phone_shows_the_error_on_the_phone_field(cashier_client, merchant):
    response = cashier_client.post(reverse("members:create"), enrol_data(phone="12"))

    assert response.context["form"].errors["phone"] == ["“12” is not a valid phone number for MY or abroad."]
    assert not Member.objects.exists()


def test_add_member_with_nothing_filled_in_says_what_is_needed(cashier_client):
    response = cashier_client.post(reverse("members:create"), {"key": "k-empty"})

    assert "Give at least a name, a phone number or an email." in response.text
    assert not Member.objects.exists()


def test_add_member_refused_to_someone_without_a_shop(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())

    response = client.post(reverse("members:create"), enrol_data())

    assert response.status_code == 302
    assert response.url == reverse("merchants:merchant_create")
    assert not Member.objects.exists()
