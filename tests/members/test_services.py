"""Enrolment: phones in E.164 from the shop's country, no duplicates, referral codes, the welcome bonus."""

import random
import re

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from members.models import CODE_ALPHABET, Member, Source
from members.phones import PhoneReader, phone_normalize
from members.services import member_enroll
from merchants.actors import Actor
from rewards.models import Account, Kind, PointsEntry
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(cashier):
    return Actor.for_staff(cashier, location=cashier.merchant.locations.first())


@pytest.fixture
def enroll(merchant, actor):
    def run(**fields):
        return member_enroll(merchant=fields.pop("merchant", merchant), actor=fields.pop("actor", actor), **fields)

    return run


# ---------------------------------------------------------------------------------------------
# Phone numbers


def test_a_local_phone_number_is_stored_in_e164_for_the_shops_country(enroll):
    member = enroll(first_name="Aida", phone="012-345 6789")

    assert Member.objects.get(pk=member.pk).phone == "+60123456789"


def test_a_thai_shop_reads_local_numbers_as_thai(enroll, other_merchant):
    member = enroll(merchant=other_merchant, phone="081 234 5678", actor=Actor.system())

    assert member.phone == "+66812345678"


def test_an_international_number_keeps_its_own_country(enroll):
    member = enroll(phone="+66 81 234 5678")

    assert member.phone == "+66812345678"


@pytest.mark.parametrize("phone", ["12345", "call me", "012-345"])
def test_a_phone_that_is_not_a_number_is_refused(enroll, phone):
    with pytest.raises(ValidationError) as refused:
        enroll(first_name="Aida", phone=phone)

    assert refused.value.code == "phone_invalid"
    assert not Member.objects.exists()


# ---------------------------------------------------------------------------------------------
# Duplicates


def test_a_phone_already_enrolled_is_refused_however_it_is_typed(enroll):
    enroll(first_name="Aida", phone="012-345 6789")

    with pytest.raises(ValidationError) as refused:
        enroll(first_name="Aida again", phone="+60 12 345 6789")

    assert refused.value.code == "duplicate"
    assert Member.objects.count() == 1


def test_an_email_already_enrolled_is_refused_in_any_case(enroll):
    enroll(email="aida@example.com")

    with pytest.raises(ValidationError) as refused:
        enroll(email=" Aida@Example.COM ")

    assert refused.value.code == "duplicate"
    assert Member.objects.count() == 1


def test_the_refusal_names_the_member_who_has_the_number(enroll):
    enroll(first_name="Aida", last_name="Rahman", phone="0123456789")

    with pytest.raises(ValidationError, match="Aida Rahman already has this phone number or email"):
        enroll(first_name="Someone", phone="0123456789")


def test_another_shop_may_enrol_the_same_phone_and_email(enroll, merchant, other_merchant):
    enroll(phone="+60123456789", email="aida@example.com")

    enroll(merchant=other_merchant, phone="+60123456789", email="aida@example.com", actor=Actor.system())

    assert Member.objects.filter(phone="+60123456789").count() == 2


def test_an_email_is_stored_trimmed_and_lowercase(enroll):
    member = enroll(email="  Aida@Example.COM ")

    assert Member.objects.get(pk=member.pk).email == "aida@example.com"


def test_an_enrolment_with_nothing_to_know_the_member_by_is_refused(enroll):
    with pytest.raises(ValidationError) as refused:
        enroll(first_name="", phone="", email="")

    assert refused.value.code == "empty"
    assert not Member.objects.exists()


def test_an_invalid_email_writes_nothing(merchant, enroll):
    ProgramFactory(merchant=merchant, welcome_bonus=50)

    with pytest.raises(ValidationError):
        enroll(first_name="Aida", email="not-an-email")

    assert not Member.objects.exists()
    assert not Account.objects.exists()


# ---------------------------------------------------------------------------------------------
# Codes and referrals


def test_each_member_gets_a_readable_referral_code_of_their_own(enroll):
    first, second = enroll(first_name="Aida"), enroll(first_name="Ben")

    for member in (first, second):
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{6}}", member.referral_code)
    assert first.referral_code != second.referral_code


