"""The shop's data as spreadsheets: members, the points history for a date range, vouchers.

Each export is a Table: translated headers and a lazy iterator of rows, read from the database in
chunks, so a shop with 200,000 members never has them all in memory. The same rows go to CSV
(streamed line by line) or XLSX (openpyxl's write-only mode, built in a temporary file).

Cells are str, int, Decimal or None. Text that a spreadsheet would run as a formula is neutralised
(OWASP "CSV injection"); numbers stay numbers. Dates are ISO text in the shop's time zone, the
same in both formats, so a file re-imports without guessing day and month.
"""

import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta

from django import forms
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from members.models import Member
from merchants.models import Merchant
from merchants.tables import Cell, Table, csv_response, file_name, neutralise

from . import selectors
from .imports.columns import TARGETS
from .ledger import local_today, program_for
from .models import Account, Redemption

FORMATS = ("csv", "xlsx")
CHUNK = 2000  # rows fetched per query; tags are prefetched per chunk
LEDGER_DEFAULT_DAYS = 30
LEDGER_MAX_DAYS = 400
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_IN_MEMORY = 8 * 1024 * 1024  # a bigger workbook spills to a file on disk


def _local_date(value: datetime | None, merchant: Merchant) -> str:
    return timezone.localtime(value, merchant.tzinfo).date().isoformat() if value else ""


def _local_datetime(value: datetime | None, merchant: Merchant) -> str:
    return timezone.localtime(value, merchant.tzinfo).strftime("%Y-%m-%d %H:%M") if value else ""


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _translated(rows: Callable[[], Iterator[list[Cell]]]) -> Iterator[list[Cell]]:
    """The rows in the request's language: a streamed body is read after the view has returned."""
    language = translation.get_language()

    def run() -> Iterator[list[Cell]]:
        with translation.override(language):
            yield from rows()

    return run()


# ---------------------------------------------------------------------------------------------
# The three tables


def members_table(*, merchant: Merchant) -> Table:
    """One row per member, with headers the importer recognises, so the file comes back in cleanly."""
    is_stamps = program_for(merchant).is_stamps
    header = [
        str(TARGETS["first_name"]),
        str(TARGETS["last_name"]),
        str(TARGETS["phone"]),
        str(TARGETS["email"]),
        str(TARGETS["card_number"]),
        str(TARGETS["birthday"]),
        str(TARGETS["language"]),
        str(TARGETS["joined"]),
        _("Joined through"),
        str(TARGETS["stamps" if is_stamps else "points"]),
        str(TARGETS["tier"]),
        str(TARGETS["last_visit"]),
        str(TARGETS["total_spent"]),
        str(TARGETS["visits"]),
        str(TARGETS["email_consent"]),
        str(TARGETS["sms_consent"]),
        str(TARGETS["tags"]),
        str(TARGETS["notes"]),
    ]
    members = (
        Member.objects.for_merchant(merchant)
        .select_related("account__tier", "account__paid_tier")
        .prefetch_related("tags")
        .order_by("pk")
    )

    def rows() -> Iterator[list[Cell]]:
        for member in members.iterator(chunk_size=CHUNK):
            # Imported or hand-made members may have no account yet: they show as empty totals.
            account = getattr(member, "account", None) or Account(merchant=merchant, member=member)
            tier = account.effective_tier
            yield [
                member.first_name,
                member.last_name,
                member.phone,
                member.email,
                member.card_number,
                member.birthday.isoformat() if member.birthday else "",
                member.language,
                _local_date(member.joined_at, merchant),
                member.get_source_display(),
                account.balance,
                tier.name if tier else "",
                _local_date(account.last_purchase_at, merchant),
                account.lifetime_spend + account.opening_spend,
                account.purchase_count + account.opening_visits,
                _yes_no(member.email_consent),
                _yes_no(member.sms_consent),
                ", ".join(tag.name for tag in member.tags.all()),
                member.notes,
            ]

    return Table("members", header, _translated(rows))


