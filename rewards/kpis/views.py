"""The dashboard's cards owned by rewards, each an HTMX partial the console home loads lazily.

`?table=<name>` answers the card's numbers as CSV instead (the links under each card).
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from merchants.charts import bar_chart, hbar_chart, heat_map, line_chart
from merchants.locales import number_text, percent_text, step_text
from merchants.models import Merchant
from merchants.periods import Window, aligned, step_heading, window_from, window_query
from merchants.permissions import MerchantRequest, manager_required
from merchants.tables import Table, csv_response
from rewards.templatetags.rewards_tags import money_format

from . import cards


def _money(merchant: Merchant) -> Callable[[float | Decimal], str]:
    return lambda value: money_format(value, merchant.currency, merchant.country)


def _labels(points: list[tuple[date, object]], window: Window) -> list[str]:
    return [step_text(day, window.step) for day, _value in points]


def _card(
    request: MerchantRequest, template: str, context: dict, tables: Callable[[], dict[str, Table]], **links: str
) -> HttpResponse:
    """Render a card, or one of its tables as CSV; `links` name each table for the links under the card."""
    if name := request.GET.get("table"):
        table = tables().get(name)
        if table is None:
            raise Http404
        return csv_response(table, request.merchant)
    context["tables"] = list(links.items())
    context["query"] = window_query(context["card"].window)
    context["refreshed_at"] = cards.refreshed_at(merchant=request.merchant)
    return render(request, template, context)


@require_GET
@manager_required
def kpi_activity(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = cards.activity_card(merchant=merchant, window=window)
    labels = _labels(card.trend, window)
    visits = line_chart(
        labels=labels,
        series=[
            (_("This period"), [value for _day, value in card.trend]),
            (_("Previous period"), aligned(card.trend, card.trend_before)),
        ],
        value_label=number_text,
        title=_("Visits"),
        label_heading=step_heading(window),
    )
    revenue = bar_chart(
        labels=labels,
        series=[(_("Member revenue"), [value for _day, value in card.revenue_trend])],
        value_label=_money(merchant),
        title=_("Member revenue"),
        label_heading=step_heading(window),
    )

    def tables() -> dict[str, Table]:
        rows = [
            [day.isoformat(), visits, revenue, (revenue / visits).quantize(Decimal("0.01")) if visits else ""]
            for (day, visits), (_d, revenue) in zip(card.trend, card.revenue_trend, strict=True)
        ]
        header = [step_heading(window), _("Visits"), _("Member revenue"), _("Average spend")]
        return {"activity": Table("activity", header, rows)}

    context = {"card": card, "charts": [visits, revenue]}
    return _card(request, "rewards/kpis/activity.html", context, tables, activity=_("Visits and revenue"))


@require_GET
@manager_required
def kpi_redemption(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = cards.redemption_card(merchant=merchant, window=window)
    points = line_chart(
        labels=_labels(card.earned_trend, window),
        series=[
            (_("Earned"), [value for _day, value in card.earned_trend]),
            (_("Redeemed"), [value for _day, value in card.redeemed_trend]),
        ],
        value_label=number_text,
        title=_("Points earned and redeemed"),
        label_heading=step_heading(window),
    )
    top = hbar_chart(
        items=[(reward.name, reward.issued) for reward in card.top],
        value_label=number_text,
        title=_("Top rewards"),
        label_heading=_("Reward"),
        value_heading=_("Vouchers issued"),
    )

    def tables() -> dict[str, Table]:
        return {
            "points": Table(
                "points-earned-redeemed",
                [step_heading(window), _("Points earned"), _("Points redeemed")],
                [
                    [day.isoformat(), earned, redeemed]
                    for (day, earned), (_d, redeemed) in zip(card.earned_trend, card.redeemed_trend, strict=True)
                ],
            ),
            "rewards": Table(
                "top-rewards",
                [_("Reward"), _("Vouchers issued"), _("Vouchers used"), _("Points spent")],
                [[reward.name, reward.issued, reward.used, reward.points] for reward in card.top],
            ),
        }

    context = {"card": card, "charts": [points, top]}
    return _card(request, "rewards/kpis/redemption.html", context, tables, points=_("Points"), rewards=_("Top rewards"))


@require_GET
@manager_required
def kpi_retention(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = cards.retention_card(merchant=merchant, window=window)
    width = max((len(cohort.buyers) for cohort in card.cohorts), default=0)
    heat = heat_map(
        row_labels=[f"{step_text(cohort.month, 'month')} ({number_text(cohort.size)})" for cohort in card.cohorts],
        column_labels=[str(months) for months in range(width)],
        values=[
            [
                *[share * 100 if share is not None else None for share in cohort.shares()],
                *[None] * (width - len(cohort.buyers)),
            ]
            for cohort in card.cohorts
        ],
        value_label=lambda value: percent_text(value / 100),
        title=_("Share of each month's new members who bought, by months since joining"),
        label_heading=_("Joined (members)"),
    )

    def tables() -> dict[str, Table]:
        header = [_("Joined"), _("Members"), *[_("Month %(n)s") % {"n": months} for months in range(width)]]
        rows = [
            [cohort.month.strftime("%Y-%m"), cohort.size, *[n if n is not None else "" for n in cohort.buyers]]
            for cohort in card.cohorts
        ]
        return {"cohorts": Table("cohorts", header, rows)}

    context = {"card": card, "charts": [heat]}
    return _card(request, "rewards/kpis/retention.html", context, tables, cohorts=_("Cohorts"))


@require_GET
@manager_required
def kpi_liability(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = cards.liability_card(merchant=merchant, window=window)
    held = line_chart(
        labels=_labels(card.trend, window),
        series=[(_("Points held"), [value for _day, value in card.trend])],
        value_label=number_text,
        title=_("Points members hold"),
        label_heading=step_heading(window),
    )

    def tables() -> dict[str, Table]:
        header = [step_heading(window), _("Points held"), _("Value")]
        rows = [[day.isoformat(), points, card.value(points)] for day, points in card.trend]
        return {"liability": Table("points-liability", header, rows)}

    context = {"card": card, "charts": [held]}
    return _card(request, "rewards/kpis/liability.html", context, tables, liability=_("Points held"))


@require_GET
@manager_required
def kpi_tiers(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    card = cards.tiers_card(merchant=merchant, window=window, no_tier=_("No tier"))
    members = hbar_chart(
        items=[(tier.name, tier.members) for tier in card.tiers],
        value_label=number_text,
        title=_("Members per tier"),
        label_heading=_("Tier"),
        value_heading=_("Members"),
    )

    def tables() -> dict[str, Table]:
        rows = [[tier.name, tier.members] for tier in card.tiers]
        return {"tiers": Table("members-per-tier", [_("Tier"), _("Members")], rows)}

    context = {"card": card, "charts": [members]}
    return _card(request, "rewards/kpis/tiers.html", context, tables, tiers=_("Members per tier"))
