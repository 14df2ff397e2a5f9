"""Cells: one raw cell of an uploaded customer file to a clean value, read the way the shop's country writes it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rewards.imports.values import Cells
from tests.factories import MerchantFactory

SHOPS = {
    "MY": {"country": "MY", "currency": "MYR", "language": "ms", "timezone": "Asia/Kuala_Lumpur"},
    "MY-en": {"country": "MY", "currency": "MYR", "language": "en", "timezone": "Asia/Kuala_Lumpur"},
    "US": {"country": "US", "currency": "USD", "language": "en", "timezone": "America/New_York"},
    "HU": {"country": "HU", "currency": "HUF", "language": "hu", "timezone": "Europe/Budapest"},
    "TH": {"country": "TH", "currency": "THB", "language": "th", "timezone": "Asia/Bangkok"},
    "UA": {"country": "UA", "currency": "UAH", "language": "uk", "timezone": "Europe/Kyiv"},
    "UA-en": {"country": "UA", "currency": "UAH", "language": "en", "timezone": "Europe/Kyiv"},
    "GB": {"country": "GB", "currency": "GBP", "language": "en", "timezone": "Europe/London"},
}
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    """Two-digit years and "the future" depend on today: today is 1 June 2024, noon UTC."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def cells(shop: str = "MY", **overrides) -> Cells:
    return Cells(MerchantFactory.build(**{**SHOPS[shop], **overrides}))


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as error:
        call(*args, **kwargs)
    return error.value.code


def message_of(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as error:
        call(*args, **kwargs)
    return error.value.messages[0]


# Text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann   Lee ", "Ann Lee"),
        ("Ann\tLee\n", "Ann Lee"),
        ("Ann\u00a0Lee", "Ann Lee"),
        ("An\u200bn\u00a0Lee\x00", "Ann Lee"),
        ("\ufeffAnn", "Ann"),
        ("'=SUM(A1)", "=SUM(A1)"),
        ("'+60123", "+60123"),
        ("'-5", "-5"),
        ("'@home", "@home"),
        ("'hello", "'hello"),
        ("O'Brien", "O'Brien"),
        ("'", "'"),
        ("   ", ""),
    ],
)
def test_text_is_cleaned(raw, expected):
    assert cells().text(raw) == expected


def test_name_longer_than_80_characters_is_refused_naming_the_limit():
    assert "80" in message_of(cells().name, "A" * 81)


def test_name_of_80_characters_is_kept():
    assert cells().name(" " + "A" * 80) == "A" * 80


# Dates


@pytest.mark.parametrize(
    ("shop", "raw"),
    [
        ("MY", "15/03/2024"),
        ("MY", "15.03.2024"),
        ("MY", "15-03-2024"),
        ("MY", "15 03 2024"),
        ("MY", "15/3/24"),
        ("GB", "15/03/2024"),
        ("UA", "15.03.2024"),
        ("UA-en", "15.03.2024"),
        ("TH", "15/03/2024"),
        ("US", "03/15/2024"),
        ("US", "3/15/24"),
        ("HU", "2024. 03. 15."),
        ("HU", "2024.03.15"),
        ("HU", "2024. 3. 15"),
        ("HU", "24.03.15"),
        ("HU", "15.03.2024"),
        ("US", "2024/03/15"),
        ("MY", "2024-3-15"),
    ],
)
def test_numeric_date_in_the_shops_order(shop, raw):
    assert cells(shop).date(raw) == dt.date(2024, 3, 15)


@pytest.mark.parametrize(
    "raw",
    ["2024-03-15", "2024-03-15T14:22:05", "2024-03-15T14:22", "2024-03-15T14:22:05Z", "2024-03-15T23:30:00+07:00",
     "2024-03-15 14:22", "2024-03-15 14:22:05"],
)  # fmt: skip
def test_iso_date_with_or_without_a_time(raw):
    assert cells("US").date(raw) == dt.date(2024, 3, 15)


@pytest.mark.parametrize(
    ("shop", "raw"),
    [("MY", "15/03/2024 14:22"), ("US", "3/15/2024 2:22 PM"), ("US", "3/15/2024, 2:22 p.m."), ("HU", "2024. 03. 15. 14:22:05")],
)  # fmt: skip
def test_time_after_a_date_is_ignored(shop, raw):
    assert cells(shop).date(raw) == dt.date(2024, 3, 15)


def test_us_date_with_impossible_month_is_read_day_first():
    assert cells("US").date("25/12/2023") == dt.date(2023, 12, 25)


def test_day_first_date_with_impossible_month_is_read_month_first():
    assert cells("MY").date("12/25/2023") == dt.date(2023, 12, 25)


def test_ambiguous_date_follows_the_shops_order():
    assert (cells("US").date("04/05/2024"), cells("MY").date("04/05/2024")) == (
        dt.date(2024, 4, 5),
        dt.date(2024, 5, 4),
    )


