"""Segment pages: the list with each segment's size, the form with a live count, ready-made RFM segments."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from merchants.actors import Actor
from merchants.permissions import MerchantRequest, manager_required

from . import services
from .forms import SegmentForm
from .models import Segment
from .segments import PRESETS, segment_count


@require_GET
@manager_required
def segment_list(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    segments = [
        (segment, segment_count(merchant=merchant, rules=segment.rules))
        for segment in Segment.objects.for_merchant(merchant)
    ]
    presets = [(key, label) for key, (label, _rules) in PRESETS.items()]
    return render(request, "campaigns/segment_list.html", {"segments": segments, "presets": presets})


@require_http_methods(["GET", "POST"])
@manager_required
def segment_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    merchant = request.merchant
    segment = get_object_or_404(Segment.objects.for_merchant(merchant), pk=pk) if pk else None
    form = SegmentForm(request.POST or None, merchant=merchant, segment=segment)
    if request.method == "POST" and form.is_valid():
        services.segment_save(
            merchant=merchant,
            actor=Actor.for_staff(request.staff),
            name=form.cleaned_data["name"],
            rules=form.rules(),
            segment=segment,
        )
        messages.success(request, _("Segment “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
        return redirect("campaigns:segments")
    if segment is not None and request.method == "GET":
        form.is_valid()  # the saved rules, validated, give the count below
    rules = _partial_rules(form) if form.is_bound else (segment.rules if segment else {})
    count = segment_count(merchant=merchant, rules=rules)
    return render(request, "campaigns/segment_edit.html", {"form": form, "segment": segment, "count": count})


def _partial_rules(form: SegmentForm) -> dict:
    """The rules of the fields filled in correctly so far: the count follows the owner's typing."""
    form.is_valid()
    return form.rules()


@require_GET
@manager_required
def segment_count_view(request: MerchantRequest) -> HttpResponse:
    """HTMX: how many members the form's rules pick right now."""
    form = SegmentForm(request.GET, merchant=request.merchant)
    count = segment_count(merchant=request.merchant, rules=_partial_rules(form))
    return render(request, "campaigns/segment_edit.html#segment-count", {"count": count, "form": form})


@require_POST
@manager_required
def segment_preset(request: MerchantRequest) -> HttpResponse:
    key = request.POST.get("preset", "")
    if key not in PRESETS:
        raise Http404
    segment = services.segment_from_preset(merchant=request.merchant, actor=Actor.for_staff(request.staff), key=key)
    return redirect("campaigns:segment_edit", pk=segment.pk)


@require_POST
@manager_required
def segment_delete(request: MerchantRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.for_merchant(request.merchant), pk=pk)
    services.segment_delete(segment=segment, actor=Actor.for_staff(request.staff))
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("campaigns:segments")
