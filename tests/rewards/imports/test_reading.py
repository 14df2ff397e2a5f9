"""Reading uploads: encodings, separators, workbooks, and files nothing can come of."""

import codecs
import io
import random
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import Workbook

from rewards.imports.reading import FileProblem, inspect, rows, size_check

HUNGARIAN = "Név;Telefon;Pontok\nKovács Ödön;06301234567;120\nSzőke Tünde;06 30 123 4568;30\nŐry Győző;06301234569;5\n"
FRENCH = "Name,Phone,Points\nJosé Müller,0123456789,120\nFrançois Lefèvre,0123456788,30\nBjörk Guðmundsdóttir,0123,4\n"
THAI = "ชื่อ,เบอร์โทร,คะแนน\nสมชาย ใจดี,0812345678,120\nสมหญิง รักไทย,0812345679,30\n"
UKRAINIAN = "Ім'я,Телефон,Бали\nОлена Коваленко,0501234567,120\nІгор Шевченко,0501234568,30\n"


def read(data: bytes, *, country: str = "MY", delimiter: str = "") -> tuple[list[str], list[list[str]]]:
    sheet = inspect(data, country=country, delimiter=delimiter, max_rows=1000)
    return sheet.headers, [cells for _line, cells in rows(data, sheet)]


@pytest.mark.parametrize(
    ("text", "encoding", "country"),
    [
        (HUNGARIAN, "utf-8", "HU"),
        (HUNGARIAN, "utf-8-sig", "HU"),
        (HUNGARIAN, "cp1250", "HU"),
        (FRENCH, "cp1252", "FR"),
        (THAI, "tis-620", "TH"),
        (UKRAINIAN, "cp1251", "UA"),
        (THAI, "utf-8", "TH"),
    ],
)
def test_text_comes_out_as_written_in_every_encoding(text, encoding, country):
    headers, body = read(text.encode(encoding), country=country)
    expected = [line.split(";" if ";" in text else ",") for line in text.strip().split("\n")]
    assert [headers, *body] == expected


def test_excel_unicode_text_is_utf16_with_tabs():
    data = codecs.BOM_UTF16_LE + "Name\tPhone\nŐry Győző\t06301234569\n".encode("utf-16-le")
    assert read(data) == (["Name", "Phone"], [["Őry Győző", "06301234569"]])


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_separator_is_found(delimiter):
    text = delimiter.join(["Name", "Phone", "Points"]) + "\n" + delimiter.join(["Ann, Lee", "0123", "5"]) + "\n"
    if delimiter == ",":
        text = text.replace("Ann, Lee", '"Ann, Lee"')
    assert read(text.encode())[1] == [["Ann, Lee", "0123", "5"]]


def test_a_separator_the_owner_chooses_wins_over_the_guess():
    headers, _rows = read(b"Name;Phone\nAnn;0123\n", delimiter=",")
    assert headers == ["Name;Phone"]


def test_blank_lines_are_skipped_and_short_rows_padded():
    sheet = inspect(b"Name,Phone,Points\n\nAnn,0123\n\n", country="MY", max_rows=10)
    assert (sheet.rows_total, list(rows(b"Name,Phone,Points\n\nAnn,0123\n\n", sheet))) == (
        1,
        [(3, ["Ann", "0123", ""])],
    )


def test_a_workbook_reads_its_first_sheet_with_dates_and_numbers_as_text():
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Joined", "Points"])
    sheet.append(["Ann", 60123456789.0, datetime(2024, 3, 15), 120])  # noqa: DTZ001 (workbook dates have no zone)
    buffer = io.BytesIO()
    book.save(buffer)
    assert read(buffer.getvalue()) == (
        ["Name", "Phone", "Joined", "Points"],
        [["Ann", "60123456789", "2024-03-15", "120"]],
    )


def test_samples_show_the_first_values_of_each_column():
    data = b"Name,Phone\nAnn,1\n,2\nBob,3\nCat,4\nDan,5\n"
    assert inspect(data, country="MY", max_rows=10).samples == [["Ann", "Bob", "Cat"], ["1", "2", "3"]]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"  \n\r\n ", "empty"),
        (b"Name,Phone,Email\n", "header_only"),
        (b"Name,Phone\n,\n", "header_only"),
        (random.Random(1).randbytes(5000), "format"),
        ((Path(settings.BASE_DIR) / "static/img/icon-192.png").read_bytes().replace(b"\x00", b"\x01"), "format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "format"),
        (b"PK\x03\x04garbage", "format"),
    ],
)
def test_files_nothing_can_come_of_are_refused_with_a_reason(data, code):
    with pytest.raises(FileProblem) as refused:
        inspect(data, country="MY", max_rows=10)
    assert refused.value.code == code


def test_too_many_rows_are_refused():
    with pytest.raises(FileProblem, match="up to 2"):
        inspect(b"Phone\n1\n2\n3\n", country="MY", max_rows=2)


def test_a_50_mb_file_is_refused_before_it_is_read():
    with pytest.raises(FileProblem, match="50"):
        size_check(50 * 1024 * 1024, max_bytes=20 * 1024 * 1024)
