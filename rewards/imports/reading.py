"""An uploaded file as a header and a stream of rows of text, whatever made it.

CSV in UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"), Windows-1250/1251/1252 or
TIS-620, separated by commas, semicolons, tabs or pipes, all detected; or an Excel workbook (.xlsx,
its first sheet). Rows are read as a stream, so memory stays flat however long the file is.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from charset_normalizer import from_bytes
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from merchants.locales import number_text

DELIMITERS = (",", ";", "\t", "|")
# Encodings of spreadsheets saved by Excel and POS systems where our shops are, besides UTF-8/16.
LEGACY = ("cp1250", "cp1252", "cp1251", "cp874")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "cp1250": "Windows-1250",
    "cp1251": "Windows-1251",
    "cp1252": "Windows-1252",
    "cp874": "TIS-620",
}
# Where Windows-1250 is the usual legacy code page: the tie-breaker against Windows-1252, which
# decodes the same bytes into other, equally plausible letters.
CP1250_COUNTRIES = {"HU", "CZ", "SK", "PL", "SI", "HR", "RO", "BA", "RS", "AL", "ME", "MK"}
SAMPLE_ROWS = 3
SNIFF_RECORDS = 30


class FileProblem(ValidationError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class Sheet:
    """What an upload holds: its format and how to read it, the header, and a few sample values."""

    file_format: str  # csv or xlsx
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    samples: list[list[str]] = field(default_factory=list)
    rows_total: int = 0


def inspect(data: bytes, *, country: str, delimiter: str = "", max_rows: int) -> Sheet:
    """Check an upload and describe it; raises FileProblem for a file nothing can come of."""
    if not data.strip():
        raise FileProblem(_("The file is empty."), code="empty")
    sheet = Sheet(file_format=sniff_format(data))
    if sheet.file_format == "csv":
        sheet.encoding = guess_encoding(data, country=country)
        sheet.delimiter = delimiter or guess_delimiter(_text(data, sheet.encoding))
    records = iter_records(data, sheet)
    header = next(records, None)
    if header is None:
        raise FileProblem(_("The file is empty."), code="empty")
    sheet.headers = _headers(header[1])
    samples: list[list[str]] = [[] for _ in sheet.headers]
    for _line, cells in records:
        sheet.rows_total += 1
        if sheet.rows_total <= 200:
            for i, value in enumerate(cells[: len(samples)]):
                if value.strip() and len(samples[i]) < SAMPLE_ROWS:
                    samples[i].append(value.strip()[:60])
    sheet.samples = samples
    if sheet.rows_total == 0:
        raise FileProblem(_("The file has a header row but no customers under it."), code="header_only")
    if sheet.rows_total > max_rows:
        raise FileProblem(
            _("The file has %(rows)s rows; up to %(max)s can be imported at a time. Split it into smaller files.")
            % {"rows": number_text(sheet.rows_total), "max": number_text(max_rows)},
            code="too_many_rows",
        )
    return sheet


def size_check(size: int, *, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileProblem(
            _("The file is %(size)s; files up to %(max)s can be imported. Split it into smaller files.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            code="too_large",
        )


def rows(data: bytes, sheet: Sheet) -> Iterator[tuple[int, list[str]]]:
    """(line number in the file, cells) for each data row, padded or cut to the header's width."""
    records = iter_records(data, sheet)
    next(records, None)  # the header
    width = len(sheet.headers)
    for line, cells in records:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        yield line, cells[:width]


# ---------------------------------------------------------------------------------------------
# Formats and encodings


def sniff_format(data: bytes) -> str:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise FileProblem(
            _(
                "This is a zip file, not a spreadsheet we can read. Save your customer list as CSV or as an Excel workbook (.xlsx)."
            ),
            code="format",
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _("Old Excel files (.xls) can't be read. Open the file in Excel and save it as .xlsx or as CSV."),
            code="format",
        )
    return "csv"


def guess_encoding(data: bytes, *, country: str) -> str:
    """The text encoding of a CSV upload, without asking the owner."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[: 256 * 1024]
    if b"\x00" in sample:
        # UTF-16 without a BOM puts a zero byte beside every Latin letter; anything else with
        # zero bytes is not text.
        zeros = sample[1::2].count(0) if sample[1::2].count(0) > sample[0::2].count(0) else sample[0::2].count(0)
        if zeros > len(sample) // 4:
            return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        raise _not_a_spreadsheet()
    try:
        text = sample.decode("utf-8")
        best = "utf-8"
    except UnicodeDecodeError as error:
        if error.start > len(sample) - 4:  # the sample cut a character in two: the rest decoded
            text, best = sample[: error.start].decode("utf-8"), "utf-8"
        else:
            matches = [m.encoding for m in from_bytes(sample, cp_isolation=list(LEGACY))]
            if not matches:
                raise _not_a_spreadsheet() from error
            best = matches[0]
            if best in ("cp1250", "cp1252") and {"cp1250", "cp1252"} <= set(matches):
                best = "cp1250" if country in CP1250_COUNTRIES else "cp1252"
            text = sample.decode(best, errors="replace")
    if not _looks_like_text(text):
        raise _not_a_spreadsheet()
    return best


def _looks_like_text(text: str) -> bool:
    """Decoded, a picture or a program is full of control characters; a customer list has none."""
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n") or ch in "\x7f\ufffd")
    return odd <= len(text) // 200


def _not_a_spreadsheet() -> FileProblem:
    return FileProblem(
        _("This file is not a spreadsheet we can read. Upload a CSV file or an Excel workbook (.xlsx)."),
        code="format",
    )


def _text(data: bytes, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")


def guess_delimiter(text: io.TextIOBase) -> str:
    """The separator that splits the first records into the most columns, the same number each time."""
    lines = []
    for raw in text:
        if raw.strip():
            lines.append(raw)
        if len(lines) >= SNIFF_RECORDS:
            break
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        records = list(csv.reader(lines, delimiter=delimiter))
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        agreeing = sum(1 for r in records if len(r) == width)
        score = (agreeing, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def iter_records(data: bytes, sheet: Sheet) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every non-blank record, the header included."""
    if sheet.file_format == "xlsx":
        yield from _xlsx_records(data)
        return
    csv.field_size_limit(1024 * 1024)
    reader = csv.reader(_text(data, sheet.encoding), delimiter=sheet.delimiter or ",")
    try:
        for line, cells in enumerate(reader, 1):
            if any(c.strip() for c in cells):
                yield line, cells
    except csv.Error as error:
        raise FileProblem(
            _("The file can't be read as CSV near line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": error},
            code="csv",
        ) from error


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FileProblem(
            _("This Excel file can't be opened; it may be damaged. Save it again, or as CSV."), code="xlsx"
        ) from error
    try:
        sheet = next((ws for ws in workbook.worksheets if ws.max_row and ws.max_row > 0), None)
        if sheet is None:
            return
        for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                yield line, cells
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV would have had (dates in ISO, whole floats without .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e17 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _headers(cells: list[str]) -> list[str]:
    headers = [c.strip().lstrip("\ufeff") for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    return [h or _("Column %(number)d") % {"number": i} for i, h in enumerate(headers, 1)]
