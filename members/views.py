"""Member pages: the list with search as you type, and adding a member at the counter.

A member's own page (balance, rewards, history) is served by rewards, which owns those numbers;
pages here link to it by URL name only, since members never imports rewards.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from merchants.actors import Actor
from merchants.locales import number_text
from merchants.permissions import MerchantRequest, cashier_required, manager_required, owner_required

from .forms import CardBatchForm, MemberForm
from .models import Card, Member
from .privacy import member_data_response
from .selectors import card_batches, cards_with_members, member_search
from .services import cards_create_batch, erase_confirmed, member_data_exported, member_enroll, member_erase

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


@require_POST
@owner_required
def personal_data_erase(request: MerchantRequest, pk: int) -> HttpResponse:
    """The owner erases a member's personal data (they asked, or the shop must); the ledger amounts stay."""
    member = get_object_or_404(Member.objects.for_merchant(request.merchant), pk=pk)
    if member.erased_at:
        messages.info(request, _("This member's personal data was already erased."))
    elif not erase_confirmed(member, request.POST.get("confirm", "")):
        messages.error(request, _("Type the member's name exactly as shown to confirm: erasing cannot be undone."))
    else:
        member_erase(member=member, actor=Actor.for_staff(request.staff))
        messages.success(request, _("Personal data erased. The points history stays, with no name behind it."))
    return redirect(MEMBER_PAGE, pk=member.pk)


@require_GET
@manager_required
def member_data_export(request: MerchantRequest, pk: int, fmt: str) -> HttpResponseBase:
    """Everything the shop holds about one member, to hand them (an access request); logged."""
    member = get_object_or_404(Member.objects.for_merchant(request.merchant).filter(erased_at__isnull=True), pk=pk)
    member_data_exported(member=member, actor=Actor.for_staff(request.staff), fmt=fmt)
    stamp = timezone.localdate().isoformat()
    return member_data_response(member, fmt, filename=f"member-{member.pk}-data-{stamp}")


# ---------------------------------------------------------------------------------------------
# Physical cards: make a batch of numbers, print them on A4, see which were handed out

CARD_BATCHES = "members.card_batches"  # session: recent batch form keys -> the batch they made
CARDS_PER_SHEET = 10  # two columns of five credit-card-sized cards on A4


@require_GET
@manager_required
def card_list(request: MerchantRequest) -> HttpResponse:
    page = Paginator(cards_with_members(merchant=request.merchant), 50).get_page(request.GET.get("page"))
    context = {"page": page, "batches": card_batches(merchant=request.merchant), "form": CardBatchForm()}
    return render(request, "members/card_list.html", context)


@require_POST
@manager_required
def card_batch_create(request: MerchantRequest) -> HttpResponse:
    form = CardBatchForm(request.POST)
    if form.is_valid():
        key, done = form.cleaned_data["key"], request.session.get(CARD_BATCHES, {})
        if key in done:  # the same form posted again: the batch it made, not a second one
            return redirect("members:card_print", batch=done[key])
        try:
            cards = cards_create_batch(
                merchant=request.merchant, count=form.cleaned_data["count"], actor=Actor.for_staff(request.staff)
            )
        except ValidationError as error:
            form.add_error("count", error)
        else:
            request.session[CARD_BATCHES] = dict([*list(done.items())[-19:], (key, cards[0].batch)])
            messages.success(
                request, _("%(count)s new card numbers, ready to print.") % {"count": number_text(len(cards))}
            )
            return redirect("members:card_print", batch=cards[0].batch)
    page = Paginator(cards_with_members(merchant=request.merchant), 50).get_page(1)
    context = {"page": page, "batches": card_batches(merchant=request.merchant), "form": form}
    return render(request, "members/card_list.html", context)


@require_GET
@manager_required
def card_print(request: MerchantRequest, batch: str) -> HttpResponse:
    """An A4 sheet of ready-to-cut cards: the shop's name, a QR code of the number, the number."""
    cards = list(Card.objects.for_merchant(request.merchant).filter(batch=batch).order_by("number"))
    if not cards:
        raise Http404
    sheets = [cards[i : i + CARDS_PER_SHEET] for i in range(0, len(cards), CARDS_PER_SHEET)]
    return render(request, "members/card_print.html", {"sheets": sheets, "batch": batch, "count": len(cards)})
