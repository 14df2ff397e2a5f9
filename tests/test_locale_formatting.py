"""Money, numbers and dates read as each shipped language writes them, for shops in currencies with
0 and 2 minor units: the console, the counter, the member's card, a campaign report and an email.

The expected text comes straight from babel (CLDR), as merchants/locales.py formats it, so a page
that shows 1234567.50, an ungrouped 1234567 or an ISO date fails here.
"""

import html as htmllib
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_decimal_symbol
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus, Segment
from campaigns.report import campaign_report
from members.portal import card_token
from merchants.models import Merchant
from rewards import ledger
from rewards.kpis.digest import digest_send
from rewards.kpis.rollups import rollups_refresh
from rewards.models import PointsEntry, Program, Purchase
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, RewardFactory
from tests.rewards.conftest import buy, cashier_actor, member  # noqa: F401

pytestmark = pytest.mark.django_db

SHOPS = {  # currency: (country, time zone); HUF is paid in whole forints, the others in hundredths
    "HUF": ("HU", "Europe/Budapest"),
    "THB": ("TH", "Asia/Bangkok"),
    "UAH": ("UA", "Europe/Kyiv"),
    "MYR": ("MY", "Asia/Kuala_Lumpur"),
}
LANGUAGES = [code for code, _name in settings.LANGUAGES]
DAY = date(2031, 12, 24)  # a day past the 12th, so an ISO or a month-first date cannot pass for it
POINTS = 1234567


@pytest.fixture(params=LANGUAGES)
def language(request) -> str:
    return request.param


@pytest.fixture(params=list(SHOPS))
def merchant(request, db, language) -> Merchant:
    """Overrides tests/conftest.py's shop: one per currency, whose members read `language`."""
    country, zone = SHOPS[request.param]
    shop = MerchantFactory(country=country, currency=request.param, timezone=zone, language=language)
    LocationFactory(merchant=shop)
    return shop


@pytest.fixture
def program(merchant) -> Program:
    return ProgramFactory(merchant=merchant, max_purchase=Decimal(100_000_000))


@pytest.fixture
def amount(merchant) -> Decimal:
    return Decimal(1234567) if merchant.currency == "HUF" else Decimal("1234567.5")


@pytest.fixture
def client_in(owner_client, owner, language):
    """The owner's console in `language` (the language picker's cookie)."""
    owner.user.language = language
    owner.user.save(update_fields=["language"])
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return owner_client


def fold(text: str) -> str:
    """Spaces folded, so CLDR's no-break and narrow spaces compare with the page's own."""
    return " ".join(text.split())


