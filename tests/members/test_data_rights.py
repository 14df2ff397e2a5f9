"""A member's data rights from the console: the staff's download of everything held on a member,
what an erasure removes (and what it keeps), the consent history on the member page, and the shop's
privacy text on the sign-up page and the member's own page."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Message, Segment
from members.models import ConsentEvent, LoginCode, Member, MemberTag, Tag
from members.portal import card_token
from members.selectors import member_search
from members.services import member_by_card, member_enroll, member_erase
from merchants.actors import Actor
from merchants.models import AuditLog
from tests.factories import MemberFactory
from tests.rewards.test_portal import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(owner) -> Actor:
    return Actor.for_staff(owner, location=owner.merchant.locations.first())


@pytest.fixture
def siti(merchant, boss) -> Member:
    member = member_enroll(
        merchant=merchant, actor=boss, first_name="Siti", last_name="Aminah", phone="012-345 6789",
        email="siti@example.com", email_consent=True,
    )  # fmt: skip
    Member.objects.filter(pk=member.pk).update(notes="Prefers the cold wash")
    MemberTag.objects.create(merchant=merchant, member=member, tag=Tag.objects.create(merchant=merchant, name="vip"))
    segment = Segment.objects.create(merchant=merchant, name="Everyone", rules={})
    campaign = Campaign.objects.create(merchant=merchant, name="Come back soon", segment=segment, body="Hi")
    Message.objects.create(
        merchant=merchant, campaign=campaign, member=member, occurrence=timezone.localdate(), channel="email",
        context={"first_name": "Siti"},
    )  # fmt: skip
    member.refresh_from_db()
    return member


def staff_export(client, member: Member, fmt: str = "json"):
    return client.get(reverse(f"members:data_{fmt}", args=[member.pk]))


# ---------------------------------------------------------------------------------------------
# The staff's download


def test_staff_export_holds_notes_tags_consents_and_messages(manager_client, siti):
    response = staff_export(manager_client, siti)

    data = json.loads(response.getvalue())
    assert (data["profile"]["notes"], data["tags"]) == ("Prefers the cold wash", [{"name": "vip"}])
    assert [(c["channel"], c["granted"]) for c in data["consents"]] == [("email", True)]
    assert [(m["campaign"], m["channel"]) for m in data["messages"]] == [("Come back soon", "email")]


def test_staff_export_holds_nothing_of_another_member_or_shop(manager_client, siti, merchant, other_merchant):
    MemberFactory(merchant=merchant, first_name="Zainal", notes="Neighbour's notes")
    MemberFactory(merchant=other_merchant, first_name="Lek", phone=siti.phone, email=siti.email)

    body = staff_export(manager_client, siti, "csv").getvalue().decode()

    assert "Siti" in body
    assert not {"Zainal", "Neighbour", "Lek"} & set(body.replace(",", " ").split())


def test_staff_export_is_in_the_audit_log_without_the_data(manager_client, manager, siti):
    staff_export(manager_client, siti, "csv")

    entry = AuditLog.objects.get(action="member.export")
    assert (entry.actor, entry.object_id, entry.after) == (manager.user, str(siti.pk), {"format": "csv"})


def test_a_cashier_cannot_export(cashier_client, siti):
    assert staff_export(cashier_client, siti).status_code == 403
    assert not AuditLog.objects.filter(action="member.export").exists()


def test_another_shops_member_cannot_be_exported(manager_client, other_merchant):
    stranger = MemberFactory(merchant=other_merchant)

    assert staff_export(manager_client, stranger).status_code == 404


# ---------------------------------------------------------------------------------------------
# What erasure removes and keeps


def test_erasure_removes_tags_notes_login_codes_and_message_contents(siti, boss):
    LoginCode.objects.create(merchant=siti.merchant, member=siti, code_hash="x", expires_at=timezone.now())

    member_erase(member=siti, actor=boss)

    siti.refresh_from_db()
    assert siti.notes == ""
    assert not MemberTag.objects.filter(member=siti).exists()
    assert not LoginCode.objects.filter(member=siti).exists()
    assert Message.objects.get(member=siti).context == {}


def test_erasure_gives_new_card_and_referral_codes(siti, boss):
    old = (siti.card_number, siti.referral_code)

    member_erase(member=siti, actor=boss)

    siti.refresh_from_db()
    assert siti.card_number != old[0]
    assert siti.referral_code != old[1]
    assert member_by_card(merchant=siti.merchant, number=old[0]) is None


def test_an_erased_member_is_not_found_by_the_old_phone_or_email(siti, boss):
    member_erase(member=siti, actor=boss)

    for query in ("012-345 6789", "siti@example.com", "Siti"):
        assert list(member_search(merchant=siti.merchant, query=query)) == [], query


def test_the_phone_and_email_can_enrol_again_after_erasure(siti, boss, merchant):
    member_erase(member=siti, actor=boss)

    again = member_enroll(
        merchant=merchant, actor=boss, first_name="Siti", phone="0123456789", email="siti@example.com"
    )

    assert again.pk != siti.pk


def test_erasing_twice_changes_nothing_the_second_time(siti, boss):
    member_erase(member=siti, actor=boss)
    siti.refresh_from_db()
    first = (siti.erased_at, siti.card_number, ConsentEvent.objects.filter(member=siti).count())

    member_erase(member=siti, actor=boss)

    siti.refresh_from_db()
    assert (siti.erased_at, siti.card_number, ConsentEvent.objects.filter(member=siti).count()) == first
    assert AuditLog.objects.filter(action="member.erase").count() == 1


def test_the_erasure_audit_entry_holds_no_personal_data(siti, boss):
    member_erase(member=siti, actor=boss)

    entry = AuditLog.objects.get(action="member.erase")
    assert "Siti" not in f"{entry.object_repr} {entry.before} {entry.after}"


def test_a_manager_cannot_erase_through_the_service(siti, manager):
    with pytest.raises(PermissionDenied):
        member_erase(member=siti, actor=Actor.for_staff(manager))

    siti.refresh_from_db()
    assert siti.erased_at is None


def test_an_erased_members_card_session_stops_working(client, siti, owner_client):
    client.get(reverse("portal:card", args=[card_token(siti)]))
    assert client.get(reverse("portal:home")).status_code == 302

    owner_client.post(reverse("members:erase", args=[siti.pk]), {"confirm": "Siti Aminah"})

    assert client.get(reverse("portal:home")).status_code == 404


# ---------------------------------------------------------------------------------------------
# The consent history on the member's console page


def test_the_member_page_shows_the_consent_history(cashier_client, siti, client, owner):
    client.post(
        reverse("member_portal:details", args=[card_token(siti)]),
        {
            "first_name": "Siti",
            "last_name": "Aminah",
            "phone": "0123456789",
            "email": "siti@example.com",
            "language": "",
            "birthday": "",
        },
    )  # fmt: skip: the member withdraws email offers on their own page

    page = text_of(cashier_client.get(reverse("rewards:member", args=[siti.pk])))

    history = page.split("Consent history", 1)[1]
    assert "Email withdrawn Member's own page the member" in history
    assert f"Email given Counter {owner.user}" in history
    assert history.index("withdrawn") < history.index("given")  # newest first


# ---------------------------------------------------------------------------------------------
# The privacy text


def test_the_sign_up_page_shows_the_default_privacy_text(client, merchant):
    page = text_of(client.get(reverse("public:signup", args=[merchant.slug])))

    assert "Bubbles Laundromat keeps your name, contact details, purchases and points" in page


def test_the_sign_up_page_and_the_members_page_show_the_shops_own_text(client, merchant, siti):
    merchant.privacy_text = "We keep your data in Selangor for two years."
    merchant.save()

    for url in (
        reverse("public:signup", args=[merchant.slug]),
        reverse("member_portal:details", args=[card_token(siti)]),
    ):
        page = text_of(client.get(url))
        assert "We keep your data in Selangor for two years." in page
        assert "keeps your name, contact details" not in page


def test_the_owner_saves_the_privacy_text_and_retention(owner_client, merchant):
    form = {"name": merchant.name, "country": merchant.country, "currency": merchant.currency,
            "timezone": merchant.timezone, "language": merchant.language}  # fmt: skip

    owner_client.post(reverse("merchants:settings"), form | {"privacy_text": "Our words.", "erase_inactive_years": "3"})

    merchant.refresh_from_db()
    assert (merchant.privacy_text, merchant.erase_inactive_years) == ("Our words.", 3)
    assert AuditLog.objects.filter(action="merchant.update", after__erase_inactive_years=3).exists()


@pytest.mark.parametrize("years", ["0", "51", "two"])
def test_a_retention_that_is_not_1_to_50_years_is_refused(owner_client, merchant, years):
    form = {"name": merchant.name, "country": merchant.country, "currency": merchant.currency,
            "timezone": merchant.timezone, "language": merchant.language, "erase_inactive_years": years}  # fmt: skip

    response = owner_client.post(reverse("merchants:settings"), form)

    assert "Give a number of years from 1 to 50" in text_of(response)
    merchant.refresh_from_db()
    assert merchant.erase_inactive_years is None
