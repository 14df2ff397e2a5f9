"""Customer import pages: upload, column mapping, the check's results, progress, the invalid rows."""

import csv
from collections.abc import Iterator

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from merchants.actors import Actor
from merchants.permissions import MerchantRequest, manager_required

from .exports import neutralise
from .imports.columns import TARGETS, target_choices
from .imports.models import ImportJob, ImportRow, ImportStatus
from .imports.reading import FileProblem
from .imports.services import (
    import_apply_start,
    import_cancel,
    import_check_start,
    import_delimiter_set,
    import_resume,
    import_upload,
)
from .ledger import program_for

STALLED_SECONDS = 90  # no progress for this long: the page offers to start the job again
INVALID_SHOWN = 50


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Your customer list"),
        help_text=gettext_lazy("A CSV file or an Excel workbook (.xlsx), with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,text/csv"}),
    )


DELIMITERS = [
    (",", gettext_lazy("Commas")),
    (";", gettext_lazy("Semicolons")),
    ("\t", gettext_lazy("Tabs")),
    ("|", gettext_lazy("Vertical bars (|)")),
]


class MappingForm(forms.Form):
    """One choice per column of the file, plus its separator for a CSV."""

    def __init__(self, *args, job: ImportJob, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        if job.file_format == "csv":
            self.fields["delimiter"] = forms.ChoiceField(
                label=_("Columns are separated by"), choices=DELIMITERS, initial=job.delimiter
            )
        for i, header in enumerate(job.headers):
            self.fields[f"col_{i}"] = forms.ChoiceField(label=header, choices=target_choices(), required=False)
            self.fields[f"col_{i}"].initial = job.mapping[i] if i < len(job.mapping) else ""

    def columns(self) -> list[tuple[forms.BoundField, list[str]]]:
        return [
            (self[f"col_{i}"], self.job.samples[i] if i < len(self.job.samples) else [])
            for i in range(len(self.job.headers))
        ]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}") or "" for i in range(len(self.job.headers))]


def _job(request: MerchantRequest, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.for_merchant(request.merchant).defer("data"), pk=pk)


@require_http_methods(["GET", "POST"])
@manager_required
def import_start(request: MerchantRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        try:
            job = import_upload(
                merchant=request.merchant, actor=Actor.for_staff(request.staff), upload=form.cleaned_data["file"]
            )
        except FileProblem as problem:
            form.add_error("file", problem)
        else:
            return redirect("rewards:import_job", pk=job.pk)
    jobs = ImportJob.objects.for_merchant(request.merchant).defer("data", "samples").select_related("created_by")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "targets": TARGETS.values(), "program": program_for(request.merchant)}
    return render(request, "rewards/import_start.html", context)


@require_GET
@manager_required
def import_template(request: MerchantRequest) -> HttpResponse:
    """An example file with our own column names, in the page's language."""
    program = program_for(request.merchant)
    names = ["first_name", "last_name", "phone", "email", "birthday", "stamps" if program.is_stamps else "points"]
    names += ["joined", "last_visit", "email_consent", "sms_consent", "tags", "notes"]
    example = ["Siti", "Aminah", "012-345 6789", "siti@example.com", "1990-03-15", "120"]
    example += ["2023-06-01", "2024-11-20", _("yes"), _("no"), "vip", ""]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers-template.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(TARGETS[n]) for n in names])
    writer.writerow([neutralise(v) for v in example])
    return response


@require_GET
@manager_required
def import_job(request: MerchantRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return _job_page(request, job)


def _job_page(
    request: MerchantRequest, job: ImportJob, form: MappingForm | None = None, status: int = 200
) -> HttpResponse:
    editing = job.status == ImportStatus.UPLOADED or (
        request.GET.get("edit") and job.status in (ImportStatus.CHECKED, ImportStatus.FAILED)
    )
    context = {
        "job": job,
        "form": form or (MappingForm(job=job) if editing else None),
        "invalid_rows": ImportRow.objects.for_merchant(request.merchant).filter(job=job)[:INVALID_SHOWN],
        "stalled": _stalled(job),
        "program": program_for(request.merchant),
    }
    return render(request, "rewards/import_job.html", context, status=status)


def _stalled(job: ImportJob) -> bool:
    return (
        job.is_running
        and job.progress_at is not None
        and (timezone.now() - job.progress_at).total_seconds() > STALLED_SECONDS
    )


@require_POST
@manager_required
def import_map(request: MerchantRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    form = MappingForm(request.POST, job=job)
    if not form.is_valid():
        return _job_page(request, job, form, status=400)
    actor = Actor.for_staff(request.staff)
    try:
        delimiter = form.cleaned_data.get("delimiter")
        if delimiter and delimiter != job.delimiter:
            import_delimiter_set(job=job, delimiter=delimiter)
            messages.info(request, _("The file was read again with the separator you chose: check the columns."))
            return redirect("rewards:import_job", pk=job.pk)
        import_check_start(job=job, mapping=form.mapping(), actor=actor)
    except (ValidationError, FileProblem) as error:
        form.add_error(None, error.messages)
        return _job_page(request, job, form, status=400)
    return redirect("rewards:import_job", pk=job.pk)


@require_POST
@manager_required
def import_apply(request: MerchantRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        import_apply_start(job=job, actor=Actor.for_staff(request.staff))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("rewards:import_job", pk=job.pk)


@require_POST
@manager_required
def import_cancel_view(request: MerchantRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        import_cancel(job=job, actor=Actor.for_staff(request.staff))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("rewards:import_job", pk=job.pk)
    messages.success(request, _("The upload was cancelled and its file deleted. Nothing was imported."))
    return redirect("rewards:import")


@require_POST
@manager_required
def import_resume_view(request: MerchantRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    import_resume(job=job, actor=Actor.for_staff(request.staff))
    messages.info(request, _("Started again: it carries on where it stopped."))
    return redirect("rewards:import_job", pk=job.pk)


@require_GET
@manager_required
def import_progress(request: MerchantRequest, pk: int) -> HttpResponse:
    """Polled by the progress bar; once the job has moved on, the whole page reloads."""
    job = _job(request, pk)
    if not job.is_running:
        return HttpResponseClientRefresh()
    return render(request, "rewards/import_job.html#import-progress", {"job": job, "stalled": _stalled(job)})


@require_GET
@manager_required
def import_invalid_csv(request: MerchantRequest, pk: int) -> StreamingHttpResponse:
    """The rows that were not imported, as uploaded, with what to fix in a last column."""
    job = _job(request, pk)
    rows = ImportRow.objects.for_merchant(request.merchant).filter(job=job).order_by("line")
    stem = job.file_name.rsplit(".", 1)[0]
    response = StreamingHttpResponse(_invalid_lines(job, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_ascii(stem)}-to-fix.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _invalid_lines(job: ImportJob, rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([neutralise(h) for h in job.headers] + [_("What to fix")])
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([neutralise(v) for v in row.values] + [neutralise(" ".join(row.messages))])


def _ascii(name: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in name).strip("-")
    return cleaned or "customers"