def text_of(page: str) -> str:
    """The words a person sees: tags, scripts and attribute values left out."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return fold(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def _locale(language: str, country: str) -> Locale:
    try:
        return Locale.parse(f"{language}_{country}")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)


def money(value: Decimal, merchant: Merchant, language: str) -> str:
    locale = _locale(language, merchant.country)
    text = format_currency(value, merchant.currency, locale=locale)
    if merchant.currency == "HUF":  # CLDR keeps fillér; shops and terminals show whole forints
        text = text.replace(f"{get_decimal_symbol(locale)}00", "")
    return fold(text)


def number(value: int, language: str) -> str:
    return fold(format_decimal(value, locale=language))


def day(value: date, language: str) -> str:
    return fold(format_date(value, format="medium", locale=language))


def assert_no_raw_forms(text: str, *days: date) -> None:
    assert not re.search(r"(?<![\d.,])1234567(?![\d])", text), "an ungrouped number"
    assert "1234567.5" not in text
    assert "1234567,5" not in text
    for shown in days:
        assert shown.isoformat() not in text


def test_activity_card_shows_revenue_and_visits_in_the_language(client_in, merchant, language, buy, amount):  # noqa: F811
    buy(amount)
    rollups_refresh(merchant_id=merchant.pk)

    text = text_of(client_in.get(reverse("rewards:kpi_activity"), {"period": "30"}).content.decode())

    assert money(amount, merchant, language) in text
    assert_no_raw_forms(text)


def test_console_home_shows_the_period_as_the_language_writes_days(client_in, merchant, language):
    today = timezone.localdate(timezone=merchant.tzinfo)

    text = text_of(client_in.get(reverse("merchants:home"), {"period": "7"}).content.decode())

    assert day(today, language) in text
    assert_no_raw_forms(text, today, today - timedelta(days=6))


def test_member_page_shows_balance_history_and_amounts(client_in, merchant, language, member, buy, amount):  # noqa: F811
    purchase = buy(amount)
    today = timezone.localdate(timezone=merchant.tzinfo)

    text = text_of(client_in.get(reverse("rewards:member", args=[member.pk])).content.decode())

    assert number(purchase.points, language) in text
    assert day(today, language) in text
    assert_no_raw_forms(text, today)


def test_counter_shows_the_balance_and_the_purchase_just_recorded(client_in, merchant, language, member, amount):  # noqa: F811
    response = client_in.post(
        reverse("rewards:counter_purchase", args=[member.pk]),
        {"amount": str(amount), "receipt": "", "key": "k1"},
        follow=True,
    )

    text = text_of(response.content.decode())
    assert number(POINTS, language) in text
    assert money(amount, merchant, language) in text
    assert_no_raw_forms(text)


def test_reward_list_shows_cost_and_dates(client_in, merchant, language, program):
    RewardFactory(merchant=merchant, points_cost=POINTS, valid_from=DAY - timedelta(days=30), valid_until=DAY)

    text = text_of(client_in.get(reverse("rewards:catalog")).content.decode())

    assert number(POINTS, language) in text
    assert day(DAY, language) in text
    assert_no_raw_forms(text, DAY)


def test_campaign_report_shows_revenue_and_cost(client_in, merchant, language, program, buy, amount):  # noqa: F811
    program.point_value = Decimal(1) if merchant.currency == "HUF" else Decimal("0.5")
    program.save()
    campaign = Campaign.objects.create(
        merchant=merchant, name="Back", segment=Segment.objects.create(merchant=merchant, name="All"), body="Hi",
        status=CampaignStatus.SENT, started_at=timezone.now() - timedelta(days=20),
    )  # fmt: skip
    for status, buys in ((MessageStatus.SENT, True), (MessageStatus.SENT, False), (MessageStatus.HELD_OUT, False)):
        someone = MemberFactory(merchant=merchant)
        Message.objects.create(
            merchant=merchant, campaign=campaign, member=someone, occurrence=campaign.started_at.date(),
            channel="email", status=status, points=POINTS,
        )  # fmt: skip
        if buys:
            bought = buy(amount, member=someone)
            Purchase.objects.filter(pk=bought.pk).update(created_at=campaign.started_at + timedelta(days=3))
    report = campaign_report(campaign=campaign)

    text = text_of(client_in.get(reverse("campaigns:campaign", args=[campaign.pk])).content.decode())

    assert money(report.extra_revenue, merchant, language) in text
    assert_no_raw_forms(text)


def test_member_card_shows_balance_and_history_days(client, merchant, language, member, buy, amount):  # noqa: F811
    member.language = language
    member.save(update_fields=["language"])
    purchase = buy(amount)
    today = timezone.localdate(timezone=merchant.tzinfo)

    text = text_of(client.get(reverse("portal:card", args=[card_token(member)])).content.decode())

    assert number(purchase.points, language) in text
    assert day(today, language) in text
    assert_no_raw_forms(text, today)


def test_weekly_digest_email_shows_revenue_and_the_week(merchant, language, owner, member, buy, amount):  # noqa: F811
    owner.user.language = language
    owner.user.save(update_fields=["language"])
    today = ledger.local_today(merchant)
    monday = today - timedelta(days=today.weekday())
    last_friday = datetime.combine(monday - timedelta(days=3), time(12), merchant.tzinfo)
    purchase = buy(amount)
    Purchase.objects.filter(pk=purchase.pk).update(created_at=last_friday)
    PointsEntry.objects.filter(purchase=purchase).update(created_at=last_friday)

    digest_send(merchant_id=merchant.pk, now=datetime.combine(monday, time(9), merchant.tzinfo))

    (message,) = mail.outbox
    body = fold(message.body)
    assert money(amount, merchant, language) in body
    assert day(monday - timedelta(days=7), language) in body
    assert_no_raw_forms(body, monday - timedelta(days=7))