def ledger_table(*, merchant: Merchant, start: date, end: date) -> Table:
    """Every ledger line written between the shop's local midnights of `start` and the day after `end`."""
    header = [
        _("Date and time"),
        _("Member"),
        str(TARGETS["card_number"]),
        _("Kind"),
        _("Stamps") if program_for(merchant).is_stamps else _("Points"),
        _("Balance after"),
        _("Reason"),
        _("Location"),
        _("By"),
        _("Receipt"),
        _("Voucher code"),
    ]
    entries = selectors.ledger_for_export(merchant=merchant, start=start, end=end)

    def rows() -> Iterator[list[Cell]]:
        for entry in entries.iterator(chunk_size=CHUNK):
            member = entry.account.member
            yield [
                _local_datetime(entry.created_at, merchant),
                member.name,
                member.card_number,
                entry.get_kind_display(),
                entry.points,
                entry.balance_after,
                entry.reason,
                entry.location.name if entry.location else "",
                entry.actor_label or entry.get_actor_kind_display(),
                entry.purchase.receipt if entry.purchase else "",
                entry.redemption.code if entry.redemption else "",
            ]

    return Table("ledger", header, _translated(rows))


def vouchers_table(*, merchant: Merchant) -> Table:
    header = [
        _("Voucher code"),
        _("Reward"),
        _("Member"),
        str(TARGETS["card_number"]),
        _("Stamps") if program_for(merchant).is_stamps else _("Points"),
        _("Discount"),
        _("Status"),
        _("Issued"),
        _("Valid until"),
        _("Used at"),
        _("Location"),
    ]
    vouchers: QuerySet[Redemption] = (
        Redemption.objects.for_merchant(merchant)
        .select_related("reward", "account__member", "location")
        .order_by("created_at", "pk")
    )

    def rows() -> Iterator[list[Cell]]:
        for voucher in vouchers.iterator(chunk_size=CHUNK):
            member = voucher.account.member
            yield [
                voucher.code,
                voucher.reward.name,
                member.name,
                member.card_number,
                voucher.points,
                voucher.discount,
                voucher.get_status_display(),
                _local_datetime(voucher.created_at, merchant),
                _local_datetime(voucher.expires_at, merchant),
                _local_datetime(voucher.used_at, merchant),
                voucher.location.name if voucher.location else "",
            ]

    return Table("vouchers", header, _translated(rows))


def member_count(*, merchant: Merchant) -> int:
    return Member.objects.for_merchant(merchant).count()


# ---------------------------------------------------------------------------------------------
# The ledger's date range


# The browser's own date picker; its value is always ISO, whatever the page's language.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LedgerRangeForm(forms.Form):
    """?start=2026-11-01&end=2026-11-30: shop-local dates, both included."""

    start = forms.DateField(label=gettext_lazy("From"), widget=DATE_INPUT)
    end = forms.DateField(label=gettext_lazy("To"), widget=DATE_INPUT)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."), code="order")
            if (end - start).days + 1 > LEDGER_MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)s days at a time.") % {"days": LEDGER_MAX_DAYS}, code="too_long"
                )
        return data


def ledger_range_form(*, data: Mapping[str, str], merchant: Merchant) -> LedgerRangeForm:
    """The range asked for; a date left out is filled from the default, the last 30 days up to today."""
    today = local_today(merchant)
    defaults = {"start": today - timedelta(days=LEDGER_DEFAULT_DAYS - 1), "end": today}
    return LedgerRangeForm({name: data.get(name) or day.isoformat() for name, day in defaults.items()})


# ---------------------------------------------------------------------------------------------
# Writers


def _xlsx_cell(value: Cell) -> Cell:
    value = neutralise(value)
    # openpyxl refuses control characters a stray paste can leave in a note; they are not data.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_response(table: Table, merchant: Merchant) -> FileResponse:
    """Write-only mode keeps one row in memory; the finished file is streamed from a temporary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name)
    sheet.append([_xlsx_cell(label) for label in table.header])
    for row in table.rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    target = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY)  # noqa: SIM115 (FileResponse closes it)
    try:
        workbook.save(target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=file_name(table, merchant, "xlsx"), content_type=XLSX_TYPE)


def export_response(table: Table, merchant: Merchant, fmt: str) -> HttpResponseBase:
    if fmt == "xlsx":
        return xlsx_response(table, merchant)
    return csv_response(table, merchant)
