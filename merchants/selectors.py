"""Reads for shops and their people: accounts, the activity log, alerts."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from .models import Alert, AuditLog, Merchant, User


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def audit_object_types(*, merchant: Merchant) -> list[str]:
    """The kinds of object the shop's log names (the filter's choices)."""
    types = AuditLog.objects.for_merchant(merchant).values_list("object_type", flat=True)
    return sorted(set(types.order_by().distinct()))


def audit_search(
    *,
    merchant: Merchant,
    actor: User | None = None,
    action: str = "",
    object_type: str = "",
    start: date | None = None,
    end: date | None = None,
    q: str = "",
) -> QuerySet[AuditLog]:
    """The shop's activity log, newest first, narrowed by whichever filters are given.

    Days are the shop's: `end` includes the whole of its last day. `q` finds the object by its
    name as the log recorded it, or by its id.
    """
    entries = AuditLog.objects.for_merchant(merchant).select_related("actor")
    if actor is not None:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if start:
        entries = entries.filter(created_at__gte=datetime.combine(start, time.min, tzinfo=merchant.tzinfo))
    if end:
        entries = entries.filter(
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=merchant.tzinfo)
        )
    if q := q.strip():
        entries = entries.filter(Q(object_repr__icontains=q) | Q(object_id=q))
    return entries


def alerts_for(*, merchant: Merchant, reviewed: bool | None = None) -> QuerySet[Alert]:
    """The shop's alerts, newest day first; only open ones (reviewed=False) or only reviewed ones."""
    alerts = Alert.objects.for_merchant(merchant).select_related("reviewed_by")
    if reviewed is not None:
        alerts = alerts.filter(reviewed_at__isnull=not reviewed)
    return alerts
