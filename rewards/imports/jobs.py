"""Running a check (the dry run) or an import: the file a chunk at a time, progress saved per chunk.

Both can run in a Celery worker or, for a small file, in the request. An import commits chunk by
chunk (a shop's counter keeps working while a big file goes in) and records how far it got in the
same transaction, so a worker that dies mid-file is retried and carries on where the last chunk
ended: no row is imported twice and none is skipped.
"""

import ctypes
import ctypes.util
import gc
import itertools
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from math import ceil

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from members import bulk
from merchants.actors import Actor
from merchants.db import Blueprint, insert_many
from merchants.models import Staff
from merchants.services import audit_record
from rewards.kpis.rollups import rollups_after_import
from rewards.ledger import statistics_refresh

from .models import ImportChunk, ImportJob, ImportRow, ImportStatus, file_unpack
from .plan import Planner, Row, counts_of
from .reading import FileProblem, Sheet, rows
from .resource import MemberResource

logger = logging.getLogger(__name__)
ANALYZE_AFTER = 10_000  # rows written
COUNTS = ("new", "updated", "unchanged", "invalid")


class ImportFailed(Exception):
    """A chunk could not be written for a reason no retry will fix."""


def _job(merchant_id: int, job_id: int) -> ImportJob | None:
    # Without the file: _parsed reads it when it is needed, and only then.
    jobs = ImportJob.objects.for_merchant(merchant_id).select_related("merchant").defer("data")
    return jobs.filter(pk=job_id).first()


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
    done = threading.Event()  # the consumer stopped early: the reader must not wait on a full queue
    language = get_language()
    # Read here, not in the reader: a thread of its own would have a connection of its own.
    data = file_unpack(bytes(ImportJob.objects.filter(pk=job.pk).values_list("data", flat=True).get()))

    def hand_over(item: object) -> bool:
        while not done.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with override(language):
                stream = rows(data, _sheet(job))
                while chunk := list(itertools.islice(stream, settings.IMPORT_CHUNK_ROWS)):
                    if not hand_over([planner.parse(line, cells) for line, cells in chunk]):
                        return
            hand_over(None)
        except Exception as error:  # handed to the consumer, which raises it as its own
            hand_over(error)

    reader = threading.Thread(target=read, name=f"import-{job.pk}-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        done.set()


def _stored(job: ImportJob, planner: Planner) -> Iterator[list[Row]]:
    """The rows as the check read them, a chunk at a time (one query each: memory holds one chunk)."""
    stored = ImportChunk.objects.for_merchant(job.merchant_id).filter(job=job)
    for pk in list(stored.order_by("index").values_list("pk", flat=True)):
        yield planner.unpack(bytes(stored.filter(pk=pk).values_list("rows", flat=True).get()))


def _remaining(job: ImportJob, planner: Planner) -> Iterator[list[Row]]:
    """The chunks still to write. Those an earlier attempt wrote are skipped, but the planner
    remembers who was in them (a later row repeating one of those customers is still refused).

    The check kept its reading of the file; it is used unless something it depended on changed
    since (then the file is read again, with the same result it would have had then).
    """
    reuse = job.parsed_with and job.parsed_with == planner.fingerprint()
    already, read = job.rows_done, 0
    for planned in _stored(job, planner) if reuse else _parsed(job, planner):
        read += len(planned)
        if read <= already:
            planner.recall(planned)
            continue
        yield planned


def _write_chunk(job: ImportJob, planner: Planner, actor: Actor, chunk: list[Row]) -> dict:
    """Write a planned chunk through the resource; returns its counts. The caller owns the transaction."""
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
    """Save the chunk's invalid rows and add its counts to the job's, in the chunk's transaction.

    Stopped if the job is no longer running (cancelled, or finished by another worker's retry):
    the chunk then rolls back.
    """
    blueprint = Blueprint(ImportRow, merchant_id=job.merchant_id, job_id=job.pk)
    insert_many([blueprint.new(line=row.line, messages=row.errors, values=row.cells) for row in chunk if row.errors])
    totals = {name: getattr(job, name) + counts[name] for name in COUNTS}
    rows_done, progress_at = job.rows_done + len(chunk), timezone.now()
    running = ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.CHECKING, ImportStatus.APPLYING])
    if not running.update(rows_done=rows_done, progress_at=progress_at, **totals):
        raise Stopped
    for name, value in totals.items():
        setattr(job, name, value)
    job.rows_done, job.progress_at = rows_done, progress_at


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An import makes millions of objects, a chunk at a time, and frees them by reference counting
    (nothing in a chunk refers back to itself: see MemberResource.import_row). Python's cycle
    collector would still rescan the long-lived ones (the directory of the shop's members, the
    rows seen) again and again, a fifth of the time; it is paused for the import and run once after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def _memory_release() -> None:
    """Hand the memory a finished chunk freed back to the system (glibc keeps it otherwise).

    A chunk's objects die together, but glibc's allocator keeps the pages they were on, spread over
    the arenas of the threads that made them, and a worker's resident set grows chunk by chunk to
    well above what it holds. malloc_trim returns the free pages; elsewhere (no glibc) nothing."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


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
            for index, planned in enumerate(_parsed(job, planner)):
                packed = planner.pack(planned)  # the rows as read, kept for the import: the file is read once
                planner.plan(planned, lock=False)
                with transaction.atomic():
                    ImportChunk.objects.create(merchant_id=job.merchant_id, job=job, index=index, rows=packed)
                    _record(job, planned, counts_of(planned))
                del planned, packed
                _memory_release()
        except FileProblem as problem:
            return _fail(job, problem.messages[0])
        except ImportFailed as error:
            logger.error("import check %s failed: %s", job.pk, error)
            return _fail(job, _("The check stopped because of an unexpected error (%(error)s).") % {"error": error})
        except Stopped:
            return job  # cancelled while it ran
    now = timezone.now()
    fingerprint = planner.fingerprint()
    if ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKING).update(
        status=ImportStatus.CHECKED, checked_at=now, progress_at=now, parsed_with=fingerprint
    ):
        job.status, job.checked_at, job.parsed_with = ImportStatus.CHECKED, now, fingerprint
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
        try:
            chunks = _remaining(job, planner)
            writers = min(settings.IMPORT_WRITERS, ceil((job.rows_total - job.rows_done) / settings.IMPORT_CHUNK_ROWS))
            if writers > 1:
                try:
                    Pipeline(job, planner, actor, chunks).run(writers)
                except IntegrityError as error:
                    # Someone enrolled one of the file's customers meanwhile. What was committed
                    # stands; the rest goes one chunk at a time, each planned again if need be.
                    logger.warning("import %s: a chunk conflicted (%s); the rest goes a chunk at a time", job.pk, error)
                    chunks.close()
                    job.refresh_from_db(fields=[*COUNTS, "rows_done"])
                    planner = _planner(job)
                    chunks = _remaining(job, planner)
            for planned in chunks:
                _apply_chunk(job, planner, actor, planned)
                _memory_release()
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
                planner.plan(planned, lock=True)
                counts = _write_chunk(job, planner, actor, planned)
                _record(job, planned, counts)
            return
        except IntegrityError:
            planner.restore(memory)
            if attempt == 2:
                raise
            planner.directory.refresh(planned)
            # Someone enrolled one of these customers meanwhile: planned again, the rows now match them.
            for row in planned:
                row.reset()


class Pipeline:
    """Writers in threads of their own, each with its own database connection, take the chunks in turn.

    Writing a chunk is Python work (planning, building members, accounts and ledger lines) and then
    PostgreSQL's (the COPYs, and the foreign-key checks at commit), about as long each. One writer
    alone leaves the server idle while it plans, then waits while the server works; with two, one
    plans while the other waits. Chunks are still planned in file order (the planner remembers who
    came earlier in the file) and committed in file order, so rows_done stays the count of rows
    written and an interrupted import carries on as before. If a chunk fails, the chunks after it
    roll back and the error is raised once every writer has stopped.
    """

    def __init__(self, job: ImportJob, planner: Planner, actor: Actor, chunks: Iterator[list[Row]]) -> None:
        self.job, self.planner, self.actor, self.chunks = job, planner, actor, chunks
        self.turn = threading.Condition()
        self.taken = 0  # chunks handed to a writer
        self.planned = 0  # chunks planned, in order
        self.committed = 0  # chunks committed, in order
        self.failure: BaseException | None = None
        self.language = get_language()

    def run(self, writers: int) -> None:
        threads = [
            threading.Thread(target=self._writer, name=f"import-{self.job.pk}-writer-{n}") for n in range(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.failure is not None:
            raise self.failure

    def _writer(self) -> None:
        try:
            with override(self.language):
                while self._write_next():
                    pass
        except _Abandoned:
            pass
        except BaseException as error:  # handed to run(), which raises it in the job's thread
            with self.turn:
                self.failure = self.failure or error
                self.turn.notify_all()
        finally:
            connection.close()  # this thread's own connection

    def _write_next(self) -> bool:
        with self.turn:
            if self.failure is not None:
                return False
            planned = next(self.chunks, None)
            if planned is None:
                return False
            index, self.taken = self.taken, self.taken + 1
            # New tag names are the one row two chunks could both insert, and a chunk waiting on a
            # later one's uncommitted tag while that one waits to commit after it would never end:
            # they are created here, one chunk at a time, and committed at once.
            bulk.tags_ensure(merchant=self.job.merchant, names=[name for row in planned for name in row.tag_names])
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys checked as each COPY ends, not all at commit: that work then overlaps
                # the other writer's planning instead of holding up the commits that come in turn.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with self.turn:  # planning, in file order
                while self.planned < index and self.failure is None:
                    self.turn.wait()
                if self.failure is not None:
                    raise _Abandoned
                self.planner.plan(planned, lock=True)
                self.planned = index + 1
                self.turn.notify_all()
            counts = _write_chunk(self.job, self.planner, self.actor, planned)
            with self.turn:  # committing, in file order
                while self.committed < index and self.failure is None:
                    self.turn.wait()
                if self.failure is not None:
                    raise _Abandoned  # an earlier chunk failed: this one rolls back
            _record(self.job, planned, counts)
        with self.turn:
            self.committed = index + 1
            self.turn.notify_all()
        del planned
        _memory_release()
        return True


class _Abandoned(Exception):
    """A writer's chunk rolled back because an earlier chunk failed."""


def _finish(job: ImportJob, actor: Actor) -> ImportJob:
    now = timezone.now()
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.APPLYING).update(
            status=ImportStatus.DONE, finished_at=now, progress_at=now, data=b""
        )
        ImportChunk.objects.for_merchant(job.merchant_id).filter(job=job).delete()
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
    if job.new + job.updated >= ANALYZE_AFTER:
        statistics_refresh()  # the owner already sees the import done; the counter's next lookups need this
    if updated and job.new + job.updated:
        rollups_after_import(merchant=job.merchant)  # the dashboard counts the new members at once
    return job


def _reset_counts(job: ImportJob) -> None:
    ImportRow.objects.for_merchant(job.merchant_id).filter(job=job).delete()
    ImportChunk.objects.for_merchant(job.merchant_id).filter(job=job).delete()
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
    ImportChunk.objects.filter(job__in=stale).delete()
    return stale.update(data=b"", status=ImportStatus.CANCELLED)
