"""The one-question survey: the member's page (the signed link is the key, no login) and the dashboard's
NPS card (owners and managers).

`?table=<name>` on the card answers its numbers as CSV instead (the links under the card).
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, npgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from members.models import Member
from members.portal import portal_activate
from merchants.charts import bar_chart
from merchants.locales import number_text
from merchants.models import Merchant
from merchants.periods import Window, change, window_from, window_query
from merchants.permissions import MerchantRequest, manager_required
from merchants.tables import Table, csv_response

from .survey import (
    COMMENT_MAX,
    SCORES,
    NpsStats,
    answer_for,
    answer_save,
    comment_rows,
    has_answers,
    nps,
    survey_link_from_token,
)

# ---------------------------------------------------------------------------------------------
# The member's page


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(score, str(score)) for score in SCORES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Pick a score from 0 to 10."),
            "invalid_choice": gettext_lazy("Pick a score from 0 to 10."),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("What is the main reason for your score? (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: object, shop: Merchant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["score"].label = _("How likely are you to recommend %(shop)s to a friend?") % {"shop": shop.name}


def _activate(request: HttpRequest, member: Member) -> None:
    """As on the member's other pages, and the shop's language for a member who never chose one."""
    portal_activate(request, member)
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not member.language:
        translation.activate(member.merchant.language)
        request.LANGUAGE_CODE = member.merchant.language


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The question; once answered, a thank-you with the answer, which the member can still change."""
    link = survey_link_from_token(token)
    if link is None:
        return render(request, "portal/link_invalid.html", status=404)
    _activate(request, link.member)
    member, shop = link.member, link.member.merchant
    saved = answer_for(member=member, message=link.message)
    initial = {"score": saved.score, "comment": saved.comment} if saved else None
    form = SurveyForm(request.POST if request.method == "POST" else None, initial=initial, shop=shop)
    if form.is_valid():
        try:
            answer_save(member=member, message=link.message, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("survey:answer", token)  # a reload shows the thanks, not a second POST
    context = {"shop": shop, "form": form, "answer": saved, "survey_token": token}
    return render(request, "campaigns/survey_answer.html", context)


# ---------------------------------------------------------------------------------------------
# The dashboard card


def _points_change(now: int | None, before: int | None) -> dict:
    """NPS moves in points, not percent (from -10 to 10 is not "down 200%"): the badge's context."""
    if now is None or before is None:
        return {"text": _("no comparison"), "direction": "none", "good": None}
    moved = now - before
    if not moved:
        return {"text": "", "direction": "flat", "good": None}
    text = npgettext("NPS", "%(count)s point", "%(count)s points", abs(moved)) % {"count": number_text(abs(moved))}
    return {"text": text, "direction": "up" if moved > 0 else "down", "good": moved > 0}


def _tables(merchant: Merchant, now: NpsStats, before: NpsStats, window: Window) -> dict[str, Table]:
    scores = [[score, now.distribution[score], before.distribution[score]] for score in SCORES]
    comments = (
        [row.day.isoformat(), row.score, row.member, row.comment]
        for row in comment_rows(merchant=merchant, start=window.start, end=window.end)
    )
    return {
        "scores": Table("nps-scores", [_("Score"), _("This period"), _("Previous period")], scores),
        "comments": Table("nps-comments", [_("Date"), _("Score"), _("Member"), _("Comment")], comments),
    }


@require_GET
@manager_required
def kpi_nps(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    window = window_from(request.GET, merchant)
    now = nps(merchant=merchant, start=window.start, end=window.end)
    before = nps(merchant=merchant, start=window.previous.start, end=window.previous.end, latest=0)
    if name := request.GET.get("table"):
        table = _tables(merchant, now, before, window).get(name)
        if table is None:
            raise Http404
        return csv_response(table, merchant)
    scores = bar_chart(
        labels=[number_text(score) for score in SCORES],
        series=[(_("This period"), now.distribution), (_("Previous period"), before.distribution)],
        value_label=number_text,
        title=_("Answers by score"),
        label_heading=_("Score"),
    )
    context = {
        "window": window,
        "stats": now,
        "empty": not now.answers and not has_answers(merchant=merchant),
        "nps_change": _points_change(now.nps, before.nps),
        "answers_change": change(now.answers, before.answers),
        "charts": [scores],
        "tables": [("scores", _("Answers by score")), ("comments", _("Comments"))],
        "query": window_query(window),
    }
    return render(request, "campaigns/kpi_nps.html", context)
