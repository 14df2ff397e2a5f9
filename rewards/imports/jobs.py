"""Running a check (the dry run) or an import: the file a chunk at a time, progress saved per chunk.

Both can run in a Celery worker or, for a small file, in the request. An import commits chunk by
chunk (a shop's counter keeps working while a big file goes in) and records how far it got in the
same transaction, so a worker that dies mid-file is retried and carries on where the last chunk
ended: no row is imported twice and none is skipped.
"""

import gc
import itertools
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.db import Blueprint, insert_many
from merchants.models import Staff
from merchants.services import audit_record
from rewards.ledger import statistics_refresh

from .models import ImportJob, ImportRow, ImportStatus
from .plan import Planner, Row, counts_of
from .reading import FileProblem, Sheet, rows
from .resource import MemberResource

logger = logging.getLogger(__name__)
ANALYZE_AFTER = 10_000  # rows written


class ImportFailed(Exception):
    """A chunk could not be written for a reason no retry will fix."""


def _job(merchant_id: int, job_id: int) -> ImportJob | None:
    return ImportJob.objects.for_merchant(merchant_id).select_related("merchant").filter(pk=job_id).first()


def _sheet(job: ImportJob) -> Sheet:
    return Sheet(
        file_format=job.file_format,
        encoding=job.encoding,
        delimiter=job.delimiter,
        headers=job.headers,
        rows_total=job.rows_total,
    )


def _planner(job: ImportJob) -> Planner:
    return Planner(
        merchant=job.merchant, headers=job.headers, mapping=job.mapping, file_name=job.file_name, job_id=job.pk
    )


def _parsed(job: ImportJob, planner: Planner) -> Iterator[list[Row]]:
    """The file's rows, parsed, a chunk at a time. Reading and parsing (pure Python, no database)
    run a chunk ahead in a thread of their own, so they go on while this one waits for the database."""
    ready: queue.Queue = queue.Queue(maxsize=2)
    language = get_language()

    def read() -> None:
        try:
            with override(language):
                stream = rows(bytes(job.data), _sheet(job))
                while chunk := list(itertools.islice(stream, settings.IMPORT_CHUNK_ROWS)):
                    ready.put([planner.parse(line, cells) for line, cells in chunk])
            ready.put(None)
        except Exception as error:  # handed to the consumer, which raises it as its own
            ready.put(error)

    reader = threading.Thread(target=read, name=f"import-{job.pk}-reader", daemon=True)
    reader.start()
    while (item := ready.get()) is not None:
        if isinstance(item, Exception):
            raise item
        yield item


def _run_chunk(job: ImportJob, planner: Planner, actor: Actor, chunk: list[Row]) -> dict:
    """Plan and write one chunk through the resource; returns its counts. The caller owns the transaction."""
    planner.plan(chunk, lock=True)
    resource = MemberResource(merchant=job.merchant, planner=planner, actor=actor, rows=chunk)
    result = resource.import_data(resource.dataset(), dry_run=False, use_transactions=False, raise_errors=False)
    if result.has_errors():
        errors = [e.error for e in result.base_errors] + [e.error for _n, row in result.row_errors() for e in row]
        if any(isinstance(e, IntegrityError) for e in errors):
            # A concurrent enrolment or import took a phone, email or card: plan the chunk again.
            raise next(e for e in errors if isinstance(e, IntegrityError))
        raise ImportFailed(repr(errors[0]) if errors else "?")
    totals = result.totals
    return {
        "new": totals["new"],
        "updated": totals["update"],
        "unchanged": totals["skip"],
        "invalid": totals["invalid"],
    }


def _record(job: ImportJob, chunk: list[Row], counts: dict) -> None:
    """Save the chunk's invalid rows and add its counts to the job's."""
    blueprint = Blueprint(ImportRow, merchant_id=job.merchant_id, job_id=job.pk)
    insert_many([blueprint.new(line=row.line, messages=row.errors, values=row.cells) for row in chunk if row.errors])
    for name, value in counts.items():
        setattr(job, name, getattr(job, name) + value)
    job.rows_done += len(chunk)
    job.progress_at = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        rows_done=job.rows_done, progress_at=job.progress_at, **{name: getattr(job, name) for name in counts}
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An import makes millions of objects a chunk at a time. Left alone, Python's cycle collector
    rescans the long-lived ones (the directory, the rows seen) over and over: a fifth of the time.
    Paused, it is run once per chunk instead (see _collect), on what that chunk left behind."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collect() -> None:
    # The two young generations hold what the last two chunks made (the one just written is still
    # referenced, so it waits a round). Django instances refer to each other in cycles (an account
    # and its member): without this they would pile up until the end of the import.
    gc.collect(1)


