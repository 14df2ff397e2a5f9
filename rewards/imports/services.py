"""An import's steps as the owner takes them: upload, map the columns, check, import (or cancel).

The check and the import run in a Celery worker, or right in the request for a small file, where
a worker's round trip would only make the owner wait.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.models import Merchant, Role
from merchants.queue import enqueue
from rewards.ledger import program_for
from rewards.models import Tier
from rewards.tasks import import_apply_task, import_check_task

from .columns import IGNORE, TARGETS, suggest
from .jobs import import_apply, import_check
from .models import ImportChunk, ImportJob, ImportRow, ImportStatus, file_pack, file_unpack
from .plan import mapping_problems
from .reading import inspect, size_check


def _require(actor: Actor, merchant: Merchant) -> None:
    if not actor.can(Role.MANAGER, merchant.pk):
        raise PermissionDenied(_("Only the shop's owner and managers can import customers."))


def import_upload(*, merchant: Merchant, actor: Actor, upload: UploadedFile) -> ImportJob:
    """Take a file: check it can be read, count its rows and suggest what each column is."""
    _require(actor, merchant)
    size_check(upload.size or 0, max_bytes=settings.IMPORT_MAX_MB * 1024 * 1024)
    data = upload.read()
    sheet = inspect(data, country=merchant.country, max_rows=settings.IMPORT_MAX_ROWS)
    return ImportJob.objects.create(
        merchant=merchant,
        created_by=actor.user,
        file_name=(upload.name or "upload")[-255:],
        file_size=len(data),
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        delimiter=sheet.delimiter,
        data=file_pack(data),
        headers=sheet.headers,
        samples=sheet.samples,
        mapping=suggest(sheet.headers),
        rows_total=sheet.rows_total,
    )


@transaction.atomic
def import_delimiter_set(*, job: ImportJob, delimiter: str) -> ImportJob:
    """The owner says the columns are separated by something else: read the header again."""
    job = _locked(job, ImportStatus.UPLOADED, ImportStatus.CHECKED)
    if job.file_format != "csv" or delimiter == job.delimiter:
        return job
    sheet = inspect(
        file_unpack(bytes(job.data)),
        country=job.merchant.country,
        delimiter=delimiter,
        max_rows=settings.IMPORT_MAX_ROWS,
    )
    job.delimiter, job.headers, job.samples, job.rows_total = delimiter, sheet.headers, sheet.samples, sheet.rows_total
    job.mapping = suggest(sheet.headers)
    job.status = ImportStatus.UPLOADED
    job.save(update_fields=["delimiter", "headers", "samples", "rows_total", "mapping", "status"])
    ImportRow.objects.for_merchant(job.merchant_id).filter(job=job).delete()
    ImportChunk.objects.for_merchant(job.merchant_id).filter(job=job).delete()
    return job


def import_check_start(*, job: ImportJob, mapping: list[str], actor: Actor) -> ImportJob:
    """Save the column mapping and start the dry run."""
    _require(actor, job.merchant)
    if len(mapping) != len(job.headers) or any(t not in TARGETS and t not in (IGNORE, "note") for t in mapping):
        raise ValidationError(_("The column choices don't match the file: upload it again."), code="mapping")
    program = program_for(job.merchant)
    problems = mapping_problems(
        mapping=mapping,
        is_stamps=program.is_stamps,
        has_tiers=Tier.objects.for_merchant(job.merchant).filter(is_paid=False).exists(),
    )
    if problems:
        raise ValidationError(problems, code="mapping")
    with transaction.atomic():
        job = _locked(job, ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED)
        job.mapping, job.status, job.error = mapping, ImportStatus.CHECKING, ""
        job.rows_done, job.progress_at = 0, timezone.now()
        job.save(update_fields=["mapping", "status", "error", "rows_done", "progress_at"])
        if job.rows_total > settings.IMPORT_INLINE_ROWS:
            enqueue(import_check_task, job.merchant_id, job.pk)
    if job.rows_total <= settings.IMPORT_INLINE_ROWS:
        return import_check(merchant_id=job.merchant_id, job_id=job.pk)
    return job


def import_apply_start(*, job: ImportJob, actor: Actor) -> ImportJob:
    """The owner read the check's results and imports the valid rows."""
    _require(actor, job.merchant)
    with transaction.atomic():
        job = _locked(job, ImportStatus.CHECKED)
        if not job.valid:
            raise ValidationError(_("There is nothing to import: every row has a problem."), code="nothing")
        ImportRow.objects.for_merchant(job.merchant_id).filter(job=job).delete()
        job.status, job.applied_by, job.applied_at = ImportStatus.APPLYING, actor.user, timezone.now()
        job.new = job.updated = job.unchanged = job.invalid = job.rows_done = 0
        job.progress_at = job.applied_at
        job.save()
        if job.rows_total > settings.IMPORT_INLINE_ROWS:
            enqueue(import_apply_task, job.merchant_id, job.pk)
    if job.rows_total <= settings.IMPORT_INLINE_ROWS:
        return import_apply(merchant_id=job.merchant_id, job_id=job.pk)
    return job


def import_resume(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Start a stalled import or check again (its worker died and no retry came): it carries on."""
    _require(actor, job.merchant)
    if job.status == ImportStatus.APPLYING:
        enqueue(import_apply_task, job.merchant_id, job.pk, at_once=True)
    elif job.status == ImportStatus.CHECKING:
        enqueue(import_check_task, job.merchant_id, job.pk, at_once=True)
    return job


@transaction.atomic
def import_cancel(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Drop an upload that was not imported; its file is deleted at once."""
    _require(actor, job.merchant)
    job = _locked(job, ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED, ImportStatus.CHECKING)
    job.status, job.data, job.finished_at = ImportStatus.CANCELLED, b"", timezone.now()
    job.save(update_fields=["status", "data", "finished_at"])
    ImportChunk.objects.for_merchant(job.merchant_id).filter(job=job).delete()
    return job


def _locked(job: ImportJob, *statuses: str) -> ImportJob:
    """The job, row-locked, if it is in one of `statuses`; otherwise a refusal that says why."""
    locked = ImportJob.objects.select_for_update().select_related("merchant").get(pk=job.pk)
    if locked.status not in statuses:
        raise ValidationError(
            _("This import is “%(status)s” now: that step is not possible any more.")
            % {"status": locked.get_status_display()},
            code="status",
        )
    return locked
