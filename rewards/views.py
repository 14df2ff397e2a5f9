"""Rewards pages: program settings, tiers, the catalog, a member's page and its counter actions, reports.

Every write goes through rewards.services or rewards.ledger with the form's idempotency key, so a
double click or a resubmitted form records once. A refusal (LedgerError) is shown on the form.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.forms import KeyedForm
from members.models import Member
from members.selectors import consent_history
from merchants.actors import Actor
from merchants.locales import date_text, number_text
from merchants.models import Location
from merchants.permissions import MerchantRequest, cashier_required, manager_required, owner_required

from . import approvals, ledger, privacy, selectors, services
from .forms import (
    AdjustForm,
    PreviewForm,
    ProgramForm,
    PurchaseForm,
    RedeemForm,
    RefundForm,
    RewardForm,
    TierFeeForm,
    TierForm,
    plain_decimal,
)
from .ledger import LedgerError
from .models import AdjustmentRequest, Purchase, Redemption, Refund, RequestStatus, Reward, Tier
from .templatetags.rewards_tags import money_format, units


def _actor(request: MerchantRequest) -> Actor:
    return Actor.for_staff(request.staff)


def _form_error(form: Form, error: ValidationError) -> None:
    """The service's or ledger's reason, next to the field it names, else above the form."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    else:
        form.add_error(None, error.messages)


def _key(request: MerchantRequest) -> str | None:
    """The idempotency key of a button-only form (mark a voucher used)."""
    form = KeyedForm(request.POST)
    return form.cleaned_data["key"] if form.is_valid() else None


def _money(request: MerchantRequest, amount: Decimal) -> str:
    return money_format(amount, request.merchant.currency, request.merchant.country)


# ---------------------------------------------------------------------------------------------
# Program, tiers, catalog


@require_http_methods(["GET", "POST"])
@owner_required
def program_edit(request: MerchantRequest) -> HttpResponse:
    program = ledger.program_for(request.merchant)
    form = ProgramForm(request.POST or None, instance=program, merchant=request.merchant)
    if form.is_valid():
        try:
            services.program_update(program=program, actor=_actor(request), **form.cleaned_data)
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Program saved. The new rules apply from now on."))
            return redirect("rewards:program")
    context = {"form": form, "mode_locked": selectors.points_exist(merchant=request.merchant)}
    return render(request, "rewards/program_edit.html", context)


@require_GET
@owner_required
def tier_list(request: MerchantRequest) -> HttpResponse:
    context = {"tiers": Tier.objects.for_merchant(request.merchant), "program": ledger.program_for(request.merchant)}
    return render(request, "rewards/tier_list.html", context)


@require_http_methods(["GET", "POST"])
@owner_required
def tier_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    tier = get_object_or_404(Tier.objects.for_merchant(request.merchant), pk=pk) if pk else None
    program = ledger.program_for(request.merchant)
    form = TierForm(request.POST or None, instance=tier, merchant=request.merchant, program=program)
    if form.is_valid():
        try:
            tier = services.tier_save(merchant=request.merchant, actor=_actor(request), tier=tier, **form.cleaned_data)
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Tier “%(name)s” saved.") % {"name": tier.name})
            return redirect("rewards:tiers")
    return render(request, "rewards/tier_edit.html", {"form": form, "tier": tier})


@require_GET
@manager_required
def reward_list(request: MerchantRequest) -> HttpResponse:
    rewards = Reward.objects.for_merchant(request.merchant).select_related("min_tier")
    context = {"rewards": rewards, "program": ledger.program_for(request.merchant)}
    return render(request, "rewards/reward_list.html", context)


@require_http_methods(["GET", "POST"])
@manager_required
def reward_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    reward = get_object_or_404(Reward.objects.for_merchant(request.merchant), pk=pk) if pk else None
    program = ledger.program_for(request.merchant)
    form = RewardForm(request.POST or None, instance=reward, merchant=request.merchant, program=program)
    if form.is_valid():
        fields = form.cleaned_data
        try:
            reward = services.reward_save(merchant=request.merchant, actor=_actor(request), reward=reward, **fields)
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Reward “%(name)s” saved.") % {"name": reward.name})
            return redirect("rewards:catalog")
    return render(request, "rewards/reward_edit.html", {"form": form, "reward": reward, "program": program})


