"""Sets request.merchant and request.staff for signed-in staff, and the shop's time zone."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Staff

SESSION_KEY = "merchant_id"


class MerchantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.merchant = None
        request.staff = None
        request.memberships = []
        if request.user.is_authenticated:
            # One small query: the shops this person works for. The session picks the current one.
            memberships = list(
                Staff.objects.filter(user=request.user, is_active=True)
                .select_related("merchant")
                .order_by("merchant__name", "merchant_id")
            )
            chosen = request.session.get(SESSION_KEY)
            staff = next((s for s in memberships if s.merchant_id == chosen), memberships[0] if memberships else None)
            request.memberships = memberships
            if staff is not None:
                request.staff = staff
                request.merchant = staff.merchant
                timezone.activate(staff.merchant.tzinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
