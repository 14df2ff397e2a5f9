"""The member's privacy on their own pages: details and consents, one-click unsubscribe, their data
as JSON and CSV, asking to be deleted, and the shop's erasure that keeps the ledger's amounts."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from members.models import Card, CardStatus, ConsentEvent, Member
from members.portal import card_token, unsubscribe_token, unsubscribe_url
from members.services import card_link, member_enroll, member_request_deletion
from merchants.actors import Actor
from merchants.models import AuditLog, Role
from rewards import ledger
from rewards.models import Account, PointsEntry, Purchase
from tests.factories import RewardFactory, StaffFactory, UserFactory
from tests.rewards.test_portal import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(cashier) -> Actor:
    return Actor.for_staff(cashier, location=cashier.merchant.locations.first())


@pytest.fixture
def enroll(merchant, actor):
    def run(**fields) -> Member:
        return member_enroll(merchant=fields.pop("merchant", merchant), actor=actor, **fields)

    return run


@pytest.fixture
def siti(enroll) -> Member:
    return enroll(
        first_name="Siti", last_name="Aminah", phone="012-345 6789", email="siti@example.com", email_consent=True
    )


def details_url(member: Member) -> str:
    return reverse("member_portal:details", args=[card_token(member)])


def details(member: Member, **changes) -> dict[str, object]:
    """The details form as the member would post it: what they have, with `changes`."""
    data = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "phone": member.phone,
        "email": member.email,
        "birthday": member.birthday.isoformat() if member.birthday else "",
        "language": member.language,
    }
    data |= {name: "on" for name in ("email_consent", "sms_consent") if getattr(member, name)}
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


# ---------------------------------------------------------------------------------------------
# My details


def test_details_page_shows_the_members_own_details(client, siti):
    response = client.get(details_url(siti))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="siti@example.com"' in html
    assert 'value="012-345 6789"' in html  # the phone as people write it, not E.164


def test_details_change_saves_name_phone_birthday_and_language(client, siti):
    data = details(siti, first_name="Siti Nur", phone="019-876 5432", birthday="1990-05-17", language="ms")

    response = client.post(details_url(siti), data)

    assert response.status_code == 302
    siti.refresh_from_db()
    assert (siti.first_name, siti.phone, siti.birthday.isoformat(), siti.language) == (
        "Siti Nur",
        "+60198765432",
        "1990-05-17",
        "ms",
    )


def test_consent_changes_are_logged_with_the_portal_as_source(client, siti):
    client.post(details_url(siti), details(siti, email_consent=False, sms_consent=True))

    siti.refresh_from_db()
    assert (siti.email_consent, siti.sms_consent) == (False, True)
    events = ConsentEvent.objects.filter(member=siti, source="portal").order_by("pk")
    assert [(e.channel, e.granted, e.collected_by) for e in events] == [("email", False, None), ("sms", True, None)]


def test_saving_the_same_consents_again_logs_nothing(client, siti):
    before = ConsentEvent.objects.filter(member=siti).count()

    client.post(details_url(siti), details(siti, first_name="Sitti"))

    assert ConsentEvent.objects.filter(member=siti).count() == before


def test_a_phone_that_is_not_a_number_is_refused_and_nothing_changes(client, siti):
    response = client.post(details_url(siti), details(siti, phone="12345", first_name="Changed"))

    assert response.status_code == 200
    assert "is not a valid phone number" in text_of(response)
    siti.refresh_from_db()
    assert (siti.phone, siti.first_name) == ("+60123456789", "Siti")


def test_a_phone_another_member_has_is_refused_clearly(client, siti, enroll):
    enroll(first_name="Ali", phone="019-111 2222")

    response = client.post(details_url(siti), details(siti, phone="+60191112222"))

    assert "Another member already has this phone number." in text_of(response)
    siti.refresh_from_db()
    assert siti.phone == "+60123456789"


def test_an_email_another_member_has_is_refused_in_any_case(client, siti, enroll):
    enroll(first_name="Ali", email="ali@example.com")

    response = client.post(details_url(siti), details(siti, email="ALI@example.com"))

    assert "Another member already has this email." in text_of(response)
    siti.refresh_from_db()
    assert siti.email == "siti@example.com"


def test_details_saves_are_limited_so_the_page_cannot_look_through_members(client, siti, settings):
    settings.PORTAL_DETAILS_SAVES_PER_HOUR = 3
    for n in range(3):
        client.post(details_url(siti), details(siti, phone=f"+6019111222{n}"))

    response = client.post(details_url(siti), details(siti, phone="+60191112229"))

    assert response.status_code == 429
    assert "Too many attempts. Please try again in" in text_of(response)
    siti.refresh_from_db()
    assert siti.phone == "+60191112222"


def test_a_phone_a_member_of_another_shop_has_is_fine(client, siti, enroll, other_merchant):
    enroll(merchant=other_merchant, first_name="Lek", phone="+60191112222")

    client.post(details_url(siti), details(siti, phone="+60191112222"))

    siti.refresh_from_db()
    assert siti.phone == "+60191112222"


def test_offers_by_sms_need_a_phone(client, enroll):
    member = enroll(first_name="Mei", email="mei@example.com")

    response = client.post(details_url(member), details(member, sms_consent=True))

    assert "Add a phone number to get offers by SMS." in text_of(response)
    member.refresh_from_db()
    assert member.sms_consent is False
    assert not ConsentEvent.objects.filter(member=member).exists()


def test_the_details_page_of_a_forged_link_is_not_found(client, siti):
    assert client.get(details_url(siti).replace("/details/", "x/details/")).status_code == 404


# ---------------------------------------------------------------------------------------------
# One-click unsubscribe


def test_unsubscribe_link_is_absolute_and_signed_for_unsubscribing(settings, siti):
    settings.SITE_URL = "https://loyalty.example.com"

    assert unsubscribe_url(siti) == f"https://loyalty.example.com/u/{unsubscribe_token(siti)}/"


def test_one_click_unsubscribe_withdraws_both_channels(client, siti):
    siti.sms_consent = True
    Member.objects.filter(pk=siti.pk).update(sms_consent=True)

    response = client.get(reverse("member_portal:unsubscribe", args=[unsubscribe_token(siti)]))

    assert response.status_code == 200
    assert "You are unsubscribed" in text_of(response)
    siti.refresh_from_db()
    assert (siti.email_consent, siti.sms_consent) == (False, False)
    events = ConsentEvent.objects.filter(member=siti, source="unsubscribe")
    assert sorted((e.channel, e.granted) for e in events) == [("email", False), ("sms", False)]


def test_mail_apps_can_unsubscribe_with_a_one_click_post(siti):
    client = Client(enforce_csrf_checks=True)  # RFC 8058: the mail app posts without a form

    response = client.post(
        reverse("member_portal:unsubscribe", args=[unsubscribe_token(siti)]), {"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    siti.refresh_from_db()
    assert siti.email_consent is False


def test_undo_gives_back_only_the_channels_that_were_withdrawn(client, siti):
    token = unsubscribe_token(siti)
    page = client.get(reverse("member_portal:unsubscribe", args=[token]))
    assert "Undo: keep sending me offers" in text_of(page)

    response = client.post(reverse("member_portal:unsubscribe_undo", args=[token]), {"channel": ["email", "sms"]})

    assert "Welcome back" in text_of(response)
    siti.refresh_from_db()
    assert (siti.email_consent, siti.sms_consent) == (True, False)
    assert ConsentEvent.objects.filter(member=siti, channel="email", granted=True, source="unsubscribe_undo").exists()


def test_a_card_link_is_no_unsubscribe_link(client, siti):
    response = client.get(reverse("member_portal:unsubscribe", args=[card_token(siti)]))

    assert response.status_code == 404
    siti.refresh_from_db()
    assert siti.email_consent is True


# ---------------------------------------------------------------------------------------------
# My data


@pytest.fixture
def history(siti, enroll, actor, merchant, manager):
    """Siti bought twice and redeemed a reward; another member bought once."""
    ledger.purchase_record(member=siti, amount=Decimal("12.50"), actor=actor, receipt="R-100")
    ledger.purchase_record(member=siti, amount=Decimal("80.00"), actor=actor, receipt="R-101")
    ledger.reward_redeem(
        member=siti, reward=RewardFactory(merchant=merchant, name="Free wash", points_cost=50), actor=actor
    )
    other = enroll(first_name="Zainal", phone="019-222 3333", email="zainal@example.com")
    ledger.purchase_record(member=other, amount=Decimal("777.00"), actor=actor, receipt="R-OTHER")
    return other


def export(client: Client, member: Member, fmt: str):
    return client.get(reverse(f"portal:data_{fmt}", args=[card_token(member)]))


def test_json_export_holds_the_profile_purchases_points_and_vouchers(client, siti, history):
    response = export(client, siti, "json")

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.getvalue())
    assert data["profile"]["email"] == "siti@example.com"
    assert [(p["amount"], p["receipt"], p["points"]) for p in data["purchases"]] == [
        ("12.50", "R-100", 12),
        ("80.00", "R-101", 80),
    ]
    assert [e["points"] for e in data["points"]] == [12, 80, -50]
    assert data["account"]["balance"] == 42
    assert [v["reward"] for v in data["vouchers"]] == ["Free wash"]
    assert [(c["channel"], c["granted"], c["source"]) for c in data["consents"]] == [("email", True, "counter")]


def test_exports_hold_nothing_of_other_members(client, siti, history):
    for fmt in ("json", "csv"):
        body = export(client, siti, fmt).getvalue().decode()

        assert "Zainal" not in body
        assert "R-OTHER" not in body
        assert "777.00" not in body  # the stranger's purchase amount (bare digits can occur in timestamps)


def test_csv_export_has_a_section_per_kind_of_data(client, siti, history):
    response = export(client, siti, "csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    sections = [row[0] for row in rows if len(row) == 1]
    assert sections == [
        "shop", "profile", "tags", "cards", "consents", "account", "purchases", "points", "vouchers", "messages",
        "survey_answers",
    ]  # fmt: skip
    start = rows.index(["purchases"])
    assert rows[start + 1] == ["at", "amount", "refunded", "points", "receipt", "location"]
    assert [row[1] for row in rows[start + 2 : start + 4]] == ["12.50", "80.00"]
    assert ["first_name", "Siti"] in rows


def test_a_member_with_no_account_yet_can_export(client, merchant):
    member = Member.objects.create(merchant=merchant, first_name="New", card_number="N1", referral_code="NEW1")

    data = json.loads(export(client, member, "json").getvalue())

    assert (data["purchases"], data["points"], data["account"]["balance"]) == ([], [], 0)


# ---------------------------------------------------------------------------------------------
# Asking to be deleted


def delete_url(member: Member) -> str:
    return reverse("member_portal:delete", args=[card_token(member)])


def test_deletion_asks_for_confirmation_first(client, siti, mailoutbox):
    response = client.get(delete_url(siti))

    assert "Yes, delete my data" in text_of(response)
    siti.refresh_from_db()
    assert siti.deletion_requested_at is None
    assert mailoutbox == []


def test_asking_for_deletion_tells_the_shops_owners_with_a_link_to_the_member(
    client, settings, siti, owner, manager, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://loyalty.example.com"
    second_owner = StaffFactory(merchant=siti.merchant, role=Role.OWNER, user=UserFactory(email="boss2@example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url(siti))

    assert response.status_code == 302
    siti.refresh_from_db()
    assert siti.deletion_requested_at is not None
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted([owner.user.email, second_owner.user.email])
    assert f"https://loyalty.example.com/members/{siti.pk}/" in mailoutbox[0].body
    assert "Siti" not in mailoutbox[0].body  # the email says which card, not who
    assert "We have told the shop" in text_of(client.get(response["Location"]))


def test_asking_twice_tells_the_owners_once(client, siti, owner, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(delete_url(siti))
        client.post(delete_url(siti))

    assert len(mailoutbox) == 1


# ---------------------------------------------------------------------------------------------
# Erasure, by the owner in the console


def erase(client: Client, member: Member, confirm: str | None = None):
    return client.post(
        reverse("members:erase", args=[member.pk]), {"confirm": str(member) if confirm is None else confirm}
    )


def test_the_member_page_offers_only_owners_to_erase(owner_client, manager_client, cashier_client, siti):
    page = reverse("rewards:member", args=[siti.pk])

    assert "Erase personal data" in owner_client.get(page).content.decode()
    assert "Erase personal data" not in manager_client.get(page).content.decode()
    assert "Erase personal data" not in cashier_client.get(page).content.decode()


def test_erasure_removes_personal_data_and_keeps_the_ledger_amounts(owner_client, siti, history, actor):
    card_link(member=siti, number="PHYS-1", actor=actor)
    account = Account.objects.get(member=siti)
    before = (account.balance, list(PointsEntry.objects.filter(account=account).values_list("points", flat=True)))
    amounts = list(Purchase.objects.filter(account=account).values_list("amount", flat=True))

    response = erase(owner_client, siti)

    assert response.status_code == 302
    siti.refresh_from_db()
    assert (siti.first_name, siti.last_name, siti.phone, siti.email, siti.birthday) == ("", "", "", "", None)
    assert (siti.email_consent, siti.sms_consent) == (False, False)
    assert siti.erased_at is not None
    account.refresh_from_db()
    after = (account.balance, list(PointsEntry.objects.filter(account=account).values_list("points", flat=True)))
    assert after == before
    assert account.balance == PointsEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"]
    assert list(Purchase.objects.filter(account=account).values_list("amount", flat=True)) == amounts
    card = Card.objects.get(number="PHYS-1")
    assert (card.status, card.member) == (CardStatus.BLOCKED, None)


def test_the_member_page_says_erased_after_erasure(owner_client, siti):
    erase(owner_client, siti)

    html = owner_client.get(reverse("rewards:member", args=[siti.pk])).content.decode()

    assert 'id="erased"' in html
    assert "Personal data erased on" in html
    assert "Siti" not in html


def test_erasure_takes_the_members_name_out_of_the_audit_log(owner_client, client, siti):
    client.post(delete_url(siti))

    erase(owner_client, siti)

    assert not AuditLog.objects.filter(object_repr__contains="Siti").exists()
    assert AuditLog.objects.filter(action="member.deletion_requested", object_id=str(siti.pk)).exists()


@pytest.mark.parametrize("typed", ["", "erase", "Siti"])
def test_erasure_needs_the_members_name_typed(owner_client, siti, typed):
    response = erase(owner_client, siti, confirm=typed)

    assert "Type the member" in text_of(owner_client.get(response["Location"]))
    siti.refresh_from_db()
    assert (siti.erased_at, siti.first_name) == (None, "Siti")


def test_the_typed_name_may_differ_in_case_and_spaces(owner_client, siti):
    erase(owner_client, siti, confirm="  siti   AMINAH ")

    siti.refresh_from_db()
    assert siti.erased_at is not None


def test_a_manager_cannot_erase(manager_client, siti):
    assert erase(manager_client, siti).status_code == 403
    siti.refresh_from_db()
    assert siti.erased_at is None


def test_a_cashier_cannot_erase(cashier_client, siti):
    assert erase(cashier_client, siti).status_code == 403
    siti.refresh_from_db()
    assert siti.erased_at is None


def test_another_shops_member_cannot_be_erased(owner_client, enroll, other_merchant):
    stranger = enroll(merchant=other_merchant, first_name="Lek")

    assert erase(owner_client, stranger).status_code == 404
    stranger.refresh_from_db()
    assert stranger.erased_at is None


def test_an_erased_members_links_stop_working(owner_client, client, siti):
    links = [
        reverse("portal:card", args=[card_token(siti)]),
        details_url(siti),
        delete_url(siti),
        reverse("portal:data_json", args=[card_token(siti)]),
        reverse("member_portal:unsubscribe", args=[unsubscribe_token(siti)]),
    ]
    client.get(links[0])  # this browser remembers the card

    member_request_deletion(member=siti)
    erase(owner_client, siti)

    assert [client.get(link).status_code for link in links] == [404] * len(links)
    assert client.get(reverse("portal:home")).status_code == 404
