"""Exports: members, the points history for a date range, vouchers; CSV and XLSX, streamed.

Data is made through the real services (enrolment, purchases, redemptions), so the files show what a
shop would really download. Each export answers for its own shop only, and only to owners and managers.
"""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from members.models import MemberTag, Tag
from members.services import member_enroll
from merchants.actors import Actor
from merchants.models import AuditLog, Role
from rewards import ledger
from rewards.exports import neutralise
from rewards.imports.columns import IGNORE, TARGETS, suggest
from tests.factories import RewardFactory, StaffFactory, TierFactory

pytestmark = pytest.mark.django_db

KL = timezone.get_fixed_timezone(8 * 60)  # Asia/Kuala_Lumpur, the merchant fixture's zone: UTC+8 all year


# ---------------------------------------------------------------------------------------------
# Helpers


def download(client, what: str, fmt: str = "csv", **params: str):
    return client.get(reverse(f"rewards:export_{what}", args=[fmt]), params)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(body(response))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def records(rows: list[list]) -> list[dict]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def enrol(merchant, actor: Actor, **fields):
    return member_enroll(merchant=merchant, actor=actor, **fields)


def buy(member, actor: Actor, amount: str, receipt: str = "", *, monkeypatch=None, at: datetime | None = None):
    """A purchase at the counter; `at` records it at that moment (the ledger takes its time from timezone.now)."""
    if at is None:
        return ledger.purchase_record(member=member, amount=Decimal(amount), receipt=receipt, actor=actor)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: at)
        return ledger.purchase_record(member=member, amount=Decimal(amount), receipt=receipt, actor=actor)


@pytest.fixture
def actor(manager) -> Actor:
    return Actor.for_staff(manager, location=manager.merchant.locations.first())


@pytest.fixture
def siti(merchant, program, actor):
    return enrol(merchant, actor, first_name="Siti", last_name="Aminah", phone="0123456789", email="siti@example.com")


@pytest.fixture
def stranger(other_merchant):
    """Another shop's member, with a purchase and a voucher of her own."""
    ledger.program_for(other_merchant)
    their_actor = Actor.for_staff(StaffFactory(merchant=other_merchant, role=Role.MANAGER))
    member = enrol(other_merchant, their_actor, first_name="Stranger", phone="+66812345678")
    buy(member, their_actor, "500", receipt="THEIRS")
    reward = RewardFactory(merchant=other_merchant, name="Their coffee", points_cost=100)
    ledger.reward_redeem(member=member, reward=reward, actor=their_actor)
    return member


# ---------------------------------------------------------------------------------------------
# Members


def test_members_csv_has_balance_tier_and_consent(manager_client, merchant, program, actor):
    TierFactory(merchant=merchant, name="Gold", threshold=Decimal(100))
    member = enrol(merchant, actor, first_name="Siti", phone="0123456789", email="siti@example.com", email_consent=True)
    buy(member, actor, "150")

    [row] = records(csv_rows(download(manager_client, "members")))

    assert row[str(TARGETS["points"])] == "150"
    assert row[str(TARGETS["tier"])] == "Gold"
    assert row[str(TARGETS["total_spent"])] == "150.00"
    assert row[str(TARGETS["visits"])] == "1"
    assert (row[str(TARGETS["email_consent"])], row[str(TARGETS["sms_consent"])]) == ("yes", "no")


