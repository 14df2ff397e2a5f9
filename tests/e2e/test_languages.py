"""The counter and the member's card in every language we ship, on a phone: each fits the screen,
says it is in that language, and leaves a screenshot in test-results/e2e/ for a reader of it."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from members.portal import card_url
from members.services import member_enroll
from merchants.actors import Actor
from merchants.middleware import SESSION_KEY
from rewards import ledger
from tests.factories import ProgramFactory, RewardFactory, TierFactory

from .conftest import PHONE, Tab

pytestmark = pytest.mark.e2e

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# A word each page shows, in each language: the page is really translated, not only labelled.
COUNTER_TITLE = {"en": "Counter", "ms": "Kaunter", "th": "เคาน์เตอร์", "uk": "Каса", "hu": "Pénztár"}


@pytest.fixture
def siti(merchant, cashier):
    ProgramFactory(merchant=merchant, welcome_bonus=50)
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100), multiplier=Decimal(1))
    RewardFactory(merchant=merchant, name="Free wash", points_cost=60)
    counter = Actor.for_staff(cashier, location=cashier.merchant.locations.first())
    member = member_enroll(merchant=merchant, actor=counter, first_name="Siti", last_name="Aminah", phone="0123456789")
    ledger.purchase_record(member=member, amount=Decimal("125.90"), actor=counter, idempotency_key="lang-1")
    return member


@pytest.fixture
def phone(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    contexts = []

    def open_phone(name: str, language: str, cookies: list[dict] = ()) -> Tab:
        context = browser.new_context(viewport=PHONE, locale=language, base_url=live_server.url)
        context.set_default_timeout(10_000)
        context.add_cookies(list(cookies))
        contexts.append(context)
        return Tab(context, live_server.url, name)

    yield open_phone
    for context in contexts:
        context.close()


def signed_in(staff, origin: str) -> list[dict]:
    """The staff member's session, as the browser's cookie (signing in is tested in English elsewhere)."""
    client = Client()
    client.force_login(staff.user)
    session = client.session
    session[SESSION_KEY] = staff.merchant_id
    session.save()
    host = urlsplit(origin).hostname
    return [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "domain": host, "path": "/"}]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_counter_in_each_language(phone, live_server, siti, cashier, language):
    cashier.user.language = language
    cashier.user.save()
    tab = phone(f"counter-{language}", language, signed_in(cashier, live_server.url))
    tab.page.goto("/counter/")
    expect(tab.page.locator("html")).to_have_attribute("lang", language)
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text(COUNTER_TITLE[language])
    tab.page.get_by_role("searchbox").fill("Siti")
    expect(tab.page.get_by_text("Siti Aminah").first).to_be_visible()
    tab.page.evaluate("document.fonts.ready.then(() => true)")  # Thai's web font, where the device has none
    tab.check(f"counter-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_members_card_in_each_language(phone, siti, language):
    siti.language = language
    siti.save()
    tab = phone(f"card-{language}", language)
    tab.page.goto(card_url(siti))
    expect(tab.page.locator("html")).to_have_attribute("lang", language)
    expect(tab.page.locator(".wallet-number")).to_contain_text("175")
    tab.page.evaluate("document.fonts.ready.then(() => true)")
    tab.check(f"card-{language}")
