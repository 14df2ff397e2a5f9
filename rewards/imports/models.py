"""An import's record: who uploaded which file, how its columns map, how far it got, what it found."""

import zlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant, MerchantScopedQuerySet


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for the column mapping")
    CHECKING = "checking", _("Checking the file")
    CHECKED = "checked", _("Checked, ready to import")
    APPLYING = "applying", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# An upload is kept compressed (zlib's fastest level): a quarter of the bytes for PostgreSQL to take,
# split into TOAST chunks and log, faster than its own compression. The mark tells it from a file kept
# as it came (before uploads were compressed): no CSV or XLSX starts with a NUL byte.
_COMPRESSED = b"\x00zlib\x00"


def file_pack(data: bytes) -> bytes:
    return _COMPRESSED + zlib.compress(data, 1)


def file_unpack(stored: bytes) -> bytes:
    return zlib.decompress(stored[len(_COMPRESSED) :]) if stored.startswith(_COMPRESSED) else stored


class ImportJob(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    file_size = models.PositiveIntegerField(_("size"))
    file_format = models.CharField(max_length=10)  # csv or xlsx
    encoding = models.CharField(max_length=40, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # The upload itself, in the database: workers on other machines read it without shared disks.
    # Emptied when the import ends, so customers' data does not linger in a blob.
    data = models.BinaryField(editable=False)
    headers = models.JSONField(default=list)
    samples = models.JSONField(default=list)  # a few values of each column, for the mapping screen
    mapping = models.JSONField(default=list)  # the target of each column, in column order ("" = ignored)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # why a job failed as a whole
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last time a running check or import moved on: a page can tell a stalled job from a slow one.
    progress_at = models.DateTimeField(null=True, blank=True)
    # What the check's reading of the cells depended on (Planner.fingerprint); the import reuses
    # the ImportChunks the check kept while it still holds.
    parsed_with = models.CharField(max_length=64, blank=True, editable=False)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="import_recent")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.CHECKING, ImportStatus.APPLYING)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0

    @property
    def valid(self) -> int:
        return self.new + self.updated + self.unchanged


class ImportRow(models.Model):
    """A row the import could not take: its line in the file, the reasons, and its cells as they were."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="invalid_rows")
    line = models.PositiveIntegerField()
    messages = models.JSONField(default=list)
    values = models.JSONField(default=list)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="import_row_line")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line}"


class ImportChunk(models.Model):
    """A chunk of the file as the check read it (Planner.pack): the import plans these instead of
    reading the cells again. Deleted with the file when the import ends."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks", db_index=False)
    index = models.PositiveIntegerField()
    rows = models.BinaryField()

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("job", "index", name="import_chunk_unique")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.index}"