def test_a_card_number_is_given_unless_one_is_typed(enroll):
    given, typed = enroll(first_name="Aida"), enroll(first_name="Ben", card_number="LOYAL-0042")

    assert re.fullmatch(f"[{CODE_ALPHABET}]{{10}}", given.card_number)
    assert Member.objects.get(pk=typed.pk).card_number == "LOYAL-0042"


def test_a_referral_code_links_the_new_member_to_the_referrer(enroll):
    referrer = enroll(first_name="Aida")

    member = enroll(first_name="Ben", referral_code=f" {referrer.referral_code.lower()} ")

    assert Member.objects.get(pk=member.pk).referred_by_id == referrer.pk


def test_an_unknown_referral_code_is_refused(enroll):
    with pytest.raises(ValidationError, match="No member has the referral code"):
        enroll(first_name="Ben", referral_code="ZZZZZZ")

    assert not Member.objects.exists()


def test_a_referral_code_of_another_shop_is_refused(enroll, other_merchant):
    stranger = enroll(merchant=other_merchant, first_name="Somchai", actor=Actor.system())

    with pytest.raises(ValidationError):
        enroll(first_name="Ben", referral_code=stranger.referral_code)

    assert Member.objects.count() == 1


def test_enrolment_records_who_where_and_how(enroll, cashier, actor):
    member = enroll(first_name="Aida", source=Source.SIGNUP)

    member.refresh_from_db()
    assert (member.enrolled_by_id, member.location_id, member.source) == (cashier.user_id, actor.location.pk, "signup")


# ---------------------------------------------------------------------------------------------
# The member_enrolled signal: the rewards app opens the account and gives the welcome bonus


def test_the_welcome_bonus_is_credited_on_enrolment(merchant, enroll, cashier):
    ProgramFactory(merchant=merchant, welcome_bonus=50)

    member = enroll(first_name="Aida")

    account = Account.objects.get(member=member)
    assert account.balance == 50
    entry = PointsEntry.objects.get(account=account)
    assert (entry.kind, entry.points, entry.actor_user_id) == (Kind.BONUS, 50, cashier.user_id)


def test_enrolment_opens_the_account_when_there_is_no_welcome_bonus(merchant, enroll):
    ProgramFactory(merchant=merchant, welcome_bonus=0)

    member = enroll(first_name="Aida")

    assert Account.objects.get(member=member).balance == 0
    assert not PointsEntry.objects.exists()


def test_a_referred_member_gets_only_the_welcome_bonus_at_enrolment(merchant, enroll):
    ProgramFactory(merchant=merchant, welcome_bonus=50, referral_bonus=100)
    referrer = enroll(first_name="Aida")

    member = enroll(first_name="Ben", referral_code=referrer.referral_code)

    assert Account.objects.get(member=member).balance == 50
    assert Account.objects.get(member=referrer).balance == 50  # the referral bonus waits for a first purchase


@pytest.mark.parametrize("region", ["MY", "TH", "UA", "HU", "US", "DE", "SG", "ID", "MX", "IN"])
def test_the_phone_reader_agrees_with_phone_normalize(region):
    """The fast path gives phonenumbers' own answer, or its own refusal, for every shape of number."""

    def answer(normalize, raw):
        try:
            return normalize(raw)
        except ValidationError:
            return None

    rng, reader = random.Random(region), PhoneReader(region)
    examples = [phonenumbers.example_number_for_type(region, kind) for kind in range(11)]
    for example in filter(None, examples):
        nsn = str(example.national_number)
        for _ in range(40):
            digits = list(nsn)
            for _change in range(rng.randrange(1, 3)):
                digits[rng.randrange(len(digits))] = str(rng.randrange(10))
            mutated = "".join(digits)
            for raw in (mutated, "0" + mutated, f"+{example.country_code} {mutated}", mutated[:-2], "06" + mutated):
                assert answer(reader.normalize, raw) == answer(lambda r: phone_normalize(r, region=region), raw), raw
