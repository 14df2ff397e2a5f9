"""Importing customers: the dry run, matching, opening balances, tiers, consents, tags, bad rows."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from openpyxl import Workbook

from members.models import ConsentEvent, Member, Source
from members.services import member_enroll
from merchants.actors import Actor
from rewards.imports.jobs import import_apply
from rewards.imports.models import ImportJob, ImportStatus
from rewards.imports.services import import_apply_start
from rewards.ledger import points_adjust, program_for, purchase_record
from rewards.models import Account, Kind, PointsEntry, TierChange
from tests.factories import StaffFactory, TierFactory

from .conftest import Importer, messages_of

BASIC = ["first_name", "last_name", "phone", "email", "points"]
HEAD = "First,Last,Phone,Email,Points\n"


def balance_of(member: Member) -> int:
    return Account.objects.get(member=member).balance


def test_the_check_counts_rows_and_writes_nothing(importer, merchant):
    job = importer.check(HEAD + "Siti,Aminah,012-345 6789,siti@example.com,120\nBob,Lee,bad,,5\n", mapping=BASIC)
    assert (job.status, job.new, job.invalid, Member.objects.for_merchant(merchant).count()) == (
        ImportStatus.CHECKED,
        1,
        1,
        0,
    )


def test_applying_creates_members_with_normalised_contacts(importer, merchant):
    importer.run(HEAD + "Siti,Aminah,012-345 6789, Siti@Example.com ,\n", mapping=BASIC)
    member = Member.objects.for_merchant(merchant).get()
    assert (member.phone, member.email, member.source, member.name) == (
        "+60123456789",
        "siti@example.com",
        Source.IMPORT,
        "Siti Aminah",
    )


def test_an_opening_balance_is_an_import_entry_naming_the_file_and_row(importer, merchant):
    importer.run(HEAD + "Siti,Aminah,0123456789,,120\n", mapping=BASIC, name="old-app.csv")
    entry = PointsEntry.objects.get(merchant=merchant)
    assert (entry.kind, entry.points, entry.reason, entry.account.balance) == (
        Kind.IMPORT,
        120,
        "old-app.csv, row 2",
        120,
    )


def test_importing_the_same_file_twice_changes_nothing_the_second_time(importer, merchant):
    text = HEAD + "Siti,Aminah,0123456789,siti@example.com,120\nBob,Lee,0123456788,,30\n"
    importer.run(text, mapping=BASIC)
    again = importer.check(text, mapping=BASIC)
    importer.apply(again)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert PointsEntry.objects.filter(merchant=merchant).count() == 2
    assert Member.objects.for_merchant(merchant).count() == 2


def test_a_corrected_balance_writes_only_the_difference(importer, merchant):
    importer.run(HEAD + "Siti,Aminah,0123456789,,120\n", mapping=BASIC)
    job = importer.run(HEAD + "Siti,Aminah,0123456789,,150\n", mapping=BASIC)
    member = Member.objects.for_merchant(merchant).get()
    points = PointsEntry.objects.filter(account__member=member).order_by("pk").values_list("points", flat=True)
    assert (job.updated, list(points), balance_of(member)) == (1, [120, 30], 150)


def test_points_earned_here_stay_when_an_opening_balance_comes_in(importer, merchant, manager):
    actor = Actor.for_staff(manager)
    member = member_enroll(merchant=merchant, actor=actor, first_name="Siti", phone="0123456789")
    purchase_record(member=member, amount=Decimal(40), actor=actor)
    importer.run(HEAD + "Siti,,+60 12-345 6789,,100\n", mapping=BASIC)
    assert balance_of(member) == 140


def test_a_balance_lower_than_what_was_spent_since_is_refused(importer, merchant, manager):
    importer.run(HEAD + "Siti,,0123456789,,100\n", mapping=BASIC)
    member = Member.objects.for_merchant(merchant).get()
    account = Account.objects.get(member=member)
    points_adjust(member=member, points=-90, reason="spent", actor=Actor.for_staff(manager))
    job = importer.check(HEAD + "Siti,,0123456789,,5\n", mapping=BASIC)
    account.refresh_from_db()
    assert (job.invalid, account.balance) == (1, 10)
    assert "below zero" in messages_of(job)[2][0]


def test_an_existing_member_is_matched_by_phone_in_any_format_and_updated(importer, merchant, manager):
    member = member_enroll(merchant=merchant, actor=Actor.for_staff(manager), first_name="Siti", phone="0123456789")
    job = importer.run(HEAD + "Siti,Aminah,+60 12 345 6789,siti@example.com,\n", mapping=BASIC)
    member.refresh_from_db()
    assert (job.new, job.updated, member.last_name, member.email) == (0, 1, "Aminah", "siti@example.com")


def test_an_existing_member_is_matched_by_email_whatever_its_case(importer, merchant, manager):
    member_enroll(merchant=merchant, actor=Actor.for_staff(manager), first_name="Siti", email="siti@example.com")
    job = importer.run(HEAD + "Siti,,,SITI@EXAMPLE.COM ,\n", mapping=BASIC)
    assert (job.new, job.unchanged, Member.objects.for_merchant(merchant).count()) == (0, 1, 1)


def test_blank_cells_never_erase_what_a_member_has(importer, merchant, manager):
    member = member_enroll(
        merchant=merchant, actor=Actor.for_staff(manager), first_name="Siti", last_name="Aminah", phone="0123456789"
    )
    importer.run(HEAD + ",,0123456789,,\n", mapping=BASIC)
    member.refresh_from_db()
    assert member.name == "Siti Aminah"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("Siti,,0123456789,,1\nSiti,,0123456789,,1\n", "The same customer as row 2"),
        ("Siti,,0123456789,,1\nSiti,,+60 12-345 6789,,1\n", "The same customer as row 2"),
        ("Siti,,,siti@example.com,1\nS,,, SITI@example.com,1\n", "The same customer as row 2"),
    ],
)
def test_a_customer_twice_in_one_file_is_imported_once(importer, merchant, rows, expected):
    job = importer.run(HEAD + rows, mapping=BASIC)
    assert (job.new, Member.objects.for_merchant(merchant).count()) == (1, 1)
    assert expected in messages_of(job)[3][0]


def test_a_row_whose_phone_and_email_belong_to_two_members_is_refused(importer, merchant, manager):
    actor = Actor.for_staff(manager)
    member_enroll(merchant=merchant, actor=actor, first_name="Ann", phone="0123456789")
    member_enroll(merchant=merchant, actor=actor, first_name="Bob", email="bob@example.com")
    job = importer.check(HEAD + "X,,0123456789,bob@example.com,\n", mapping=BASIC)
    assert job.invalid == 1
    assert "different members" in messages_of(job)[2][0]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("abc", "“abc” is not a number."),
        ("-5", "below zero"),
        ("12.5", "not a whole number"),
    ],
)
def test_a_bad_balance_is_refused_with_its_reason(importer, cell, expected):
    job = importer.check(HEAD + f"Siti,,0123456789,,{cell}\n", mapping=BASIC)
    assert job.invalid == 1
    assert expected in messages_of(job)[2][0]


def test_an_impossible_date_is_refused(importer):
    job = importer.check("Phone,Birthday\n0123456789,31/02/1990\n", mapping=["phone", "birthday"])
    assert messages_of(job) == {2: ["Birthday: “31/02/1990” is not a real date."]}


def test_a_row_without_phone_email_or_card_is_refused(importer):
    job = importer.check(HEAD + "Siti,Aminah,,,5\n", mapping=BASIC)
    assert "No phone number, email or card number" in messages_of(job)[2][0]


def test_nothing_is_written_for_invalid_rows_when_the_good_ones_are_applied(importer, merchant):
    importer.run(HEAD + "Siti,,0123456789,,10\nBob,,12,,20\n", mapping=BASIC)
    assert list(Member.objects.for_merchant(merchant).values_list("first_name", flat=True)) == ["Siti"]
    assert PointsEntry.objects.filter(merchant=merchant).aggregate(s=Sum("points"))["s"] == 10


def test_birthday_join_date_and_last_visit_are_kept(importer, merchant):
    importer.run(
        "Phone,Birthday,Joined,Last visit\n0123456789,15/03/1990,01/06/2023,20/11/2024\n",
        mapping=["phone", "birthday", "joined", "last_visit"],
    )
    member = Member.objects.for_merchant(merchant).get()
    account = Account.objects.get(member=member)
    local = account.last_purchase_at.astimezone(merchant.tzinfo)
    assert (member.birthday, member.joined_at.astimezone(merchant.tzinfo).date(), local.date()) == (
        date(1990, 3, 15),
        date(2023, 6, 1),
        date(2024, 11, 20),
    )


def test_total_spent_and_visits_are_kept_apart_from_purchases_here(importer, merchant):
    importer.run('Phone,Total spent,Visits\n0123456789,"1,234.50",17\n', mapping=["phone", "total_spent", "visits"])
    account = Account.objects.get(member__merchant=merchant)
    assert (account.opening_spend, account.opening_visits, account.lifetime_spend, account.purchase_count) == (
        Decimal("1234.50"),
        17,
        0,
        0,
    )


def test_a_tier_is_kept_and_its_change_recorded(importer, merchant):
    gold = TierFactory(merchant=merchant, name="Gold", threshold=1000)
    importer.run("Phone,Level\n0123456789,gold\n", mapping=["phone", "tier"])
    account = Account.objects.get(member__merchant=merchant)
    change = TierChange.objects.get(account=account)
    assert (account.tier, change.to_tier, change.reason, account.tier_until is not None) == (gold, gold, "import", True)


def test_an_unknown_tier_is_refused_naming_the_shops_tiers(importer, merchant):
    TierFactory(merchant=merchant, name="Gold")
    TierFactory(merchant=merchant, name="Silver")
    job = importer.check("Phone,Level\n0123456789,Platinum\n", mapping=["phone", "tier"])
    assert messages_of(job)[2] == ["Level: No tier is called “Platinum” (your tiers: Gold, Silver)."]


def test_consent_is_kept_with_its_source(importer, merchant):
    importer.run(
        "Phone,Email,Newsletter\n0123456789,siti@example.com,yes\n", mapping=["phone", "email", "email_consent"]
    )
    member = Member.objects.for_merchant(merchant).get()
    event = ConsentEvent.objects.get(member=member)
    assert (member.email_consent, event.source, event.granted, event.detail) == (
        True,
        "import",
        True,
        "customers.csv, row 2",
    )


def test_consent_for_a_channel_without_an_address_is_refused(importer):
    job = importer.check("Phone,SMS\n,yes\n", mapping=["phone", "sms_consent"])
    assert job.invalid == 1


def test_a_withdrawn_consent_is_recorded_for_an_existing_member(importer, merchant, manager):
    member = member_enroll(
        merchant=merchant, actor=Actor.for_staff(manager), phone="0123456789", sms_consent=True, first_name="S"
    )
    importer.run("Phone,SMS\n0123456789,no\n", mapping=["phone", "sms_consent"])
    member.refresh_from_db()
    assert (member.sms_consent, member.consent_events.first().source) == (False, "import")


def test_tags_are_added_once(importer, merchant):
    text = 'Phone,Tags\n0123456789,"vip, wholesale"\n'
    importer.run(text, mapping=["phone", "tags"])
    again = importer.run(text, mapping=["phone", "tags"])
    member = Member.objects.for_merchant(merchant).get()
    assert (sorted(t.name for t in member.tags.all()), again.unchanged) == (["vip", "wholesale"], 1)


def test_columns_kept_as_notes_are_written_with_their_header(importer, merchant):
    importer.run("Phone,Favourite,Notes\n0123456789,Latte,Allergic to nuts\n", mapping=["phone", "note", "notes"])
    assert Member.objects.for_merchant(merchant).get().notes == "Favourite: Latte\nAllergic to nuts"


def test_a_stamp_card_imports_stamps_as_the_balance(importer, merchant):
    program = program_for(merchant)
    program.mode = "stamps"
    program.save()
    importer.run("Phone,Stamps\n0123456789,7\n", mapping=["phone", "stamps"])
    assert Account.objects.get(member__merchant=merchant).balance == 7


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (["first_name", "points"], "phone numbers, emails or card numbers"),
        (["phone", "phone"], "Two columns"),
        (["phone", "stamps"], "Your program gives points"),
        (["phone", "tier"], "no tiers yet"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_before_the_check(importer, mapping, expected):
    job = importer.upload("A,B\n0123456789,5\n")
    with pytest.raises(ValidationError, match=expected):
        importer.check("A,B\n0123456789,5\n", mapping=mapping)
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_an_import_never_touches_another_shops_member_with_the_same_phone(importer, merchant, other_merchant):
    other_staff = StaffFactory(merchant=other_merchant, role="owner")
    theirs = member_enroll(
        merchant=other_merchant, actor=Actor.for_staff(other_staff), first_name="Somchai", phone="+60123456789"
    )
    job = importer.run(HEAD + "Siti,,0123456789,,50\n", mapping=BASIC)
    theirs.refresh_from_db()
    assert (job.new, theirs.first_name, balance_of(theirs)) == (1, "Somchai", 0)


def test_a_cashier_cannot_import(merchant, cashier):
    with pytest.raises(PermissionDenied):
        Importer(merchant, cashier).upload(HEAD + "Siti,,0123456789,,5\n")


def test_an_applied_import_cannot_be_applied_again(importer):
    job = importer.run(HEAD + "Siti,,0123456789,,5\n", mapping=BASIC)
    with pytest.raises(ValidationError, match="not possible any more"):
        import_apply_start(job=job, actor=importer.actor)


def test_an_import_that_stopped_midway_carries_on_without_doubling(importer, merchant, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    text = HEAD + "".join(f"P{i},,01234567{i:02d},,{i + 1}\n" for i in range(5))
    job = importer.run(text, mapping=BASIC)
    # As if the worker died after the second chunk: the retry starts from where that chunk ended.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.APPLYING, rows_done=4, data=text.encode())
    import_apply(merchant_id=merchant.pk, job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, Member.objects.for_merchant(merchant).count()) == (ImportStatus.DONE, 5)
    assert PointsEntry.objects.filter(merchant=merchant).aggregate(s=Sum("points"))["s"] == 15


def test_a_large_file_runs_in_the_worker_and_finishes(importer, merchant, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_ROWS = 1
    text = HEAD + "Siti,,0123456789,,5\nBob,,0123456788,,6\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = importer.check(text, mapping=BASIC)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    with django_capture_on_commit_callbacks(execute=True):
        job = importer.apply(job)
    job.refresh_from_db()
    assert (job.status, job.new, job.data.tobytes() if hasattr(job.data, "tobytes") else job.data) == (
        ImportStatus.DONE,
        2,
        b"",
    )


def test_a_workbook_imports_like_a_csv(importer, merchant):
    book = Workbook()
    book.active.append(["Phone", "Points"])
    book.active.append(["0123456789", 42])
    buffer = io.BytesIO()
    book.save(buffer)
    importer.run(buffer.getvalue(), mapping=["phone", "points"], name="customers.xlsx")
    assert balance_of(Member.objects.for_merchant(merchant).get()) == 42
