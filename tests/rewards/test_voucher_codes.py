"""Voucher codes: read aloud without mix-ups, too many to guess one in useful time at the API's limit,
and codes issued before in the shorter form still read."""

import pytest

from members.models import CODE_ALPHABET
from rewards import ledger
from rewards.selectors import voucher_code_clean


def test_the_alphabet_has_no_characters_that_sound_or_look_alike():
    assert not set("0O1IL2Z5S8B") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 25


def test_a_code_carries_more_than_forty_bits():
    assert len(CODE_ALPHABET) ** (2 * ledger.VOUCHER_GROUP) > 2**46


def test_guessing_one_live_code_at_the_api_limit_takes_over_a_thousand_years(settings):
    codes = len(CODE_ALPHABET) ** (2 * ledger.VOUCHER_GROUP)  # 25**10, about 9.5e13
    live = 100_000  # unused vouchers of one very big shop at once
    tries_per_year = settings.VOUCHER_MISSES_PER_KEY_PER_HOUR * 24 * 365  # one key, any number of addresses

    years = codes / live / tries_per_year  # on average, tries before one hits any live code

    assert years > 1000  # about 1,800 with the defaults


@pytest.mark.django_db
def test_codes_are_drawn_anew_each_time(merchant):
    codes = {ledger._voucher_code(merchant.pk) for _ in range(200)}

    assert len(codes) == 200


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ACDEF-GHJKM", "ACDEF-GHJKM"),
        ("acdef-ghjkm", "ACDEF-GHJKM"),
        (" ACDEF GHJKM ", "ACDEF-GHJKM"),
        ("acdefghjkm", "ACDEF-GHJKM"),
        ("acde-fghj", "ACDE-FGHJ"),  # a code issued before, in two groups of 4
        ("ACDEF-GHJK", ""),
        ("ACDEF-GHJKM!", ""),
        ("", ""),
    ],
)
def test_a_typed_code_is_read_in_its_stored_form(typed, stored):
    assert voucher_code_clean(typed) == stored