# ---------------------------------------------------------------------------------------------
# A member's page and its actions


def _member(request: MerchantRequest, pk: int) -> Member:
    """Another shop's member is simply not found."""
    member = get_object_or_404(Member.objects.for_merchant(request.merchant), pk=pk)
    member.merchant = request.merchant  # the request's instance: no second fetch of the shop
    return member


def _back(member: Member) -> HttpResponseRedirect:
    # An explicit fragment: otherwise the browser keeps the form's (#purchase...) across the redirect.
    return HttpResponseRedirect(reverse("rewards:member", args=[member.pk]) + "#main")


def _locations(request: MerchantRequest) -> list[Location]:
    return list(Location.objects.for_merchant(request.merchant).filter(is_active=True))


def _purchase_form(member: Member, locations: list[Location], data: QueryDict | None = None) -> PurchaseForm:
    url = reverse("rewards:purchase_preview", args=[member.pk])
    return PurchaseForm(data, locations=locations, preview_url=url)


def _member_page(request: MerchantRequest, member: Member, **overrides) -> HttpResponse:
    """The member page; a failed action passes its bound form or its error to show in place."""
    card = selectors.member_card(member=member)
    history = Paginator(selectors.member_history(account=card.account), 25).get_page(request.GET.get("page"))
    context = {
        "member": member,
        "card": card,
        "program": card.program,
        "history": history,
        "purchase_form": _purchase_form(member, card.locations),
        "adjust_form": AdjustForm(stamps=card.program.is_stamps),
        "adjust_requests": selectors.adjustment_requests_of_member(member=member),
        "fee_form": TierFeeForm(tiers=card.paid_tiers) if card.paid_tiers else None,
        "consents": consent_history(member=member),
        **overrides,
    }
    return render(request, "rewards/member_detail.html", context)


@require_GET
@cashier_required
def member_detail(request: MerchantRequest, pk: int) -> HttpResponse:
    return _member_page(request, _member(request, pk))


@require_GET
@cashier_required
def purchase_preview(request: MerchantRequest, pk: int) -> HttpResponse:
    """HTMX: what a purchase of this amount would earn. Reads only."""
    member = _member(request, pk)
    program, _tiers = ledger.rules_for(request.merchant)  # cached: this runs on every keystroke
    form = PreviewForm(request.GET)
    context = {"program": program, "preview": None, "preview_error": ""}
    if request.GET.get("amount", "").strip():
        try:
            if not form.is_valid():
                raise LedgerError(form.errors["amount"])
            amount = ledger.money_check(request.merchant, form.cleaned_data["amount"], limit=program.max_purchase)
            context["preview"] = ledger.purchase_preview(member=member, amount=amount, program=program)
        except LedgerError as error:
            context["preview_error"] = " ".join(error.messages)
    return render(request, "rewards/member_detail.html#purchase-preview", context)


