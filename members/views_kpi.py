"""The dashboard's enrolment card, an HTMX partial the console home loads lazily (members owns these numbers)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from merchants.charts import bar_chart, hbar_chart
from merchants.locales import number_text, step_text
from merchants.periods import aligned, step_heading, window_from, window_query
from merchants.permissions import MerchantRequest, manager_required
from merchants.tables import Table, csv_response

from .kpis import enrolment_card


@require_GET
@manager_required
def kpi_enrolment(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = enrolment_card(merchant=merchant, window=window)
    step = step_heading(window)
    trend = bar_chart(
        labels=[step_text(day, window.step) for day, _count in card.trend],
        series=[
            (_("This period"), [count for _day, count in card.trend]),
            (_("Previous period"), aligned(card.trend, card.trend_previous)),
        ],
        value_label=number_text,
        title=_("New members"),
        label_heading=step,
    )
    channels = hbar_chart(
        items=[(row.label, row.current) for row in card.channels],
        value_label=number_text,
        title=_("New members by channel"),
        label_heading=_("Channel"),
        value_heading=_("New members"),
    )
    staff = hbar_chart(
        items=[(row.label, row.current) for row in card.staff],
        value_label=number_text,
        title=_("Enrolled by"),
        label_heading=_("Staff member"),
        value_heading=_("New members"),
    )
    if name := request.GET.get("table"):
        tables = {
            "enrolment": Table(
                "new-members", [step, _("New members")], [[day.isoformat(), count] for day, count in card.trend]
            ),
            "channels": Table(
                "new-members-by-channel",
                [_("Channel"), _("This period"), _("Previous period")],
                [[row.label, row.current, row.previous] for row in card.channels],
            ),
            "staff": Table(
                "new-members-by-staff",
                [_("Staff member"), _("This period"), _("Previous period")],
                [[row.label, row.current, row.previous] for row in card.staff],
            ),
        }
        if name not in tables:
            raise Http404
        return csv_response(tables[name], merchant)
    context = {
        "card": card,
        "charts": [trend, channels, staff],
        "query": window_query(window),
        "tables": [("enrolment", _("New members")), ("channels", _("By channel")), ("staff", _("By staff member"))],
    }
    return render(request, "members/kpis/enrolment.html", context)
