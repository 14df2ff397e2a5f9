"""The django-import-export resource that turns planned rows into members, a chunk at a time.

django-import-export drives each chunk: it walks the rows, sorts them into new, updated, skipped
(unchanged) and invalid, and saves members in bulk. The decisions come from the Planner, which
matched the whole chunk with a few queries beforehand; this resource only applies them. After the
members of a chunk are saved, their opening balances, consents, tags and cards are written in bulk.
"""

from typing import Any

import tablib
from django.core.exceptions import ValidationError
from import_export import resources
from import_export.results import Result, RowResult

from members import bulk
from members.models import Member, Source
from merchants.actors import Actor
from merchants.db import Blueprint, insert_many
from merchants.models import Merchant
from rewards.ledger import Opening, openings_import

from .plan import Planner, Row

# Member fields the import sets; bulk updates write these columns and no others.
FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "birthday",
    "language",
    "card_number",
    "notes",
    "joined_at",
    "email_consent",
    "sms_consent",
)


class MemberResource(resources.ModelResource):
    class Meta:
        model = Member
        fields = FIELDS
        import_id_fields = ()  # matching is the planner's: phone, email or card number
        use_bulk = True
        batch_size = 10_000  # a chunk's new members in one COPY (the job's chunks are smaller)
        skip_unchanged = True
        report_skipped = False
        skip_diff = True
        clean_model_instances = False  # the planner validated every value; full_clean would query per row

    def __init__(self, *, merchant: Merchant, planner: Planner, actor: Actor | None, rows: list[Row]) -> None:
        super().__init__()
        self.merchant = merchant
        self.planner = planner
        self.actor = actor
        self.rows = rows
        self.row: Row | None = None
        self.written: list[Row] = []
        self.blueprint = Blueprint(
            Member, merchant=merchant, source=Source.IMPORT, enrolled_by=actor.user if actor else None
        )

    def get_queryset(self):
        return Member.objects.for_merchant(self.merchant)

    def get_bulk_update_fields(self) -> list[str]:
        return list(FIELDS)

    def dataset(self) -> tablib.Dataset:
        """The chunk as django-import-export walks it: one row per planned row. The planner already
        read the cells; each dataset row only names the line it stands for."""
        return tablib.Dataset(*([row.line] for row in self.rows), headers=["line"])

    def import_row(self, row: dict, instance_loader, **kwargs: Any) -> RowResult:
        self.row = self.rows[kwargs["row_number"] - 1]
        if self.row.errors:
            # Reported as django-import-export reports an invalid row, without raising: a raised
            # error keeps the frames it passed through, and with them the whole chunk, alive.
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_INVALID
            result.validation_error = ValidationError(self.row.errors)
            return result
        return super().import_row(row, instance_loader, **kwargs)

    def get_or_init_instance(self, instance_loader, row: dict) -> tuple[Member, bool]:
        planned = self.row
        if not planned.is_new:
            return planned.member, False
        member = self.blueprint.new(portal_key=planned.changes["portal_key"])
        planned.member = member
        return member, True

    def import_instance(self, instance: Member, row: dict, **kwargs: Any) -> None:
        for name, value in self.row.changes.items():
            setattr(instance, name, value)
        for channel, granted in self.row.consents:
            setattr(instance, f"{channel}_consent", granted)

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        if self.row.changed:
            self.written.append(self.row)
            return False
        return True

    def save_instance(self, instance: Member, is_create: bool, row: dict, **kwargs: Any) -> None:
        if not is_create and not (self.row.changes or self.row.consents):
            return  # only the account, tags or cards change: the member row stays as it is
        super().save_instance(instance, is_create, row, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None) -> None:
        """New members by COPY (their ids reserved first), not one big INSERT: the bulk of a large import."""
        if self.create_instances and not dry_run:
            try:
                insert_many(self.create_instances)
            except Exception as error:  # as django-import-export's own bulk_create: reported, the caller raises
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()
        self.create_instances.clear()

    def after_import(self, dataset: tablib.Dataset, result: Result, **kwargs: Any) -> None:
        # Not ModelResource.after_import: it resets the table's id sequence to MAX(id), which would
        # hand out ids that concurrent enrolments already hold.
        if kwargs.get("dry_run") or result.has_errors():
            return  # the caller raises the errors and rolls the chunk back
        write_related(merchant=self.merchant, actor=self.actor, rows=self.written)
        for row in self.written:  # later chunks find these members by their new phones, emails and cards
            self.planner.directory.add(row.member, row.card)


def write_related(*, merchant: Merchant, actor: Actor, rows: list[Row]) -> None:
    """What the saved members' rows bring besides the member: points, tiers, consents, tags, cards."""
    openings = [r.opening for r in rows if r.opening is not None]
    for row in rows:
        if row.opening is not None:
            row.opening.member = row.member  # new members got their ids when the chunk was saved
    fresh = [r for r in rows if r.is_new and r.opening is None]
    # Every member has an account from the start, imported balance or not.
    openings += [Opening(member=r.member, is_new=True) for r in fresh]
    if openings:
        openings_import(merchant=merchant, openings=openings, actor=actor)
    bulk.consents_record(
        merchant=merchant,
        events=[(r.member.pk, channel, granted, r.reason) for r in rows for channel, granted in r.consents],
        source="import",
        user=actor.user,
    )
    bulk.tags_add(merchant=merchant, links=[(r.member.pk, name) for r in rows for name in r.tags])
    bulk.cards_link(merchant=merchant, links=[(r.member.pk, r.card) for r in rows if r.card])