@require_POST
@cashier_required
def purchase_record(request: MerchantRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = _purchase_form(member, _locations(request), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            purchase = ledger.purchase_record(
                member=member,
                amount=data["amount"],
                receipt=data["receipt"],
                location=data["location"],
                actor=_actor(request),
                idempotency_key=data["key"],
            )
        except LedgerError as error:
            _form_error(form, error)
        else:
            earned = units(purchase.points, ledger.rules_for(request.merchant)[0].is_stamps)
            messages.success(
                request,
                _("Purchase of %(amount)s recorded: %(earned)s earned.")
                % {"amount": _money(request, purchase.amount), "earned": earned},
            )
            return _back(member)
    return _member_page(request, member, purchase_form=form)


@require_POST
@cashier_required
def reward_redeem(request: MerchantRequest, pk: int, reward_pk: int) -> HttpResponse:
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
            actor=_actor(request),
            idempotency_key=form.cleaned_data["key"],
        )
    except LedgerError as error:
        return _member_page(request, member, reward_error=" ".join(error.messages))
    messages.success(
        request, _("Voucher %(code)s issued for “%(reward)s”.") % {"code": voucher.code, "reward": reward.name}
    )
    return _back(member)


def _voucher(request: MerchantRequest, member: Member, voucher_pk: int) -> Redemption:
    vouchers = Redemption.objects.for_merchant(request.merchant).filter(account__member=member)
    return get_object_or_404(vouchers.select_related("reward"), pk=voucher_pk)


@require_POST
@cashier_required
def voucher_use(request: MerchantRequest, pk: int, voucher_pk: int) -> HttpResponse:
    member = _member(request, pk)
    voucher = _voucher(request, member, voucher_pk)
    try:
        ledger.voucher_use(redemption=voucher, actor=_actor(request), idempotency_key=_key(request))
    except LedgerError as error:
        return _member_page(request, member, voucher_error=" ".join(error.messages))
    messages.success(request, _("Voucher %(code)s marked used.") % {"code": voucher.code})
    return _back(member)


@require_POST
@manager_required
def voucher_void(request: MerchantRequest, pk: int, voucher_pk: int) -> HttpResponse:
    member = _member(request, pk)
    voucher = _voucher(request, member, voucher_pk)
    try:
        ledger.voucher_void(redemption=voucher, actor=_actor(request))  # voiding twice is voiding once
    except LedgerError as error:
        return _member_page(request, member, voucher_error=" ".join(error.messages))
    is_stamps = ledger.program_for(request.merchant).is_stamps
    messages.success(
        request,
        _("Voucher %(code)s voided; %(points)s went back.")
        % {"code": voucher.code, "points": units(voucher.points, is_stamps)},
    )
    return _back(member)


@require_POST
@cashier_required
def tier_fee_record(request: MerchantRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = TierFeeForm(request.POST, tiers=[t for t in Tier.objects.for_merchant(request.merchant) if t.is_paid])
    if form.is_valid():
        data = form.cleaned_data
        try:
            fee = ledger.tier_fee_record(
                member=member,
                tier=data["tier"],
                amount=data["amount"],
                actor=_actor(request),
                idempotency_key=data["key"],
            )
        except LedgerError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("%(tier)s membership paid until %(date)s.") % {"tier": fee.tier.name, "date": date_text(fee.ends_on)},
            )
            return _back(member)
    return _member_page(request, member, fee_form=form)


@require_POST
@manager_required
def points_adjust(request: MerchantRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    is_stamps = ledger.program_for(request.merchant).is_stamps
    form = AdjustForm(request.POST, stamps=is_stamps)
    if form.is_valid():
        data = form.cleaned_data
        try:
            done = approvals.adjustment_submit(
                member=member,
                points=data["points"],
                reason=data["reason"],
                actor=_actor(request),
                idempotency_key=data["key"],
            )
        except LedgerError as error:
            _form_error(form, error)
        else:
            if isinstance(done, AdjustmentRequest):
                messages.info(
                    request,
                    _("An adjustment of %(points)s is above the shop's limit: it waits for the owner's approval.")
                    % {"points": units(data["points"], is_stamps)},
                )
            else:
                messages.success(request, _("Adjusted by %(points)s.") % {"points": units(data["points"], is_stamps)})
            return _back(member)
    return _member_page(request, member, adjust_form=form)


@require_http_methods(["GET", "POST"])
@manager_required
def purchase_refund(request: MerchantRequest, pk: int, purchase_pk: int) -> HttpResponse:
    member = _member(request, pk)
    purchases = Purchase.objects.for_merchant(request.merchant).filter(account__member=member)
    purchase = get_object_or_404(purchases.select_related("location"), pk=purchase_pk)
    form = RefundForm(request.POST or None, initial={"amount": plain_decimal(purchase.refundable)})
    if form.is_valid():
        data = form.cleaned_data
        try:
            refund = ledger.purchase_refund(
                purchase=purchase,
                amount=data["amount"],
                reason=data["reason"],
                actor=_actor(request),
                idempotency_key=data["key"],
            )
        except LedgerError as error:
            _form_error(form, error)
        else:
            messages.success(request, _refund_message(request, refund))
            return _back(member)
    context = {"member": member, "purchase": purchase, "form": form, "program": ledger.program_for(request.merchant)}
    return render(request, "rewards/purchase_refund.html", context)


def _refund_message(request: MerchantRequest, refund: Refund) -> str:
    is_stamps = ledger.program_for(request.merchant).is_stamps
    text = _("Refund of %(amount)s recorded; %(points)s taken back.") % {
        "amount": _money(request, refund.amount),
        "points": units(refund.points, is_stamps),
    }
    if refund.shortfall:
        text += " " + _("%(points)s had already been spent: see the refund shortfalls report.") % {
            "points": units(refund.shortfall, is_stamps)
        }
    return text


# ---------------------------------------------------------------------------------------------
# Reports


@require_GET
@manager_required
def refund_shortfalls(request: MerchantRequest) -> HttpResponse:
    refunds = selectors.refund_shortfalls(merchant=request.merchant)
    page = Paginator(refunds, 50).get_page(request.GET.get("page"))
    return render(
        request, "rewards/refund_shortfalls.html", {"page": page, "program": ledger.program_for(request.merchant)}
    )


# ---------------------------------------------------------------------------------------------
# Retention: the shop settings page (merchants) asks, as the owner types, whom it would erase now


@require_GET
@owner_required
def retention_preview(request: MerchantRequest) -> HttpResponse:
    """HTMX: how many members "erase members inactive for N years" would erase tonight. Reads only."""
    raw = request.GET.get("erase_inactive_years", "").strip()
    years = int(raw) if raw.isdigit() and 1 <= int(raw) <= 50 else None
    count = privacy.members_inactive(merchant=request.merchant, years=years).count() if years else None
    context = {"years": years, "count": count, "invalid": bool(raw) and years is None}
    return render(request, "rewards/retention_preview.html", context)


# ---------------------------------------------------------------------------------------------
# Adjustments waiting for the owner's approval


@require_GET
@owner_required
def approval_list(request: MerchantRequest) -> HttpResponse:
    pending = selectors.adjustment_requests(merchant=request.merchant, status=RequestStatus.PENDING)
    decided = selectors.adjustment_requests(merchant=request.merchant).exclude(status=RequestStatus.PENDING)
    context = {
        "pending": pending,
        "page": Paginator(decided, 25).get_page(request.GET.get("page")),
        "program": ledger.program_for(request.merchant),
    }
    return render(request, "rewards/approval_list.html", context)


@require_POST
@owner_required
def approval_decide(request: MerchantRequest, pk: int, decision: str) -> HttpResponse:
    """Approve or decline; a request already decided (a double click, another owner) stays as it was."""
    adjustment = get_object_or_404(AdjustmentRequest.objects.for_merchant(request.merchant), pk=pk)
    decide = approvals.adjustment_approve if decision == "approve" else approvals.adjustment_decline
    wanted = RequestStatus.APPROVED if decision == "approve" else RequestStatus.DECLINED
    try:
        done = decide(request=adjustment, actor=_actor(request))
    except LedgerError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if adjustment.status != RequestStatus.PENDING or done.status != wanted:
            messages.info(
                request, _("This request was already decided: %(status)s.") % {"status": done.get_status_display()}
            )
        elif done.status == RequestStatus.APPROVED:
            messages.success(
                request,
                _("Approved: %(points)s points for %(name)s.")
                % {"points": ("+" if done.points > 0 else "") + number_text(done.points), "name": done.member},
            )
        else:
            messages.success(request, _("Declined: %(name)s's points did not change.") % {"name": done.member})
    return redirect("rewards:approvals")