def test_english_shop_in_ukraine_reads_dates_day_first():
    assert cells("UA-en").date("04.05.2024") == dt.date(2024, 5, 4)


@pytest.mark.parametrize(
    ("raw", "year"), [("15/03/24", 2024), ("15/03/00", 2000), ("15/03/25", 1925), ("15/03/90", 1990)]
)
def test_two_digit_year_is_this_century_up_to_this_year(raw, year):
    assert cells().date(raw).year == year


@pytest.mark.parametrize("raw", ["15/03/2567", "15 มี.ค. 2567", "15 มีนาคม 2567", "15 มีนาคม พ.ศ. 2567"])
def test_thai_buddhist_year_is_converted(raw):
    assert cells("TH").date(raw) == dt.date(2024, 3, 15)


@pytest.mark.parametrize(
    "raw",
    [
        "15 Mar 2024", "15 mar. 2024", "15-MAR-24", "15 March 2024", "15th March 2024", "March 15, 2024",
        "Mar 15 2024", "MARCH 15, 2024",
        "15 Mac 2024", "15 Mac, 2024",
        "15 березня 2024", "15 березня 2024 р.", "15 березень 2024", "15 бер. 2024", "15 БЕРЕЗНЯ 2024",
        "2024. március 15.", "2024. márc. 15.", "2024 marcius 15", "15 március 2024",
        "15 มี.ค. 2024", "15 มีนาคม 2024", "15 มีค 2024",
    ],
)  # fmt: skip
def test_month_names_in_every_shipped_language(raw):
    assert cells("MY").date(raw) == dt.date(2024, 3, 15)


@pytest.mark.parametrize(("raw", "month"), [("1 Ogos 2020", 8), ("1 Disember 2020", 12), ("1 листопада 2020", 11),
                                            ("2020. febr. 1.", 2), ("1 ต.ค. 2563", 10), ("Sept 1, 2020", 9)])  # fmt: skip
def test_month_names_that_differ_from_english(raw, month):
    assert cells("MY").date(raw).month == month


def test_impossible_date_is_refused_as_not_real():
    assert message_of(cells().date, "31/02/2024") == "“31/02/2024” is not a real date."


@pytest.mark.parametrize("raw", ["31/02/2024", "2023-02-29", "32/01/2024", "15/13/2024"])
def test_impossible_dates_are_refused(raw):
    assert code_of(cells().date, raw) == "date_impossible"


@pytest.mark.parametrize("raw", ["abc", "soon", "15/03", "March 2024", "1/2/3/4", "15/03/202"])
def test_unreadable_date_is_refused(raw):
    assert code_of(cells().date, raw) == "date_invalid"


def test_year_before_1900_is_refused():
    assert code_of(cells().date, "1899-12-31") == "date_too_old"


def test_tomorrow_is_refused_as_the_future():
    assert code_of(cells().date, "2024-06-02") == "date_future"


def test_today_is_accepted():
    assert cells().date("2024-06-01") == dt.date(2024, 6, 1)


def test_future_date_is_accepted_when_not_past_only():
    assert cells().date("2030-01-01", past_only=False) == dt.date(2030, 1, 1)


def test_future_is_judged_in_the_shops_time_zone():
    # Noon UTC on 1 June is already 2 June in Kiritimati (UTC+14), still 1 June in New York.
    ahead = cells("US", timezone="Pacific/Kiritimati")
    assert ahead.date("2024-06-02") == dt.date(2024, 6, 2)
    assert code_of(cells("US").date, "2024-06-02") == "date_future"


def test_repeated_future_date_is_refused_every_time():
    shop = cells()
    assert [code_of(shop.date, "2099-01-01") for _ in range(2)] == ["date_future", "date_future"]


@pytest.mark.parametrize("raw", ["", "   ", "0000-00-00", "00/00/0000"])
def test_blank_or_zero_date_is_none(raw):
    assert cells().date(raw) is None


# Whole numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", 1234), (" 1234 ", 1234), ("1,234", 1234), ("1.234", 1234), ("1 234", 1234), ("1\u00a0234", 1234),
        ("1\u202f234", 1234), ("1,234,567", 1_234_567), ("120.0", 120), ("120,00", 120), ("0", 0), ("-0", 0),
        ("+5", 5), ("'42", 42), ("10000000", 10_000_000),
    ],
)  # fmt: skip
def test_whole_number_forms(raw, expected):
    assert cells().whole(raw) == expected


@pytest.mark.parametrize("shop", ["MY", "HU", "US"])
def test_whole_number_thousands_are_the_same_in_every_locale(shop):
    assert (cells(shop).whole("1,234"), cells(shop).whole("1.234")) == (1234, 1234)


