"""The counter: one screen to find or enrol a customer, record a purchase, redeem, undo a mistake.

Each view answers an HTMX request with the `counter-main` fragment of rewards/counter.html and
anything else with the whole page, so every state has a real URL and works without script.
Ledger writes pass the form's idempotency key; enrolments and card changes remember theirs in the
session. Every write is recorded at the location this browser serves, kept in the session.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url, replace_url

from members.enrol import AlreadyMember, member_enroll_at_counter
from members.forms import KeyedForm
from members.models import Card, CardStatus, Member
from members.selectors import member_search
from members.services import card_find, card_link, card_replace, member_by_card
from merchants.actors import Actor
from merchants.models import Location
from merchants.permissions import MerchantRequest, cashier_required

from . import ledger
from .forms import PurchaseForm, RedeemForm
from .forms_counter import CardForm, EnrolForm, enrol_initial
from .ledger import LedgerError
from .models import Purchase, Redemption, Reward
from .selectors_counter import counter_panel
from .templatetags.rewards_tags import money_format, units

LOCATION = "counter.location"  # session: the location this browser serves at
DONE = "counter.done"  # session: recent keys of enrolments and card changes -> the member's id
RESULTS = 10  # matches shown as you type; more means "type more"


@dataclass
class Desk:
    """Who serves where: the actor every write of this request is recorded with."""

    actor: Actor
    location: Location | None
    locations: list[Location]

    @property
    def needs_location(self) -> bool:
        return self.location is None and len(self.locations) > 1


def _desk(request: MerchantRequest) -> Desk:
    """The location from the session; a shop with one location needs no choice."""
    locations = list(Location.objects.for_merchant(request.merchant).filter(is_active=True))
    chosen = request.session.get(LOCATION)
    location = next((loc for loc in locations if loc.pk == chosen), locations[0] if len(locations) == 1 else None)
    request.staff.user = request.user  # the same person: spares a query for the actor's user
    return Desk(actor=Actor.for_staff(request.staff, location), location=location, locations=locations)


def at_desk(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For views that show or change a member: they run with the Desk, once its location is known."""

    @wraps(view)
    def wrapper(request: MerchantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        desk = _desk(request)
        if desk.needs_location:  # several locations and none chosen yet: the counter asks first
            if request.htmx:
                return HttpResponseClientRedirect(reverse("rewards:counter"))
            return redirect("rewards:counter")
        return view(request, desk, *args, **kwargs)

    return wrapper


def _render(request: MerchantRequest, desk: Desk, **context: Any) -> HttpResponse:
    """The fragment for HTMX; the whole page otherwise (a history restore wants the page too)."""
    template = "rewards/counter.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#counter-main"
    return render(request, template, {"desk": desk, **context})


def _member(request: MerchantRequest, pk: int) -> Member:
    """Another shop's member is simply not found."""
    member = get_object_or_404(Member.objects.for_merchant(request.merchant), pk=pk)
    member.merchant = request.merchant
    return member


def _panel(request: MerchantRequest, desk: Desk, member: Member, focus: str = "amount", **extra: Any) -> HttpResponse:
    """The member's panel: balance, tier, vouchers, rewards, purchase, cards, undo.

    focus: "amount" puts the cursor in the purchase amount; "search" back in the search box (the
    next scan must land there, not in a field of this member's panel).
    """
    panel = counter_panel(member=member, actor=desk.actor)
    purchase_form = extra.pop("purchase_form", None) or _purchase_form(member)
    if focus == "amount":
        purchase_form.fields["amount"].widget.attrs["autofocus"] = True
    context = {"member": member, "panel": panel, "card": panel.card, "program": panel.card.program}
    card_form = extra.pop("card_form", None) or CardForm(replacing=bool(panel.cards))
    context |= {"purchase_form": purchase_form, "card_form": card_form}
    response = _render(request, desk, focus=focus, **context, **extra)
    if request.htmx:
        push_url(response, reverse("rewards:counter_member", args=[member.pk]))
    return response


def _purchase_form(member: Member, data: Any = None) -> PurchaseForm:
    # No location field: the counter's location comes from the session.
    return PurchaseForm(data, locations=[], preview_url=reverse("rewards:purchase_preview", args=[member.pk]))


def _done(request: MerchantRequest, desk: Desk, member: Member) -> HttpResponse:
    """After a write: the panel again with the message (HTMX), or a redirect to it (no script)."""
    if request.htmx:
        return _panel(request, desk, member, focus="search")
    return redirect("rewards:counter_member", pk=member.pk)


def _replayed(request: MerchantRequest, key: str) -> int | None:
    return request.session.get(DONE, {}).get(key)


def _remember(request: MerchantRequest, key: str, member: Member) -> None:
    done = request.session.get(DONE, {})
    request.session[DONE] = dict([*list(done.items())[-29:], (key, member.pk)])


# ---------------------------------------------------------------------------------------------
# The screen, the search, the location


@require_GET
@cashier_required
@vary_on_headers("HX-Request")
def counter(request: MerchantRequest) -> HttpResponse:
    """The counter. ?q= lists the members who match as you type; submitted (Enter, as a scanner
    ends a card number, or Find: ?open=1), a card number that matches exactly opens its member."""
    desk, query = _desk(request), request.GET.get("q", "").strip()
    if desk.needs_location or not query:
        response = _render(request, desk, query=query)
        return replace_url(response, reverse("rewards:counter")) if request.htmx else response
    scanned = _scanned(request, query)
    if scanned is not None and request.GET.get("open"):
        if request.htmx:
            scanned.merchant = request.merchant
            return _panel(request, desk, scanned)
        return redirect("rewards:counter_member", pk=scanned.pk)
    found = list(member_search(merchant=request.merchant, query=query)[: RESULTS + 1])
    if scanned is not None and scanned not in found:
        found.insert(0, scanned)  # found by a physical card's number, which the search does not read
    blocked = card_find(merchant=request.merchant, number=query) if not found else None
    context = {"query": query, "found": found[:RESULTS], "more": len(found) > RESULTS}
    context |= {"blocked": blocked if blocked and blocked.status == CardStatus.BLOCKED else None}
    context["enrol_form"] = EnrolForm(initial=enrol_initial(query))
    response = _render(request, desk, **context)
    if request.htmx:
        replace_url(response, reverse("rewards:counter") + "?" + urlencode({"q": query}))
    return response


def _scanned(request: MerchantRequest, query: str) -> Member | None:
    """The member whose card (their own number or a linked physical card) is exactly the query."""
    if len(query) < 4 or any(ch.isspace() for ch in query):
        return None  # names and phone numbers with spaces are no card numbers: spare the lookups
    return member_by_card(merchant=request.merchant, number=query)


@require_POST
@cashier_required
def counter_location(request: MerchantRequest) -> HttpResponse:
    """Serve at this location from now on (this browser). Choosing it twice is choosing it once."""
    location = get_object_or_404(
        Location.objects.for_merchant(request.merchant).filter(is_active=True), pk=request.POST.get("location") or 0
    )
    request.session[LOCATION] = location.pk  # the counter's head shows it from now on
    return redirect("rewards:counter")


@require_GET
@cashier_required
@at_desk
@vary_on_headers("HX-Request")
def counter_member(request: MerchantRequest, desk: Desk, pk: int) -> HttpResponse:
    return _panel(request, desk, _member(request, pk))


# ---------------------------------------------------------------------------------------------
# Enrolment


@require_POST
@cashier_required
@at_desk
def counter_enrol(request: MerchantRequest, desk: Desk) -> HttpResponse:
    form = EnrolForm(request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        key = fields.pop("key")
        if (done := _replayed(request, key)) is not None:  # a double click: the first enrolment stands
            return _panel(request, desk, _member(request, done))
        try:
            member = member_enroll_at_counter(merchant=request.merchant, actor=desk.actor, **fields)
        except AlreadyMember as error:
            return _render(request, desk, enrol_form=form, existing=error.member, existing_message=error.message)
        except ValidationError as error:
            _enrol_error(form, error)
        else:
            _remember(request, key, member)
            messages.success(
                request, _("%(member)s is now a member. Their card link is on its way.") % {"member": member}
            )
            member.merchant = request.merchant
            return _panel(request, desk, member) if request.htmx else _done(request, desk, member)
    form.focus_first_error()
    return _render(request, desk, enrol_form=form)


def _enrol_error(form: EnrolForm, error: ValidationError) -> None:
    """The service's reason, next to the field it names, else above the form."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    else:
        form.add_error(None, error.messages)


# ---------------------------------------------------------------------------------------------
# The member's panel: purchase, redeem, voucher, cards


@require_POST
@cashier_required
@at_desk
def counter_purchase(request: MerchantRequest, desk: Desk, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = _purchase_form(member, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            purchase = ledger.purchase_record(
                member=member,
                amount=data["amount"],
                receipt=data["receipt"],
                actor=desk.actor,
                idempotency_key=data["key"],
            )
        except LedgerError as error:
            form.add_error(None, error.messages)
        else:
            earned = units(purchase.points, ledger.program_for(request.merchant).is_stamps)
            amount = money_format(purchase.amount, request.merchant.currency, request.merchant.country)
            messages.success(
                request, _("Purchase of %(amount)s recorded: %(earned)s earned.") % {"amount": amount, "earned": earned}
            )
            return _done(request, desk, member)
    return _panel(request, desk, member, purchase_form=form)


@require_POST
@cashier_required
@at_desk
def counter_redeem(request: MerchantRequest, desk: Desk, pk: int, reward_pk: int) -> HttpResponse:
    member = _member(request, pk)
    reward = get_object_or_404(Reward.objects.for_merchant(request.merchant), pk=reward_pk)
    form = RedeemForm(request.POST)
    try:
        if not form.is_valid():
            raise LedgerError([e for errors in form.errors.values() for e in errors])
        voucher = ledger.reward_redeem(
            member=member,
            reward=reward,
            points=form.cleaned_data["points"],
            actor=desk.actor,
            idempotency_key=form.cleaned_data["key"],
        )
    except LedgerError as error:
        messages.error(request, " ".join(error.messages))
        return _panel(request, desk, member, focus="")
    messages.success(
        request, _("Voucher %(code)s issued for “%(reward)s”.") % {"code": voucher.code, "reward": reward.name}
    )
    return _done(request, desk, member)


@require_POST
@cashier_required
@at_desk
def counter_voucher_use(request: MerchantRequest, desk: Desk, pk: int, voucher_pk: int) -> HttpResponse:
    member = _member(request, pk)
    vouchers = Redemption.objects.for_merchant(request.merchant).filter(account__member=member)
    voucher = get_object_or_404(vouchers, pk=voucher_pk)
    form = KeyedForm(request.POST)
    try:
        key = form.cleaned_data["key"] if form.is_valid() else None
        ledger.voucher_use(redemption=voucher, actor=desk.actor, idempotency_key=key)
    except LedgerError as error:
        messages.error(request, " ".join(error.messages))
        return _panel(request, desk, member, focus="")
    messages.success(request, _("Voucher %(code)s marked used.") % {"code": voucher.code})
    return _done(request, desk, member)


@require_POST
@cashier_required
@at_desk
def counter_card_link(request: MerchantRequest, desk: Desk, pk: int) -> HttpResponse:
    """Give the member a physical card: scan or type its number."""
    return _card_write(request, desk, pk, None)


@require_POST
@cashier_required
@at_desk
def counter_card_replace(request: MerchantRequest, desk: Desk, pk: int, card_pk: int) -> HttpResponse:
    """A lost card: its number is blocked for good and the new card takes its place."""
    return _card_write(request, desk, pk, card_pk)


def _card_write(request: MerchantRequest, desk: Desk, pk: int, card_pk: int | None) -> HttpResponse:
    member = _member(request, pk)
    old = None
    if card_pk is not None:
        old = get_object_or_404(Card.objects.for_merchant(request.merchant).filter(member=member), pk=card_pk)
    form = CardForm(request.POST, replacing=old is not None)
    if form.is_valid():
        key, number = form.cleaned_data["key"], form.cleaned_data["number"]
        if _replayed(request, key) is not None:
            return _done(request, desk, member)
        try:
            if old is None:
                card = card_link(member=member, number=number, actor=desk.actor)
            else:
                card = card_replace(card=old, new_number=number, actor=desk.actor, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error("number", error)
        else:
            _remember(request, key, member)
            messages.success(
                request, _("Card %(number)s now belongs to %(member)s.") % {"number": card.number, "member": member}
            )
            return _done(request, desk, member)
    form.fields["number"].widget.attrs["autofocus"] = True  # the number to fix (or scan again)
    return _panel(request, desk, member, focus="", card_form=form)


# ---------------------------------------------------------------------------------------------
# Undo


@require_POST
@cashier_required
@at_desk
def counter_purchase_undo(request: MerchantRequest, desk: Desk, pk: int, purchase_pk: int) -> HttpResponse:
    member = _member(request, pk)
    purchases = Purchase.objects.for_merchant(request.merchant).filter(account__member=member)
    purchase = get_object_or_404(purchases, pk=purchase_pk)
    try:
        refund = ledger.purchase_undo(purchase=purchase, actor=desk.actor)  # undoing twice is undoing once
    except (LedgerError, PermissionDenied) as error:
        return _undo_refused(request, desk, member, error)
    taken = units(refund.points, ledger.program_for(request.merchant).is_stamps)
    messages.success(request, _("Purchase undone: %(points)s taken back.") % {"points": taken})
    return _done(request, desk, member)


@require_POST
@cashier_required
@at_desk
def counter_redemption_undo(request: MerchantRequest, desk: Desk, pk: int, redemption_pk: int) -> HttpResponse:
    member = _member(request, pk)
    redemptions = Redemption.objects.for_merchant(request.merchant).filter(account__member=member)
    redemption = get_object_or_404(redemptions, pk=redemption_pk)
    try:
        voucher = ledger.redemption_undo(redemption=redemption, actor=desk.actor)
    except (LedgerError, PermissionDenied) as error:
        return _undo_refused(request, desk, member, error)
    back = units(voucher.points, ledger.program_for(request.merchant).is_stamps)
    messages.success(
        request, _("Reward undone: voucher %(code)s voided, %(points)s back.") % {"code": voucher.code, "points": back}
    )
    return _done(request, desk, member)


def _undo_refused(request: MerchantRequest, desk: Desk, member: Member, error: Exception) -> HttpResponse:
    messages.error(request, " ".join(error.messages) if isinstance(error, ValidationError) else str(error))
    return _panel(request, desk, member, focus="")