def test_members_csv_lists_tags_and_shop_local_join_date(manager_client, merchant, siti):
    # 20:00 UTC on 1 Dec is 04:00 on 2 Dec in Kuala Lumpur.
    type(siti).objects.filter(pk=siti.pk).update(joined_at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    for name in ("vip", "wholesale"):
        MemberTag.objects.create(merchant=merchant, member=siti, tag=Tag.objects.create(merchant=merchant, name=name))

    [row] = records(csv_rows(download(manager_client, "members")))

    assert row[str(TARGETS["tags"])] == "vip, wholesale"
    assert row[str(TARGETS["joined"])] == "2026-12-02"


def test_members_csv_is_utf8_with_bom(manager_client, merchant, program, actor):
    enrol(merchant, actor, first_name="สมชาย", last_name="Шевченко", phone="0123456789")

    content = body(download(manager_client, "members"))

    assert content.startswith(b"\xef\xbb\xbf")
    assert "สมชาย,Шевченко" in content.decode("utf-8-sig")


def test_members_stamp_card_exports_stamps_column(manager_client, merchant, program, siti):
    program.mode = "stamps"
    program.save()

    header = csv_rows(download(manager_client, "members"))[0]

    assert str(TARGETS["stamps"]) in header
    assert str(TARGETS["points"]) not in header


def test_members_export_headers_are_recognised_by_the_importer(manager_client, siti):
    header = csv_rows(download(manager_client, "members"))[0]

    unmapped = [name for name, target in zip(header, suggest(header), strict=True) if target == IGNORE]

    assert unmapped == ["Joined through"]


def test_members_xlsx_has_the_csv_header_and_numeric_cells(manager_client, siti, actor):
    buy(siti, actor, "150")

    rows = xlsx_rows(download(manager_client, "members", "xlsx"))

    assert rows[0] == csv_rows(download(manager_client, "members"))[0]
    [row] = records(rows)
    assert row[str(TARGETS["first_name"])] == "Siti"
    assert row[str(TARGETS["points"])] == 150
    assert row[str(TARGETS["total_spent"])] == 150


def test_members_csv_does_not_query_per_member(manager_client, merchant, program, actor, django_assert_max_num_queries):
    tag = Tag.objects.create(merchant=merchant, name="regular")
    for n in range(30):
        member = enrol(merchant, actor, first_name=f"Member {n}", phone=f"01234{n:05d}")
        MemberTag.objects.create(merchant=merchant, member=member, tag=tag)

    with django_assert_max_num_queries(10):
        rows = csv_rows(download(manager_client, "members"))

    assert len(rows) == 31


# ---------------------------------------------------------------------------------------------
# Formula injection


@pytest.mark.parametrize("text", ["=1+2", "+60123", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_formula_starts(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-30, Decimal("-1.50"), "Siti", "", None])
def test_neutralise_leaves_numbers_and_plain_text(value):
    assert neutralise(value) == value


def test_formula_in_a_name_is_neutralised_in_csv(manager_client, merchant, program, actor):
    enrol(merchant, actor, first_name='=HYPERLINK("x")', phone="0123456789")

    [row] = records(csv_rows(download(manager_client, "members")))

    assert row[str(TARGETS["first_name"])] == """'=HYPERLINK("x")"""
    assert row[str(TARGETS["phone"])] == "'+60123456789"


def test_formula_in_a_name_is_text_in_xlsx(manager_client, merchant, program, actor):
    enrol(merchant, actor, first_name='=HYPERLINK("x")', phone="0123456789")

    sheet = load_workbook(io.BytesIO(body(download(manager_client, "members", "xlsx")))).active
    cell = sheet.cell(row=2, column=1)

    assert cell.value == """'=HYPERLINK("x")"""
    assert cell.data_type == "s"


def test_negative_points_stay_numbers(manager_client, siti, actor):
    buy(siti, actor, "100")
    ledger.points_adjust(member=siti, points=-30, reason="typo", actor=actor, idempotency_key="fix")

    csv_points = [row["Points"] for row in records(csv_rows(download(manager_client, "ledger")))]
    xlsx_points = [row["Points"] for row in records(xlsx_rows(download(manager_client, "ledger", "xlsx")))]

    assert csv_points == ["100", "-30"]
    assert xlsx_points == [100, -30]


# ---------------------------------------------------------------------------------------------
# The ledger's date range


def test_ledger_range_starts_at_the_shops_midnight(manager_client, siti, actor, monkeypatch):
    buy(siti, actor, "10", "LATE-NOV-30", monkeypatch=monkeypatch, at=datetime(2026, 11, 30, 23, 50, tzinfo=KL))
    buy(siti, actor, "20", "EARLY-DEC-1", monkeypatch=monkeypatch, at=datetime(2026, 12, 1, 0, 10, tzinfo=KL))

    rows = records(csv_rows(download(manager_client, "ledger", start="2026-12-01", end="2026-12-31")))

    assert [row["Receipt"] for row in rows] == ["EARLY-DEC-1"]
    assert rows[0]["Date and time"] == "2026-12-01 00:10"


def test_ledger_range_includes_the_whole_end_day(manager_client, siti, actor, monkeypatch):
    buy(siti, actor, "10", "LATE-DEC-1", monkeypatch=monkeypatch, at=datetime(2026, 12, 1, 23, 50, tzinfo=KL))
    buy(siti, actor, "20", "EARLY-DEC-2", monkeypatch=monkeypatch, at=datetime(2026, 12, 2, 0, 10, tzinfo=KL))

    rows = records(csv_rows(download(manager_client, "ledger", start="2026-11-01", end="2026-12-01")))

    assert [row["Receipt"] for row in rows] == ["LATE-DEC-1"]


def test_ledger_defaults_to_the_last_30_days(manager_client, siti, actor, monkeypatch):
    buy(siti, actor, "10", "OLD", monkeypatch=monkeypatch, at=timezone.now() - timedelta(days=31))
    buy(siti, actor, "20", "RECENT")

    rows = records(csv_rows(download(manager_client, "ledger")))

    assert [row["Receipt"] for row in rows] == ["RECENT"]


def test_ledger_line_names_member_kind_location_and_actor(manager_client, siti, actor, manager):
    buy(siti, actor, "25", "R-77")

    [row] = records(csv_rows(download(manager_client, "ledger")))

    assert row["Member"] == "Siti Aminah"
    assert row["Kind"] == "Purchase"
    assert row["Balance after"] == "25"
    assert row["Location"] == "SS2"
    assert row["By"] == str(manager.user)


def test_ledger_end_before_start_shows_the_error_on_the_page(manager_client, siti):
    response = download(manager_client, "ledger", start="2026-12-10", end="2026-12-01")

    assert response.status_code == 400
    assert "rewards/export.html" in [t.name for t in response.templates]
    assert "The end date is before the start date." in response.content.decode()


def test_ledger_range_over_400_days_is_refused(manager_client, siti):
    response = download(manager_client, "ledger", start="2025-01-01", end="2026-02-05")

    assert response.status_code == 400
    assert "Choose at most 400 days at a time." in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Vouchers


def test_vouchers_csv_lists_a_redemption(manager_client, merchant, siti, actor):
    buy(siti, actor, "150")
    reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=100)
    voucher = ledger.reward_redeem(member=siti, reward=reward, actor=actor)

    [row] = records(csv_rows(download(manager_client, "vouchers")))

    assert row["Voucher code"] == voucher.code
    assert (row["Reward"], row["Member"], row["Points"]) == ("Free wash", "Siti Aminah", "100")
    assert row["Status"] == "Ready to use"


# ---------------------------------------------------------------------------------------------
# Streaming, tenancy, roles, audit


def test_csv_is_streamed(manager_client, siti):
    assert isinstance(download(manager_client, "members"), StreamingHttpResponse)


def test_xlsx_is_a_streamed_file(manager_client, siti):
    response = download(manager_client, "members", "xlsx")

    assert isinstance(response, FileResponse)
    assert response.streaming


def test_download_is_an_attachment_named_for_the_shop(manager_client, merchant, siti):
    response = download(manager_client, "vouchers", "xlsx")

    today = ledger.local_today(merchant).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="vouchers-{merchant.slug}-{today}.xlsx"'


@pytest.mark.parametrize("what", ["members", "ledger", "vouchers"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_another_shops_data_never_appears(manager_client, siti, actor, stranger, what, fmt):
    buy(siti, actor, "150", "OURS")
    reward = RewardFactory(merchant=siti.merchant, name="Free wash", points_cost=100)
    ledger.reward_redeem(member=siti, reward=reward, actor=actor)

    response = download(manager_client, what, fmt)
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

    cells = {str(cell) for row in rows[1:] for cell in row}
    assert {"Stranger", "'+66812345678", "THEIRS", "Their coffee", stranger.card_number}.isdisjoint(cells)
    assert siti.card_number in cells


@pytest.mark.parametrize("name", ["export_members", "export_ledger", "export_vouchers"])
def test_cashier_cannot_download(cashier_client, name):
    assert cashier_client.get(reverse(f"rewards:{name}", args=["csv"])).status_code == 403


def test_cashier_cannot_open_the_export_page(cashier_client):
    assert cashier_client.get(reverse("rewards:export")).status_code == 403


def test_unknown_format_is_404(manager_client, siti):
    assert download(manager_client, "members", "pdf").status_code == 404


def test_download_is_written_to_the_audit_log(owner_client, owner, merchant, siti):
    download(owner_client, "ledger", "xlsx", start="2026-12-01", end="2026-12-02")

    entry = AuditLog.objects.get(merchant=merchant, action="data.export")
    assert entry.actor == owner.user
    assert entry.after == {"what": "ledger", "format": "xlsx", "start": "2026-12-01", "end": "2026-12-02"}


def test_export_page_shows_member_count_and_default_range(owner_client, merchant, siti):
    response = owner_client.get(reverse("rewards:export"))

    content = response.content.decode()
    today = ledger.local_today(merchant)
    assert "1 member" in content
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in content
    assert f'value="{today.isoformat()}"' in content