@pytest.mark.parametrize("raw", ["12.5", "1,5", "12.50"])
def test_fraction_is_not_a_whole_number(raw):
    assert message_of(cells().whole, raw) == f"“{raw}” is not a whole number."


@pytest.mark.parametrize("raw", ["-5", "−5", "-1,234", "-2.5"])
def test_negative_whole_number_is_below_zero(raw):
    assert message_of(cells().whole, raw) == f"“{raw}” is below zero."


@pytest.mark.parametrize("raw", ["abc", "12 stamps", "1,23", "12-5"])
def test_text_is_not_a_number(raw):
    assert code_of(cells().whole, raw) in {"number_invalid", "not_whole"}


def test_text_message_names_the_value():
    assert message_of(cells().whole, "abc") == "“abc” is not a number."


def test_implausibly_large_whole_number_is_refused():
    assert code_of(cells().whole, "10000001") == "too_large"


def test_blank_whole_number_is_none():
    assert cells().whole("  ") is None


# Money


@pytest.mark.parametrize(
    ("shop", "raw", "expected"),
    [
        ("MY", "12.5", "12.50"), ("MY", "RM 12.50", "12.50"), ("MY", "RM12", "12.00"), ("MY", "1,234", "1234.00"),
        ("MY", "1,234.56", "1234.56"), ("MY", "1.234", "1.23"), ("MY", "12,50", "12.50"), ("MY", "MYR 1 234.50", "1234.50"),
        ("MY", "1.005", "1.01"), ("MY", "0.125", "0.13"), ("MY", ".5", "0.50"), ("MY", "1,234,567", "1234567.00"),
        ("US", "$1,234.56", "1234.56"), ("US", "USD 5", "5.00"), ("US", "US$5", "5.00"), ("US", "5 USD", "5.00"),
        ("HU", "1.234", "1234"), ("HU", "1 234 Ft", "1234"), ("HU", "1\u00a0234,50 Ft", "1235"), ("HU", "1234,4", "1234"),
        ("HU", "1,234", "1"), ("HU", "1.234.567 HUF", "1234567"), ("HU", "Ft 990", "990"), ("HU", "12,-", "12"),
        ("TH", "฿1,234.50", "1234.50"), ("TH", "1234.5 บาท", "1234.50"), ("TH", "THB 99", "99.00"),
        ("UA", "1 234,50 грн", "1234.50"), ("UA", "1 234,50 грн.", "1234.50"), ("UA", "₴12,5", "12.50"),
        ("UA", "1.234,50", "1234.50"), ("UA", "1\u202f234", "1234.00"), ("GB", "€12,50", "12.50"),
    ],
)  # fmt: skip
def test_money_forms(shop, raw, expected):
    assert cells(shop).money(raw) == Decimal(expected)


def test_money_has_the_currencys_decimal_places():
    assert (str(cells("MY").money("12")), str(cells("HU").money("12"))) == ("12.00", "12")


@pytest.mark.parametrize("raw", ["-5", "-RM5", "RM -5", "(5.00)", "5.00-", "−12,50"])
def test_negative_money_is_below_zero(raw):
    assert code_of(cells().money, raw) == "negative"


@pytest.mark.parametrize("raw", ["abc", "12 apples", "free", "1,2,3.4.5", "RM"])
def test_text_is_not_money(raw):
    assert code_of(cells().money, raw) == "number_invalid"


def test_blank_money_is_none():
    assert cells().money("") is None


# Yes or no


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True), ("Yes", True), ("Y", True), ("TRUE", True), ("1", True), ("x", True), ("✓", True), ("✔", True),
        ("on", True), ("subscribed", True), ("Opted in", True), ("opt-in", True), ("accepted", True),
        ("no", False), ("N", False), ("false", False), ("0", False), ("off", False), ("unsubscribed", False),
        ("not subscribed", False), ("not_subscribed", False), ("opted out", False), ("Opt-Out", False),
        ("declined", False), ("pending", False), ("cleaned", False), ("invalid", False),
    ],
)  # fmt: skip
def test_yes_no_in_english_and_export_status_words(raw, expected):
    assert cells().yes_no(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ya", True), ("Ye", True), ("tidak", False), ("ใช่", True), ("ไม่", False), ("ไม่ใช่", False),
     ("так", True), ("Так", True), ("ні", False), ("igen", True), ("Nem", False)],
)  # fmt: skip
def test_yes_no_in_our_languages(raw, expected):
    assert cells().yes_no(raw) is expected


def test_unknown_yes_no_is_refused_naming_the_value():
    assert message_of(cells().yes_no, "maybe") == "“maybe” is not yes or no."


def test_blank_yes_no_is_none():
    assert cells().yes_no(" ") is None


