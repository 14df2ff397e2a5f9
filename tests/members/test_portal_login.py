"""Signing in to the card with a one-time code: sent by email or SMS, 10 minutes, 5 tries, rate-limited,
and nothing in the answers tells whether a phone or email belongs to a member."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import LoginCode, Member
from members.portal import card_token
from members.services import member_enroll, member_erase
from members.sms import MemoryBackend
from merchants.actors import Actor
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def actor(cashier) -> Actor:
    return Actor.for_staff(cashier)


@pytest.fixture
def siti(merchant, actor) -> Member:
    return member_enroll(
        merchant=merchant, actor=actor, first_name="Siti", phone="012-345 6789", email="siti@example.com"
    )


def login_url(merchant) -> str:
    return reverse("member_portal:login", args=[merchant.slug])


def code_url(merchant) -> str:
    return reverse("member_portal:login_code", args=[merchant.slug])


def ask(client: Client, merchant, address: str):
    return client.post(login_url(merchant), {"address": address})


def answer(client: Client, merchant, code: str):
    return client.post(code_url(merchant), {"code": code})


def sent_codes(mailoutbox) -> list[str]:
    bodies = [m.body for m in mailoutbox] + [m["body"] for m in MemoryBackend.outbox]
    return [CODE.search(body)[1] for body in bodies]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# ---------------------------------------------------------------------------------------------
# Sending the code


def test_an_email_address_gets_its_code_by_email(client, merchant, siti, mailoutbox):
    response = ask(client, merchant, " Siti@Example.com ")

    assert response.status_code == 302
    assert response["Location"] == code_url(merchant)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["siti@example.com"]
    assert CODE.search(mailoutbox[0].subject)
    assert MemoryBackend.outbox == []


def test_a_phone_number_gets_its_code_by_sms(client, merchant, siti, mailoutbox):
    ask(client, merchant, "012 345 6789")

    assert [m["to"] for m in MemoryBackend.outbox] == ["+60123456789"]
    assert "Bubbles Laundromat" in MemoryBackend.outbox[0]["body"]
    assert mailoutbox == []


def test_the_code_is_stored_hashed(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")

    code = sent_codes(mailoutbox)[0]
    stored = LoginCode.objects.get(member=siti)
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert timedelta(minutes=9) < stored.expires_at - timezone.now() <= timedelta(minutes=10)


def test_a_new_code_replaces_the_one_before(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")
    ask(client, merchant, "siti@example.com")
    second = sent_codes(mailoutbox)[1]

    earlier, latest = LoginCode.objects.filter(member=siti).order_by("pk")
    assert earlier.used_at is not None  # dead
    assert latest.used_at is None
    assert answer(client, merchant, second).status_code == 302


def test_a_phone_or_email_of_another_shops_member_gets_no_code(client, merchant, other_merchant, mailoutbox):
    MemberFactory(merchant=other_merchant, email="lek@example.com", phone="+66812345678")

    ask(client, merchant, "lek@example.com")
    ask(client, merchant, "+66812345678")

    assert mailoutbox == []
    assert MemoryBackend.outbox == []


def test_an_erased_member_gets_no_code(client, merchant, siti, owner, mailoutbox):
    member_erase(member=siti, actor=Actor.for_staff(owner))  # erasure is the owner's

    ask(client, merchant, "siti@example.com")

    assert mailoutbox == []


@pytest.mark.parametrize(("typed", "message"), [("12", "is not a valid phone number"), ("siti@", "is not an email")])
def test_something_that_is_no_phone_or_email_is_a_clear_error(client, merchant, typed, message, mailoutbox):
    response = ask(client, merchant, typed)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert mailoutbox == []


# ---------------------------------------------------------------------------------------------
# Typing the code


def test_the_right_code_signs_the_member_in_and_opens_their_card(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")

    response = answer(client, merchant, sent_codes(mailoutbox)[0])

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:card", args=[card_token(siti)])
    assert client.session["member_id"] == siti.pk
    assert client.session["member_merchant_id"] == merchant.pk
    assert LoginCode.objects.get(member=siti).used_at is not None
    assert client.get(reverse("portal:home"))["Location"] == response["Location"]


def test_a_code_works_once(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")
    code = sent_codes(mailoutbox)[0]
    answer(client, merchant, code)

    other = Client()
    other.post(login_url(merchant), {"address": "+60123456789"})  # someone else asks, no new email code
    response = answer(other, merchant, code)

    assert response.status_code == 200
    assert "not right" in response.content.decode()


def test_a_wrong_code_says_how_many_tries_are_left(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")

    response = answer(client, merchant, wrong(sent_codes(mailoutbox)[0]))

    assert response.status_code == 200
    assert "That code is not right. 4 tries left." in response.content.decode()
    assert LoginCode.objects.get(member=siti).attempts == 1
    assert "member_id" not in client.session


def test_after_five_wrong_tries_even_the_right_code_is_refused(client, merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")
    code = sent_codes(mailoutbox)[0]
    pages = [answer(client, merchant, wrong(code)).content.decode() for _ in range(5)]

    response = answer(client, merchant, code)

    assert "1 try left" in pages[3]
    assert "Too many wrong tries" in pages[4]
    assert "Too many wrong tries" in response.content.decode()
    assert "member_id" not in client.session
    assert LoginCode.objects.get(member=siti).attempts == 5


def test_an_expired_code_is_refused(client, merchant, siti, mailoutbox, monkeypatch):
    ask(client, merchant, "siti@example.com")
    code = sent_codes(mailoutbox)[0]
    # Eleven minutes later, for the database's clock and the cache's.
    later = timezone.now() + timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 11 * 60)

    response = answer(client, merchant, code)

    assert "This code has expired. Ask for a new one." in response.content.decode()
    assert "member_id" not in client.session


def test_the_code_page_without_asking_first_goes_back_to_asking(client, merchant):
    response = client.get(code_url(merchant))

    assert response.status_code == 302
    assert response["Location"] == login_url(merchant)


def test_a_code_asked_at_one_shop_does_not_open_another_shops_page(client, merchant, other_merchant, siti, mailoutbox):
    ask(client, merchant, "siti@example.com")

    response = answer(client, other_merchant, sent_codes(mailoutbox)[0])

    assert response.status_code == 302
    assert response["Location"] == login_url(other_merchant)
    assert "member_id" not in client.session


# ---------------------------------------------------------------------------------------------
# Saying nothing about who is a member


def code_page(client: Client, merchant, local: str, e164: str) -> str:
    """The code page as this visitor sees it, with the number they typed, the CSRF token and the CSP nonce
    (new on every response) blanked out."""
    html = client.get(code_url(merchant)).content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    assert local in html
    return html.replace(local, "PHONE").replace(e164, "PHONE")


def test_an_unknown_phone_gets_the_same_answer_and_nothing_is_sent(client, merchant, siti, mailoutbox):
    known = Client()
    known_ask = ask(known, merchant, "+60 12-345 6789")
    MemoryBackend.outbox.clear()

    unknown_ask = ask(client, merchant, "+60 12-999 8888")

    assert (unknown_ask.status_code, unknown_ask["Location"]) == (known_ask.status_code, known_ask["Location"])
    assert code_page(client, merchant, "012-999 8888", "+60129998888") == code_page(
        known, merchant, "012-345 6789", "+60123456789"
    )
    assert MemoryBackend.outbox == []
    assert mailoutbox == []
    assert LoginCode.objects.count() == 1  # the known member's only


def plain(html: str) -> str:
    return re.sub(r'nonce="[^"]+"', "", re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))


def test_a_wrong_code_for_an_unknown_email_reads_byte_for_byte_like_a_known_ones(merchant, siti, mailoutbox):
    known, unknown = Client(), Client()
    ask(known, merchant, "siti@example.com")
    ask(unknown, merchant, "nobody@example.com")
    code = wrong(sent_codes(mailoutbox)[0])

    known_page = answer(known, merchant, code)
    unknown_page = answer(unknown, merchant, code)

    assert known_page.status_code == unknown_page.status_code == 200
    assert plain(unknown_page.content.decode()).replace("nobody@", "siti@") == plain(known_page.content.decode())


def test_asking_for_an_unknown_phone_answers_byte_for_byte_like_a_known_one(merchant, siti):
    known = ask(Client(), merchant, "012-345 6789")

    unknown = ask(Client(), merchant, "012-999 8888")

    assert (unknown.status_code, unknown.content, unknown["Location"]) == (
        known.status_code,
        known.content,
        known["Location"],
    )


def test_checking_a_code_for_an_unknown_address_does_the_same_database_work(merchant, siti, mailoutbox):
    known, unknown = Client(), Client()
    ask(known, merchant, "siti@example.com")
    ask(unknown, merchant, "nobody@example.com")
    code = wrong(sent_codes(mailoutbox)[0])

    with CaptureQueriesContext(connection) as known_queries:
        answer(known, merchant, code)
    with CaptureQueriesContext(connection) as unknown_queries:
        answer(unknown, merchant, code)

    # No early "no" for a stranger: the member lookup, the locked read and the write run both times.
    assert statements(unknown_queries) == statements(known_queries)


def statements(queries: CaptureQueriesContext) -> list[str]:
    """Each query up to its WHERE, numbers and strings blanked: what was asked, not of whom."""
    return [re.sub(r"\d+|'[^']*'", "?", q["sql"]).split(" WHERE ")[0] for q in queries.captured_queries]


def test_tries_on_an_unknown_address_run_out_like_on_a_known_one(client, merchant, db):
    ask(client, merchant, "nobody@example.com")

    pages = [answer(client, merchant, "123456").content.decode() for _ in range(6)]

    assert "That code is not right. 4 tries left." in pages[0]
    assert "1 try left" in pages[3]
    assert "Too many wrong tries" in pages[4]
    assert "Too many wrong tries" in pages[5]


# ---------------------------------------------------------------------------------------------
# Rate limits (settings LOGIN_CODE_*: 3 codes per phone or email, 20 per client address, 30 tries per
# client address and 15 per phone or email, in windows of 15 minutes)

TOO_MANY = "Too many attempts. Please try again in"


def test_a_fourth_code_for_the_same_address_within_minutes_is_refused(client, merchant, siti, mailoutbox):
    for _ in range(3):
        assert ask(Client(), merchant, "siti@example.com").status_code == 302

    response = ask(Client(), merchant, "SITI@example.com")

    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert len(mailoutbox) == 3


def test_a_phone_written_another_way_shares_its_budget(client, merchant, siti):
    for typed in ("+60 12-345 6789", "0123456789", "012 345 6789"):
        assert ask(Client(), merchant, typed).status_code == 302

    assert ask(Client(), merchant, "+60123456789").status_code == 429
    assert len(MemoryBackend.outbox) == 3


def test_the_refusal_says_when_to_try_again(client, merchant, siti, monkeypatch):
    start = 1_800_000_000  # on a quarter hour: the window ends 15 minutes later
    monkeypatch.setattr(time, "time", lambda: start + 60 * 4)
    for _ in range(3):
        ask(Client(), merchant, "siti@example.com")

    response = ask(Client(), merchant, "siti@example.com")

    assert "Too many attempts. Please try again in 11 minutes." in response.content.decode()
    assert response["Retry-After"] == str(11 * 60)


def test_codes_may_be_asked_again_once_the_window_has_passed(client, merchant, siti, mailoutbox, monkeypatch):
    now = [1_800_000_000]
    monkeypatch.setattr(time, "time", lambda: now[0])
    for _ in range(4):
        ask(Client(), merchant, "siti@example.com")
    now[0] += 15 * 60

    response = ask(Client(), merchant, "siti@example.com")

    assert response.status_code == 302
    assert len(mailoutbox) == 4  # three in the first window, one in the next


def test_the_limit_per_address_counts_unknown_addresses_too(client, merchant, db):
    for _ in range(3):
        ask(Client(), merchant, "nobody@example.com")

    response = ask(Client(), merchant, "nobody@example.com")

    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()


def test_one_network_address_cannot_ask_for_codes_without_end(client, merchant, siti, mailoutbox):
    for n in range(20):
        ask(client, merchant, f"person{n}@example.com")

    response = ask(client, merchant, "siti@example.com")  # a fresh phone or email: refused by address

    assert response.status_code == 429
    assert mailoutbox == []


def test_one_network_address_cannot_guess_codes_without_end(merchant, siti, mailoutbox):
    guessers = [Client() for _ in range(7)]
    for n, guesser in enumerate(guessers):
        ask(guesser, merchant, f"person{n}@example.com")
    for guesser in guessers[:6]:
        for _ in range(5):
            answer(guesser, merchant, "123456")  # 30 tries from one address

    response = answer(guessers[6], merchant, "123456")

    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()


def test_one_phone_or_email_cannot_be_guessed_from_many_network_addresses(merchant, siti, mailoutbox, settings):
    settings.LOGIN_CODE_ASKS_PER_CONTACT = 10
    addresses = iter(f"10.0.0.{n}" for n in range(1, 100))
    tries = 0
    while tries < 15:  # 15 tries on one address, each guesser from an address of its own
        guesser = Client(REMOTE_ADDR=next(addresses))
        ask(guesser, merchant, "siti@example.com")
        for _ in range(5):
            answer(guesser, merchant, "000000")
            tries += 1
    last = Client(REMOTE_ADDR="10.0.1.1")
    ask(last, merchant, "siti@example.com")

    response = answer(last, merchant, sent_codes(mailoutbox)[-1])  # even the right code

    assert response.status_code == 429
    assert "member_id" not in last.session
