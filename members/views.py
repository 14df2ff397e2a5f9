"""Member pages: the list with search as you type, and adding a member at the counter.

A member's own page (balance, rewards, history) is served by rewards, which owns those numbers;
pages here link to it by URL name only, since members never imports rewards.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from merchants.actors import Actor
from merchants.permissions import MerchantRequest, cashier_required

from .forms import MemberForm
from .selectors import member_search
from .services import member_enroll

MEMBER_PAGE = "rewards:member"
ENROLLED = "members.enrolled"  # session: the last few form keys that enrolled someone -> member id
PREFILL = ("first_name", "last_name", "phone", "email")


@require_GET
@cashier_required
@vary_on_headers("HX-Request")
def member_list(request: MerchantRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    members = member_search(merchant=request.merchant, query=query)
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    template = "members/member_list.html"
    if request.htmx:
        template += "#member-rows"  # search as you type swaps only the results
    return render(request, template, {"page": page, "query": query, "prefill": _prefill(query)})


def _prefill(query: str) -> dict[str, str]:
    """What the "add member" link can fill in from a search that found nobody."""
    if not query:
        return {}
    if "@" in query:
        return {"email": query}
    if sum(ch.isdigit() for ch in query) >= 6:
        return {"phone": query}
    first, _sep, last = query.partition(" ")
    return {"first_name": first, "last_name": last.strip()} if last else {"first_name": first}


@require_http_methods(["GET", "POST"])
@cashier_required
def member_create(request: MerchantRequest) -> HttpResponse:
    form = MemberForm(request.POST or None, initial={k: request.GET[k] for k in PREFILL if k in request.GET})
    if form.is_valid():
        fields = dict(form.cleaned_data)
        key = fields.pop("key")
        done = request.session.get(ENROLLED, {})
        if key in done:  # the same form posted again (a double click, back and resubmit): one member
            return redirect(MEMBER_PAGE, pk=done[key])
        try:
            member = member_enroll(merchant=request.merchant, actor=Actor.for_staff(request.staff), **fields)
        except ValidationError as error:
            _show_error(form, error)
        else:
            request.session[ENROLLED] = dict([*list(done.items())[-19:], (key, member.pk)])
            messages.success(request, _("%(member)s is now a member.") % {"member": member})
            return redirect(MEMBER_PAGE, pk=member.pk)
    return render(request, "members/member_create.html", {"form": form})


def _show_error(form: MemberForm, error: ValidationError) -> None:
    """The service's reason, next to the field it is about when it names one."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    elif getattr(error, "code", None) == "phone_invalid":
        form.add_error("phone", error)
    else:
        form.add_error(None, error.messages)