def import_check(*, merchant_id: int, job_id: int) -> ImportJob | None:
    """The dry run: every row planned, nothing written but the job's counts and its invalid rows.

    The planner decides what each row would be, with the same matching the import uses; nothing
    goes through the resource, which would only build members to throw away.
    """
    job = _job(merchant_id, job_id)
    if job is None or job.status != ImportStatus.CHECKING:
        return job  # cancelled, or a retry of a check that already finished
    with override(job.merchant.language), _collector_paused():
        try:
            planner = _planner(job)
            _reset_counts(job)
            for planned in _parsed(job, planner):
                planner.plan(planned, lock=False)
                with transaction.atomic():
                    _record(job, planned, counts_of(planned))
                _collect()
        except FileProblem as problem:
            return _fail(job, problem.messages[0])
        except ImportFailed as error:
            logger.error("import check %s failed: %s", job.pk, error)
            return _fail(job, _("The check stopped because of an unexpected error (%(error)s).") % {"error": error})
    now = timezone.now()
    if ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKING).update(
        status=ImportStatus.CHECKED, checked_at=now, progress_at=now
    ):
        job.status, job.checked_at = ImportStatus.CHECKED, now
    return job


def import_apply(*, merchant_id: int, job_id: int) -> ImportJob | None:
    """Write every valid row, chunk by chunk, from where an earlier attempt stopped."""
    job = _job(merchant_id, job_id)
    if job is None or job.status != ImportStatus.APPLYING:
        return job
    staff = Staff.objects.for_merchant(job.merchant).filter(user_id=job.applied_by_id, is_active=True).first()
    if staff is None:
        return _fail(job, _("The person who started this import no longer works for the shop."))
    actor = Actor.for_staff(staff)
    with override(job.merchant.language), _collector_paused():
        planner = _planner(job)
        already, read = job.rows_done, 0
        try:
            for planned in _parsed(job, planner):
                read += len(planned)
                if read <= already:
                    planner.recall(planned)  # an earlier attempt wrote this chunk: remember who was in it
                    continue
                _apply_chunk(job, planner, actor, planned)
                _collect()
        except FileProblem as problem:
            return _fail(job, problem.messages[0])
        except ImportFailed as error:
            logger.error("import %s failed: %s", job.pk, error)
            return _fail(job, _("The import stopped because of an unexpected error (%(error)s).") % {"error": error})
        except Stopped:
            return job
    return _finish(job, actor)


class Stopped(Exception):
    """The job was cancelled or finished by someone else while this run was on it."""


def _apply_chunk(job: ImportJob, planner: Planner, actor: Actor, planned: list[Row]) -> None:
    for attempt in range(3):
        memory = planner.snapshot()
        try:
            with transaction.atomic():
                if not ImportJob.objects.select_for_update().filter(pk=job.pk, status=ImportStatus.APPLYING).exists():
                    raise Stopped
                counts = _run_chunk(job, planner, actor, planned)
                _record(job, planned, counts)
            return
        except IntegrityError:
            planner.restore(memory)
            if attempt == 2:
                raise
            planner.directory.refresh(planned)
            # Someone enrolled one of these customers meanwhile: planned again, the rows now match them.
            planned[:] = [planner.parse(row.line, row.cells) for row in planned]


def _finish(job: ImportJob, actor: Actor) -> ImportJob:
    if job.new + job.updated >= ANALYZE_AFTER:
        statistics_refresh()
    now = timezone.now()
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.APPLYING).update(
            status=ImportStatus.DONE, finished_at=now, progress_at=now, data=b""
        )
        if updated:
            job.refresh_from_db(fields=["new", "updated", "unchanged", "invalid", "rows_done"])
            audit_record(
                merchant=job.merchant,
                actor=actor.user,
                action="members.import",
                obj=job,
                after={"new": job.new, "updated": job.updated, "unchanged": job.unchanged, "invalid": job.invalid},
            )
            job.status, job.finished_at = ImportStatus.DONE, now
    return job


def _reset_counts(job: ImportJob) -> None:
    ImportRow.objects.for_merchant(job.merchant_id).filter(job=job).delete()
    job.new = job.updated = job.unchanged = job.invalid = job.rows_done = 0
    ImportJob.objects.filter(pk=job.pk).update(new=0, updated=0, unchanged=0, invalid=0, rows_done=0)


def _fail(job: ImportJob, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, error=message, finished_at=timezone.now())
    job.status, job.error = ImportStatus.FAILED, message
    return job


def imports_purge(*, older_than_days: int = 7) -> int:
    """Uploads left unimported for a week: forget their files (customers' personal data)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    stale = ImportJob.objects.filter(created_at__lt=cutoff).exclude(data=b"")
    stale = stale.exclude(status__in=[ImportStatus.APPLYING, ImportStatus.CHECKING])
    return stale.update(data=b"", status=ImportStatus.CANCELLED)
