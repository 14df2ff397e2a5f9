"""Template context for the console's navigation: what waits for the owner (alerts to review,
adjustments to approve), counted in one query, and only when a template shows it."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from merchants.models import Alert, Merchant, Role

from .models import AdjustmentRequest, RequestStatus


def _waiting(merchant_id: int) -> dict[str, int]:
    def count(queryset) -> Coalesce:
        counted = queryset.filter(merchant=OuterRef("pk")).order_by().values("merchant").annotate(n=Count("pk"))
        return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)

    return Merchant.objects.filter(pk=merchant_id).annotate(
        open_alerts=count(Alert.objects.filter(reviewed_at__isnull=True)),
        pending_approvals=count(AdjustmentRequest.objects.filter(status=RequestStatus.PENDING)),
    ).values("open_alerts", "pending_approvals").first() or {"open_alerts": 0, "pending_approvals": 0}


def owner_attention(request: HttpRequest) -> dict:
    staff = getattr(request, "staff", None)
    if staff is None or not staff.can(Role.OWNER):
        return {}
    waiting = SimpleLazyObject(lambda: _waiting(staff.merchant_id))
    return {
        "open_alerts": SimpleLazyObject(lambda: waiting["open_alerts"]),
        "pending_approvals": SimpleLazyObject(lambda: waiting["pending_approvals"]),
    }