# Email and phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ann@Shop.MY", "ann@shop.my"), (" ann @ shop.my ", "ann@shop.my"), ("ann.lee+vip@shop.com.my", "ann.lee+vip@shop.com.my"),
     ("ann@\u200bshop.my", "ann@shop.my"), ("mailto:ann@shop.my", "ann@shop.my"), ("o'brien@shop.ie", "o'brien@shop.ie"),
     ("ann@xn--80ak6aa92e.com", "ann@xn--80ak6aa92e.com")],
)  # fmt: skip
def test_email_is_cleaned(raw, expected):
    assert cells().email(raw) == expected


@pytest.mark.parametrize("raw", ["ann@@x.com", "ann", "ann@", "@shop.my", "ann@shop", "a@b..com"])
def test_bad_email_is_refused(raw):
    assert code_of(cells().email, raw) == "email_invalid"


def test_bad_email_message_names_it():
    assert message_of(cells().email, "ann@@x.com") == "“ann@@x.com” is not an email address."


def test_email_longer_than_254_characters_is_refused():
    assert (
        code_of(cells().email, "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com") == "email_invalid"
    )


def test_blank_email_is_empty():
    assert cells().email("  ") == ""


@pytest.mark.parametrize(
    "raw",
    ["012-345 6789", "'0123456789", "'+60123456789", "60123456789", "60123456789.0", "6.0123456789E+10",
     "6.0123456789e10", "123456789", "+60 12-345 6789"],
)  # fmt: skip
def test_phone_spreadsheet_artefacts_are_cleaned(raw):
    assert cells("MY").phone(raw) == "+60123456789"


def test_phone_is_read_in_the_shops_country():
    assert cells("HU").phone("06 30 123 4567") == "+36301234567"


def test_bad_phone_is_refused_with_phone_normalize_message():
    assert message_of(cells("MY").phone, "abc") == "“abc” is not a phone number."


def test_blank_phone_is_empty():
    assert cells().phone(" ") == ""


# Language, tags, names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ms", "ms"), ("ms-MY", "ms"), ("th_TH", "th"), ("UK", "uk"), ("EN", "en"), ("hu-HU", "hu"),
        ("Malay", "ms"), ("Thai", "th"), ("Ukrainian", "uk"), ("Hungarian", "hu"), ("English", "en"),
        ("Bahasa Melayu", "ms"), ("ไทย", "th"), ("українська", "uk"), ("Українська", "uk"), ("magyar", "hu"),
        ("angol", "en"), ("Melayu", "ms"),
    ],
)  # fmt: skip
def test_language_from_code_or_name(raw, expected):
    assert cells().language(raw) == expected


def test_unknown_language_is_refused():
    assert message_of(cells().language, "Klingon") == "“Klingon” is not a language we offer."


def test_language_we_do_not_ship_is_refused():
    assert code_of(cells().language, "de") == "language_unknown"


def test_tags_are_split_stripped_and_deduplicated_keeping_the_first_spelling():
    assert cells().tags("VIP, vip; Regular |new\nVIP,, ;") == ["VIP", "Regular", "new"]


def test_tag_longer_than_50_characters_is_refused():
    assert code_of(cells().tags, "ok, " + "x" * 51) == "tag_too_long"


def test_blank_tags_are_an_empty_list():
    assert cells().tags(" ") == []


@pytest.mark.parametrize(
    ("shop", "raw", "expected"),
    [
        ("MY", "Ann Lee", ("Ann", "Lee")),
        ("MY", "  Mary   Ann  Lee ", ("Mary Ann", "Lee")),
        ("MY", "Cher", ("Cher", "")),
        ("MY", "Lee, Ann", ("Ann", "Lee")),
        ("MY", "Siti Nurhaliza binti Tarudin", ("Siti Nurhaliza", "binti Tarudin")),
        ("MY", "Kumar a/l Rajan", ("Kumar", "a/l Rajan")),
        ("TH", "สมชาย ใจดี", ("สมชาย", "ใจดี")),
        ("HU", "Kovács Anna", ("Anna", "Kovács")),
        ("HU", "Kovács Anna Mária", ("Anna Mária", "Kovács")),
        ("HU", "Anna", ("Anna", "")),
        ("MY", "", ("", "")),
    ],
)
def test_full_name_is_split(shop, raw, expected):
    assert cells(shop).full_name(raw) == expected


def test_full_name_with_too_long_part_is_refused():
    assert code_of(cells().full_name, "A" * 81 + " Lee") == "name_too_long"


@pytest.mark.parametrize("method", ["whole", "money", "date"])
def test_very_long_cell_is_refused_not_crashed_on(method):
    with pytest.raises(ValidationError):
        getattr(cells(), method)("9" * 5000)


def test_money_too_large_for_the_database_is_refused():
    assert code_of(cells().money, "1" * 40) == "too_large"
