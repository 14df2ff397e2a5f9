"""The public sign-up page /j/<shop>/: joins with consent, sends the card link, and gives nothing away
about who is already a member; rate limits and a honeypot keep scripts out."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.urls import reverse
from PIL import Image

from members.models import ConsentEvent, Member, Source
from members.sms import MemoryBackend
from merchants.actors import ActorKind
from rewards.models import Account, PointsEntry
from tests.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db

DONE_TEXT = "Check your phone or email"


@pytest.fixture
def signup_url(merchant):
    return reverse("public:signup", args=[merchant.slug])


@pytest.fixture
def post(client, signup_url, django_capture_on_commit_callbacks):
    """Submit the sign-up form the way a phone's browser does (each call is a fresh form key);
    the card link goes out when the sign-up commits."""
    counter = iter(range(1, 1000))

    def submit(url: str = signup_url, follow: bool = True, **fields: object):
        data = {"key": f"form-{next(counter)}", "first_name": "Siti", "last_name": "Aminah", "phone": "012-345 6789"}
        data |= {name: value for name, value in fields.items() if value is not None}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {k: v for k, v in data.items() if v != ""}, follow=follow)

    return submit


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def sent_messages() -> list[str]:
    """Every card link sent, by SMS or email."""
    return [sms["body"] for sms in MemoryBackend.outbox] + [message.body for message in mail.outbox]


def test_the_page_asks_for_the_details_with_consent_boxes_unticked(client, signup_url, merchant):
    response = client.get(signup_url)

    assert response.status_code == 200
    assert merchant.name in response.text
    form = response.context["form"]
    assert {"first_name", "last_name", "phone", "email", "birthday", "referral_code"} <= set(form.fields)
    assert 'name="email_consent"' in response.text
    assert 'name="email_consent" checked' not in response.text
    assert 'name="sms_consent" checked' not in response.text
    assert reverse("public_rules:how", args=[merchant.slug]) in response.text


def test_signing_up_creates_the_member_and_sends_the_card_link_by_sms(post, merchant):
    response = post()

    member = Member.objects.get(merchant=merchant)
    assert (member.first_name, member.last_name, member.phone) == ("Siti", "Aminah", "+60123456789")
    assert member.source == Source.SIGNUP
    assert member.enrolled_by is None
    assert response.redirect_chain == [(reverse("public:done", args=[merchant.slug]), 302)]
    assert DONE_TEXT in response.text
    assert len(MemoryBackend.outbox) == 1
    assert MemoryBackend.outbox[0]["to"] == "+60123456789"
    assert "/c/" in MemoryBackend.outbox[0]["body"]


def test_a_member_with_an_email_gets_the_link_by_email(post, merchant):
    post(email="Siti@Example.com")

    assert Member.objects.get(merchant=merchant).email == "siti@example.com"
    assert [message.to for message in mail.outbox] == [["siti@example.com"]]
    assert MemoryBackend.outbox == []


def test_the_member_gets_the_welcome_bonus_from_the_sign_up_page(post, merchant):
    ProgramFactory(merchant=merchant, welcome_bonus=50)

    post()

    account = Account.objects.get(member__merchant=merchant)
    assert account.balance == 50
    assert PointsEntry.objects.get(account=account).actor_kind == ActorKind.MEMBER


def test_marketing_consent_is_recorded_per_channel_with_source_signup(post, merchant):
    post(email="siti@example.com", email_consent="on", sms_consent="on")

    member = Member.objects.get(merchant=merchant)
    assert member.email_consent
    assert member.sms_consent
    events = ConsentEvent.objects.filter(member=member)
    assert sorted(events.values_list("channel", "granted", "source")) == [
        ("email", True, "signup"),
        ("sms", True, "signup"),
    ]


def test_no_ticked_box_means_no_consent(post, merchant):
    post(email="siti@example.com")

    member = Member.objects.get(merchant=merchant)
    assert not member.email_consent
    assert not member.sms_consent
    assert not ConsentEvent.objects.exists()


def test_email_offers_without_an_email_is_a_form_error(post):
    response = post(email_consent="on")

    assert "Give your email to get offers by email." in response.text
    assert not Member.objects.exists()


def test_the_member_keeps_the_language_of_the_page(post, merchant, client):
    client.cookies["django_language"] = "ms"

    post()

    assert Member.objects.get(merchant=merchant).language == "ms"


# ---------------------------------------------------------------------------------------------
# Referrals


def test_a_referral_link_fills_in_the_code(client, signup_url, merchant):
    MemberFactory(merchant=merchant, referral_code="ACE777")

    response = client.get(signup_url, {"ref": "ACE777"})

    assert 'value="ACE777"' in response.text


def test_signing_up_with_a_referral_code_links_the_referrer(post, merchant, signup_url):
    friend = MemberFactory(merchant=merchant, referral_code="ACE777")

    post(url=f"{signup_url}?ref=ACE777", referral_code="ace777")

    assert Member.objects.get(merchant=merchant, phone="+60123456789").referred_by == friend


def test_an_unknown_referral_code_is_a_form_error_and_creates_nothing(post):
    response = post(referral_code="NOPE42")

    assert response.status_code == 200
    assert "No member has the referral code “NOPE42”" in response.text
    assert not Member.objects.exists()
    assert sent_messages() == []


def test_another_shops_referral_code_is_unknown_here(post, other_merchant):
    MemberFactory(merchant=other_merchant, referral_code="ACE777")

    response = post(referral_code="ACE777")

    assert "No member has the referral code" in response.text
    assert not Member.objects.filter(phone="+60123456789").exists()


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("phone", ["12345", "call me", ""])
def test_a_bad_phone_number_is_a_form_error_and_creates_nothing(post, phone):
    response = post(phone=phone)

    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not Member.objects.exists()
    assert sent_messages() == []


def test_a_first_name_is_needed(post):
    response = post(first_name="")

    assert response.context["form"].errors["first_name"]
    assert not Member.objects.exists()


# ---------------------------------------------------------------------------------------------
# No way to learn who is a member


def test_a_registered_phone_gets_the_same_answer_and_its_owner_gets_their_link(post, merchant):
    owner = MemberFactory(merchant=merchant, phone="+60123456789", first_name="Real", email="")

    response = post(first_name="Someone", last_name="Else")

    assert Member.objects.filter(merchant=merchant).count() == 1
    owner.refresh_from_db()
    assert owner.first_name == "Real"  # nothing typed on the page changes an existing member
    assert response.redirect_chain == [(reverse("public:done", args=[merchant.slug]), 302)]
    assert DONE_TEXT in response.text
    assert [sms["to"] for sms in MemoryBackend.outbox] == ["+60123456789"]


def test_a_registered_email_gets_the_same_answer_and_its_owner_gets_their_link(post, merchant):
    owner = MemberFactory(merchant=merchant, phone="+60199999999", email="siti@example.com")

    response = post(email="SITI@example.com")

    assert list(Member.objects.filter(merchant=merchant)) == [owner]
    assert DONE_TEXT in response.text
    assert [message.to for message in mail.outbox] == [["siti@example.com"]]


def test_new_and_registered_phones_get_the_same_page(post, merchant):
    MemberFactory(merchant=merchant, phone="+60127654321")

    new = post(phone="012-345 6789")
    known = post(phone="012-765 4321")

    assert new.redirect_chain == known.redirect_chain
    assert without_csrf(new.text) == without_csrf(known.text)


def test_a_registered_email_gets_a_byte_for_byte_identical_answer(post, merchant):
    MemberFactory(merchant=merchant, phone="+60199999999", email="known@example.com")

    new = post(phone="012-345 6781", email="new@example.com", follow=False)
    known = post(phone="012-345 6782", email="known@example.com", follow=False)

    assert (known.status_code, known["Location"], known.content) == (new.status_code, new["Location"], new.content)


def test_a_phone_registered_at_another_shop_joins_here(post, merchant, other_merchant):
    MemberFactory(merchant=other_merchant, phone="+60123456789")

    post()

    assert Member.objects.filter(merchant=merchant, phone="+60123456789").exists()


def test_the_same_form_posted_twice_signs_up_once_and_sends_one_link(
    client, signup_url, merchant, django_capture_on_commit_callbacks
):
    data = {"key": "double-tap", "first_name": "Siti", "phone": "012-345 6789"}

    for _tap in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(signup_url, data)

    assert Member.objects.filter(merchant=merchant).count() == 1
    assert len(MemoryBackend.outbox) == 1


# ---------------------------------------------------------------------------------------------
# Abuse


def test_sign_ups_from_one_address_are_limited_and_the_extra_one_creates_nothing(post, merchant, settings):
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 2
    post(phone="012-345 6781")
    post(phone="012-345 6782")

    response = post(phone="012-345 6783", follow=False)

    assert response.status_code == 429
    assert "Too many attempts. Please try again in" in response.text
    assert not Member.objects.filter(phone="+60123456783").exists()
    assert Member.objects.filter(merchant=merchant).count() == 2


def test_one_phone_number_is_limited_per_day_even_when_registered(post, merchant, settings):
    settings.SIGNUP_PER_CONTACT_PER_DAY = 3
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 100
    for _attempt in range(3):
        post()

    response = post(follow=False)

    assert response.status_code == 429
    assert Member.objects.filter(merchant=merchant).count() == 1
    assert len(MemoryBackend.outbox) == 3  # the fourth did not message the phone's owner again


def test_one_phone_number_written_two_ways_shares_one_budget(post, merchant, settings):
    settings.SIGNUP_PER_CONTACT_PER_DAY = 1
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 100
    post(phone="+60 12-345 6789")

    response = post(phone="0123456789", follow=False)

    assert response.status_code == 429
    assert len(MemoryBackend.outbox) == 1


def test_one_email_in_capitals_shares_its_budget(post, merchant, settings):
    settings.SIGNUP_PER_CONTACT_PER_DAY = 1
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 100
    post(phone="012-345 6781", email="siti@example.com")

    response = post(phone="012-345 6782", email="SITI@Example.com", follow=False)

    assert response.status_code == 429
    assert not Member.objects.filter(phone="+60123456782").exists()


def test_the_refusal_says_when_to_try_again(post, settings, monkeypatch):
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 1
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000 + 20 * 60)  # 20 minutes into an hour's window
    post(phone="012-345 6781")

    response = post(phone="012-345 6782", follow=False)

    assert "Too many attempts. Please try again in 40 minutes." in response.text
    assert response["Retry-After"] == str(40 * 60)


def test_sign_ups_from_one_address_are_taken_again_in_the_next_hour(post, merchant, settings, monkeypatch):
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 1
    now = [1_800_000_000]
    monkeypatch.setattr(time, "time", lambda: now[0])
    post(phone="012-345 6781")
    assert post(phone="012-345 6782", follow=False).status_code == 429
    now[0] += 60 * 60

    response = post(phone="012-345 6782", follow=False)

    assert response.status_code == 302
    assert Member.objects.filter(merchant=merchant, phone="+60123456782").exists()


def test_guessing_referral_codes_uses_up_the_addresss_sign_ups(post, merchant, settings):
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 2
    MemberFactory(merchant=merchant, referral_code="ACDEFG", phone="+60199999999")
    post(referral_code="AAAAAA")
    post(referral_code="CCCCCC")

    response = post(referral_code="ACDEFG", follow=False)

    assert response.status_code == 429
    assert Member.objects.filter(merchant=merchant).count() == 1


def test_people_who_give_no_email_are_not_counted_as_one_contact(post, merchant, settings):
    settings.SIGNUP_PER_CONTACT_PER_DAY = 2
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 100
    for n in range(4):
        post(phone=f"012-345 678{n}")

    assert Member.objects.filter(merchant=merchant).count() == 4


def test_a_filled_in_honeypot_looks_like_success_but_creates_and_sends_nothing(post, merchant):
    response = post(website="http://spam.example")

    assert DONE_TEXT in response.text
    assert not Member.objects.exists()
    assert sent_messages() == []


def test_the_honeypot_is_hidden_from_people(client, signup_url):
    response = client.get(signup_url)

    assert '<div class="honeypot" aria-hidden="true">' in response.text
    assert 'tabindex="-1"' in response.text


# ---------------------------------------------------------------------------------------------
# Shops, languages, the home-screen app


def test_an_unknown_shop_is_404(client):
    assert client.get(reverse("public:signup", args=["no-such-shop"])).status_code == 404
    assert client.get(reverse("public:done", args=["no-such-shop"])).status_code == 404
    assert client.get(reverse("public:manifest", args=["no-such-shop"])).status_code == 404


def test_each_shop_signs_up_its_own_members(post, other_merchant):
    post(url=reverse("public:signup", args=[other_merchant.slug]), phone="081 234 5678")

    member = Member.objects.get()
    assert member.merchant == other_merchant
    assert member.phone == "+66812345678"  # the shop's country reads the local number


@pytest.mark.parametrize(("accept", "lang"), [("ms-MY,ms;q=0.9", "ms"), ("hu", "hu"), ("de-DE,de", "en")])
def test_the_page_speaks_the_browsers_language(client, signup_url, accept, lang):
    response = client.get(signup_url, headers={"accept-language": accept})

    assert f'<html lang="{lang}"' in response.text


def test_the_page_shows_the_language_switcher_and_no_console_menu(client, signup_url, owner_client):
    for browser in (client, owner_client):
        response = browser.get(signup_url)
        assert 'name="language"' in response.text
        assert 'aria-label="Main"' not in response.text


def test_the_page_links_its_manifest_and_home_screen_icons(client, signup_url, merchant):
    response = client.get(signup_url)

    assert f'rel="manifest" href="{reverse("public:manifest", args=[merchant.slug])}"' in response.text
    assert 'rel="apple-touch-icon"' in response.text
    assert '<meta name="theme-color" content="#0f766e">' in response.text


def test_the_manifest_names_the_shop_and_starts_at_its_sign_up_page(client, merchant, signup_url):
    response = client.get(reverse("public:manifest", args=[merchant.slug]))

    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == merchant.name
    assert manifest["start_url"] == signup_url
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0f766e"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:  # each file is there, as big as the manifest says
        path = finders.find(icon["src"].removeprefix(settings.STATIC_URL).removeprefix("/static/"))
        assert path, icon["src"]
        assert "x".join(map(str, Image.open(path).size)) == icon["sizes"]
