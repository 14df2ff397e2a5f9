"""Role checks for views: who may open which page."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails

from .models import Merchant, Role, Staff


class MerchantRequest(HttpRequest):
    """What MerchantMiddleware and HtmxMiddleware add, for type checkers."""

    htmx: HtmxDetails
    merchant: Merchant
    staff: Staff
    memberships: list[Staff]


View = Callable[..., HttpResponse]

ROLE_DENIED = {
    Role.OWNER: _("Only the shop's owner can open this page."),
    Role.MANAGER: _("Only the shop's owner and managers can open this page."),
    Role.CASHIER: _("You do not work for this shop."),
}


def staff_required(role: Role = Role.CASHIER) -> Callable[[View], View]:
    """Signed in, working for a shop, and holding at least `role` there.

    Someone signed in without a shop is sent to create one; a lower role gets a 403 page that
    says who may open it.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.staff is None:
                return redirect("merchants:merchant_create")
            if not request.staff.can(role):
                raise PermissionDenied(str(ROLE_DENIED[role]))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


owner_required = staff_required(Role.OWNER)
manager_required = staff_required(Role.MANAGER)
cashier_required = staff_required(Role.CASHIER)
