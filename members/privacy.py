"""A member's data, to download: everything the shop holds about them, from every app.

members gathers the profile, tags, cards and consents; higher apps add their sections through the
member_data_requested signal (rewards: the account, purchases, points and vouchers; campaigns: the
messages sent and survey answers). Rows are read lazily and written out as they come, so a member
with a long history is streamed, not held in memory.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Card, ConsentEvent, Member, MemberTag
from .signals import member_data_requested

Section = dict[str, object] | Iterable[dict[str, object]]
CHUNK = 500  # rows fetched per round trip while streaming


def plain(value: object) -> object:
    """JSON- and CSV-ready: amounts as exact strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value


def rows(queryset: QuerySet, fields: dict[str, str]) -> Iterator[dict[str, object]]:
    """The queryset's `fields` (output name -> lookup path) as plain dicts, fetched in chunks."""
    for row in queryset.values(*fields.values()).iterator(chunk_size=CHUNK):
        yield {name: plain(row[path]) for name, path in fields.items()}


PROFILE = ["first_name", "last_name", "phone", "email", "birthday", "language", "card_number", "referral_code"]
PROFILE += ["source", "joined_at", "email_consent", "sms_consent", "deletion_requested_at", "notes"]


def member_data(member: Member) -> dict[str, Section]:
    """Every section of the member's data, in the order the files show them.

    Staff who served them are left out (their names are the staff's data, not the member's), and so
    is anything about other members.
    """
    merchant = member.merchant
    sections: dict[str, Section] = {
        "shop": {"name": merchant.name, "currency": merchant.currency, "exported_at": plain(timezone.now())},
        "profile": {name: plain(getattr(member, name)) for name in PROFILE},
        "tags": rows(
            MemberTag.objects.for_merchant(merchant).filter(member=member).order_by("tag__name"), {"name": "tag__name"}
        ),
        "cards": rows(
            Card.objects.for_merchant(merchant).filter(member=member).order_by("pk"),
            {"number": "number", "status": "status", "linked_at": "linked_at"},
        ),
        "consents": rows(
            ConsentEvent.objects.for_merchant(merchant).filter(member=member).order_by("created_at", "pk"),
            {"at": "created_at", "channel": "channel", "granted": "granted", "source": "source", "detail": "detail"},
        ),
    }
    for _receiver, more in member_data_requested.send(sender=Member, member=member):
        sections.update(more)
    return sections


def json_chunks(sections: dict[str, Section]) -> Iterator[str]:
    """One JSON object, written a row at a time: records as objects, the rest as arrays."""
    yield "{"
    for index, (name, content) in enumerate(sections.items()):
        yield ("," if index else "") + f"\n  {json.dumps(name)}: "
        if isinstance(content, dict):
            yield json.dumps(content, ensure_ascii=False, default=plain)
            continue
        yield "["
        for position, row in enumerate(content):
            yield ("," if position else "") + "\n    " + json.dumps(row, ensure_ascii=False, default=plain)
        yield "]"
    yield "\n}\n"


class _Line:
    """A file-like object for csv.writer that hands back each line instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(sections: dict[str, Section]) -> Iterator[str]:
    """Each section under its name: key and value for a record, a header row and rows for a list."""
    writer = csv.writer(_Line())
    yield "\ufeff"  # spreadsheet apps then read the file as UTF-8 (Thai, Ukrainian, accents)
    for name, content in sections.items():
        yield writer.writerow([name])
        if isinstance(content, dict):
            for key, value in content.items():
                yield writer.writerow([key, plain(value)])
        else:
            header = False
            for row in content:
                if not header:
                    yield writer.writerow(row.keys())
                    header = True
                yield writer.writerow(plain(value) for value in row.values())
        yield writer.writerow([])


FORMATS = {"json": (json_chunks, "application/json"), "csv": (csv_chunks, "text/csv; charset=utf-8")}


def member_data_response(member: Member, fmt: str, filename: str) -> StreamingHttpResponse:
    """The member's data as a download, streamed as it is read."""
    chunks, content_type = FORMATS[fmt]
    response = StreamingHttpResponse(chunks(member_data(member)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "no-store"  # personal data: no copies in caches on the way
    return response
