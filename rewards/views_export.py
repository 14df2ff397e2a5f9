"""Export pages: the shop's members, points history and vouchers as CSV or XLSX (owners and managers).

Every download of the shop's data is written to the audit log: who took which table, in which format.
"""

from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from merchants.permissions import MerchantRequest, manager_required
from merchants.services import audit_record

from . import exports
from .ledger import program_for


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404("unknown export format")
    return fmt


def _page(request: MerchantRequest, form: exports.LedgerRangeForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "member_count": exports.member_count(merchant=request.merchant),
        "program": program_for(request.merchant),
        "formats": exports.FORMATS,
        "max_days": exports.LEDGER_MAX_DAYS,
    }
    return render(request, "rewards/export.html", context, status=status)


def _download(request: MerchantRequest, table: exports.Table, fmt: str, **details: str) -> HttpResponseBase:
    audit_record(
        merchant=request.merchant,
        actor=request.user,
        action="data.export",
        obj=request.merchant,
        after={"what": table.name, "format": fmt, **details},
    )
    return exports.export_response(table, request.merchant, fmt)


@require_GET
@manager_required
def export_page(request: MerchantRequest) -> HttpResponse:
    return _page(request, exports.ledger_range_form(data=request.GET, merchant=request.merchant))


@require_GET
@manager_required
def export_members(request: MerchantRequest, fmt: str) -> HttpResponseBase:
    fmt = _format(fmt)
    return _download(request, exports.members_table(merchant=request.merchant), fmt)


@require_GET
@manager_required
def export_ledger(request: MerchantRequest, fmt: str) -> HttpResponseBase:
    """A refused range shows the export page again, with the reason next to the dates."""
    fmt = _format(fmt)
    form = exports.ledger_range_form(data=request.GET, merchant=request.merchant)
    if not form.is_valid():
        return _page(request, form, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    table = exports.ledger_table(merchant=request.merchant, start=start, end=end)
    return _download(request, table, fmt, start=start.isoformat(), end=end.isoformat())


@require_GET
@manager_required
def export_vouchers(request: MerchantRequest, fmt: str) -> HttpResponseBase:
    fmt = _format(fmt)
    return _download(request, exports.vouchers_table(merchant=request.merchant), fmt)
