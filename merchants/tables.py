"""Tables people download: CSV streamed in chunks, with spreadsheet formulas neutralised.

Every app's downloads (member exports, the dashboard's tables) write through these.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Merchant

Cell = str | int | float | Decimal | None

# A spreadsheet reads a cell starting with these as a formula (tab and CR: Excel strips them first).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Cell) -> Cell:
    """'=HYPERLINK(...) instead of a live formula; numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class Table:
    name: str  # members, ledger, vouchers, enrolment-by-channel: the start of the file name
    header: list[str]
    rows: Iterable[list[Cell]]


def file_name(table: Table, merchant: Merchant, fmt: str) -> str:
    return f"{table.name}-{merchant.slug}-{timezone.localdate(timezone=merchant.tzinfo).isoformat()}.{fmt}"


class _Buffer(io.StringIO):
    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def csv_chunks(table: Table) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel then reads Thai and Cyrillic right), about 64 KB per chunk."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(label) for label in table.header])
    yield ("\ufeff" + buffer.take()).encode()
    for row in table.rows:
        writer.writerow([neutralise(cell) for cell in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.take().encode()
    if rest := buffer.take():
        yield rest.encode()


def csv_response(table: Table, merchant: Merchant) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name(table, merchant, "csv")}"'
    return response
