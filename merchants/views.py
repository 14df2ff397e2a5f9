"""The owner's console shell: sign-up, shop details, locations, staff, invitations, audit log."""

import copy

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import locales, periods, selectors, services
from .forms import (
    AcceptInvitationForm,
    AuditFilterForm,
    InvitationForm,
    LocationForm,
    MerchantForm,
    MerchantSettingsForm,
    SignupForm,
    StaffForm,
)
from .middleware import SESSION_KEY
from .models import Alert, Invitation, Location, Merchant, Role, Staff
from .permissions import MerchantRequest, cashier_required, manager_required, owner_required


def _form_error(form, error: ValidationError | PermissionDenied) -> None:
    """A service refused: show its reason on the form, in words."""
    form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("merchants:home")
    form = SignupForm(request.POST or None)
    if form.is_valid():
        try:
            user = services.user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            _form_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("merchants:merchant_create")
    return render(request, "merchants/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def merchant_create(request: HttpRequest) -> HttpResponse:
    form = MerchantForm(request.POST or None, initial=locales.country_defaults("") | {"language": _lang(request)})
    if form.is_valid():
        merchant = services.merchant_create(owner=request.user, **form.cleaned_data)
        request.session[SESSION_KEY] = merchant.pk
        messages.success(request, _("Welcome! %(shop)s is ready.") % {"shop": merchant.name})
        return redirect("merchants:home")
    return render(request, "merchants/merchant_create.html", {"form": form})


def _lang(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", "en")


@require_GET
def country_defaults(request: HttpRequest) -> HttpResponse:
    """HTMX: picking a country fills in its usual currency, time zone and language."""
    defaults = locales.country_defaults(request.GET.get("country", ""))
    form = MerchantForm(initial={k: v for k, v in defaults.items() if v})
    return render(request, "components/_merchant_form.html#shop-defaults", {"form": form})


@require_GET
@cashier_required
def home(request: MerchantRequest) -> HttpResponse:
    """The dashboard for owners and managers (each card loads itself from the app that owns its
    numbers, with this page's period and location), the counter's door for cashiers."""
    merchant = request.merchant
    context = {
        "location_count": Location.objects.for_merchant(merchant).filter(is_active=True).count(),
        "staff_count": Staff.objects.for_merchant(merchant).filter(is_active=True).count(),
    }
    if request.staff.can(Role.MANAGER):
        window = periods.window_from(request.GET, merchant)
        form = periods.PeriodForm(request.GET or None, merchant=merchant)
        form.is_valid()  # shows what was wrong; the cards fall back to the last 30 days
        context.update(period_form=form, window=window, query=periods.window_query(window))
    return render(request, "merchants/home.html", context)


@require_http_methods(["GET", "POST"])
@owner_required
def merchant_settings(request: MerchantRequest) -> HttpResponse:
    merchant = get_object_or_404(Merchant, pk=request.merchant.pk)  # a copy the form may change
    form = MerchantSettingsForm(request.POST or None, instance=merchant)
    if form.is_valid():
        services.merchant_update(merchant=request.merchant, by=request.staff, **form.cleaned_data)
        messages.success(request, _("Shop details saved."))
        return redirect("merchants:settings")
    return render(request, "merchants/merchant_settings.html", {"form": form})


@require_POST
@login_required
def merchant_switch(request: HttpRequest) -> HttpResponse:
    merchant_id = request.POST.get("merchant", "")
    if not merchant_id.isdigit():
        raise Http404  # not an id at all: a 404 like any shop this person does not work in, not a 500
    staff = get_object_or_404(Staff, user=request.user, is_active=True, merchant_id=merchant_id)
    request.session[SESSION_KEY] = staff.merchant_id
    messages.info(request, _("You are now working in %(shop)s.") % {"shop": staff.merchant.name})
    return redirect("merchants:home")


@require_GET
@manager_required
def location_list(request: MerchantRequest) -> HttpResponse:
    locations = Location.objects.for_merchant(request.merchant)
    return render(request, "merchants/location_list.html", {"locations": locations})


@require_http_methods(["GET", "POST"])
@manager_required
def location_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    location = (
        get_object_or_404(Location.objects.for_merchant(request.merchant), pk=pk)
        if pk
        else Location(merchant=request.merchant)
    )
    # The form gets a copy: validating writes the posted values into its instance, and the
    # service must see the stored ones to know what changed.
    form = LocationForm(request.POST or None, instance=copy.copy(location))
    if form.is_valid():
        try:
            if pk:
                services.location_update(location=location, by=request.staff, **form.cleaned_data)
            else:
                services.location_create(merchant=request.merchant, by=request.staff, **_without(form, "is_active"))
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Location “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("merchants:locations")
    return render(request, "merchants/location_edit.html", {"form": form, "location": location})


def _without(form, *names: str) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k not in names}


@require_GET
@manager_required
def staff_list(request: MerchantRequest) -> HttpResponse:
    context = {
        "staff_list": Staff.objects.for_merchant(request.merchant).select_related("user"),
        "invitations": [
            i for i in Invitation.objects.for_merchant(request.merchant).select_related("invited_by") if i.is_pending
        ],
        "assignable": services.staff_assignable_roles(by=request.staff),
    }
    return render(request, "merchants/staff_list.html", context)


@require_http_methods(["GET", "POST"])
@manager_required
def staff_invite(request: MerchantRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None, roles=services.staff_assignable_roles(by=request.staff))
    if form.is_valid():
        try:
            invitation = services.invitation_create(merchant=request.merchant, by=request.staff, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("merchants:staff")
    return render(request, "merchants/staff_invite.html", {"form": form})


@require_http_methods(["GET", "POST"])
@manager_required
def staff_edit(request: MerchantRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(Staff.objects.for_merchant(request.merchant).select_related("user"), pk=pk)
    roles = services.staff_assignable_roles(by=request.staff)
    if staff.role_enum not in roles:
        raise PermissionDenied(_("Only the owner can change managers and owners."))
    form = StaffForm(request.POST or None, roles=roles, initial={"role": staff.role, "is_active": staff.is_active})
    if form.is_valid():
        try:
            services.staff_update(staff=staff, by=request.staff, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": staff.user})
            return redirect("merchants:staff")
    return render(request, "merchants/staff_edit.html", {"form": form, "member": staff})


@require_POST
@manager_required
def invitation_action(request: MerchantRequest, pk: int, action: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.for_merchant(request.merchant), pk=pk)
    try:
        if action == "resend":
            services.invitation_resend(invitation=invitation, by=request.staff)
            messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": invitation.email})
        else:
            services.invitation_revoke(invitation=invitation, by=request.staff)
            messages.success(request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("merchants:staff")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email. Works once; says plainly why when it cannot."""
    try:
        invitation = services.invitation_check(token=token)
    except services.InvitationInvalid as error:
        return render(request, "merchants/invitation_invalid.html", {"reason": error.messages[0]}, status=410)
    signed_in = request.user.is_authenticated
    form = (
        None
        if signed_in
        else AcceptInvitationForm(request.POST or None, email=invitation.email, initial={"name": invitation.name})
    )
    context = {"invitation": invitation, "form": form, "has_account": selectors.user_exists(email=invitation.email)}
    if request.method == "POST" and (signed_in or form.is_valid()):
        try:
            staff = services.invitation_accept(
                token=token,
                user=request.user if signed_in else None,
                **(
                    {} if signed_in else {"password": form.cleaned_data["password1"], "name": form.cleaned_data["name"]}
                ),
            )
        except services.InvitationInvalid as error:
            context["error"] = error.messages[0]
        else:
            if not signed_in:
                login(request, staff.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = staff.merchant_id
            messages.success(request, _("Welcome to %(shop)s!") % {"shop": staff.merchant.name})
            return redirect("merchants:home")
    return render(request, "merchants/invitation_accept.html", context)


@require_GET
@owner_required
def audit_log(request: MerchantRequest) -> HttpResponse:
    """The activity log, filtered by who, what, which kind of object, when and the object's name."""
    types = selectors.audit_object_types(merchant=request.merchant)
    form = AuditFilterForm(request.GET or None, merchant=request.merchant, object_types=types)
    entries = selectors.audit_search(merchant=request.merchant, **(form.filters() if form.is_bound else {}))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    template = "merchants/audit_log.html"
    if request.htmx and not request.htmx.boosted:
        template += "#audit-rows"  # the filters swap only the results
    return render(request, template, {"page": page, "form": form})


@require_GET
@owner_required
def alert_list(request: MerchantRequest) -> HttpResponse:
    show_reviewed = request.GET.get("show") == "reviewed"
    alerts = selectors.alerts_for(merchant=request.merchant, reviewed=show_reviewed)
    page = Paginator(alerts, 25).get_page(request.GET.get("page"))
    return render(request, "merchants/alert_list.html", {"page": page, "show_reviewed": show_reviewed})


@require_POST
@owner_required
def alert_review(request: MerchantRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.for_merchant(request.merchant), pk=pk)
    services.alert_review(alert=alert, by=request.staff)
    messages.success(request, _("Alert marked reviewed."))
    return redirect("merchants:alerts")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
