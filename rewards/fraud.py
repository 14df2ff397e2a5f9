"""Unusual patterns in a shop's recent activity, raised as alerts for its owner (merchants.Alert).

An hourly job (rewards.tasks.fraud_check_dispatch_task) runs fraud_check for every shop. Each
pattern is raised at most once per subject and shop-local day (merchants.services.alert_raise), so
the job can look at overlapping windows and run twice without a duplicate.

The thresholds below are deliberately loose: an alert asks the owner to look, it blocks nothing,
and a small shop's normal day (a few voids, a regular's two coffees) must not raise one.
"""

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from merchants.models import AlertPattern, Merchant, User
from merchants.services import alert_raise

from .ledger import local_midnight, local_today
from .models import Account, Purchase, Redemption, Refund

# Voids: vouchers voided (undone redemptions included) plus purchases refunded (undone purchases
# included) by one staff member in one shop-local day. More than this raises an alert: a busy
# counter makes a few mistakes a day; dozens suggest points given back and taken again.
VOIDS_PER_DAY = 10

# Bursts of earning on one card: more than BURST_PURCHASES purchases on one member within any
# BURST_MINUTES. A regular buys a couple of times a day; a card swiped again and again in minutes is
# someone earning on other customers' purchases.
BURST_PURCHASES = 5
BURST_MINUTES = 30

# One staff member's refunds over the last REFUNDS_WINDOW_DAYS, compared with the others who worked
# in that window (recorded a purchase or a refund): an alert when they made at least REFUNDS_MIN and
# more than REFUNDS_RATIO times the others' median. The minimum keeps a quiet week (2 refunds against
# the others' 0) from raising one; a shop with a single staff member has no one to compare with.
REFUNDS_WINDOW_DAYS = 7
REFUNDS_MIN = 5
REFUNDS_RATIO = 3


def fraud_check(*, merchant_id: int, now: datetime | None = None) -> int:
    """Look at the shop's recent activity and raise what is unusual. Returns the alerts newly raised."""
    merchant = Merchant.objects.get(pk=merchant_id)
    now = now or timezone.now()
    today = local_today(merchant, now)
    # Yesterday too: the last hour of a day is checked after its midnight.
    raised = sum(_voids(merchant, day) for day in (today - timedelta(days=1), today))
    raised += _bursts(merchant, now)
    raised += _refund_outliers(merchant, now, today)
    return raised


def _raise(
    merchant: Merchant, pattern: str, subject_type: str, subject_id: int, subject_repr: str, day: date, details: dict
) -> int:
    """1 when the alert is new, 0 when it was raised before for this subject and day."""
    alert = alert_raise(
        merchant_id=merchant.pk,
        pattern=pattern,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_repr=subject_repr,
        day=day,
        details=details,
    )
    return int(alert is not None)


def _names(user_ids: list[int]) -> dict[int, str]:
    return {user.pk: str(user) for user in User.objects.filter(pk__in=user_ids)}


def _voids(merchant: Merchant, day: date) -> int:
    start = local_midnight(merchant, day)
    end = local_midnight(merchant, day + timedelta(days=1))
    counts: Counter[int] = Counter()
    voided = Redemption.objects.for_merchant(merchant).filter(
        voided_at__gte=start, voided_at__lt=end, voided_by__isnull=False
    )
    counts.update(dict(voided.values_list("voided_by").annotate(n=Count("id")).order_by()))
    refunds = Refund.objects.for_merchant(merchant).filter(
        created_at__gte=start, created_at__lt=end, actor_user__isnull=False
    )
    counts.update(dict(refunds.values_list("actor_user").annotate(n=Count("id")).order_by()))
    over = {user_id: n for user_id, n in counts.items() if n > VOIDS_PER_DAY}
    names = _names(list(over))
    raised = 0
    for user_id, n in over.items():
        details = {"count": n, "limit": VOIDS_PER_DAY}
        raised += _raise(merchant, AlertPattern.VOIDS, "staff", user_id, names.get(user_id, ""), day, details)
    return raised


def _bursts(merchant: Merchant, now: datetime) -> int:
    """Purchases of the last day, card by card: the first window of BURST_MINUTES holding too many."""
    since = now - timedelta(days=1, minutes=BURST_MINUTES)
    recent = Purchase.objects.for_merchant(merchant).filter(created_at__gte=since)
    # Only cards with enough purchases to make a burst are read purchase by purchase.
    busy = recent.values("account").annotate(n=Count("id")).filter(n__gt=BURST_PURCHASES).values("account")
    times: dict[int, list[datetime]] = defaultdict(list)
    for account_id, at in (
        recent.filter(account__in=busy).order_by("account", "created_at").values_list("account", "created_at")
    ):
        times[account_id].append(at)
    window = timedelta(minutes=BURST_MINUTES)
    found: dict[int, tuple[int, datetime]] = {}
    for account_id, stamps in times.items():
        end = 0
        for start, first in enumerate(stamps):
            end = max(end, start)
            while end + 1 < len(stamps) and stamps[end + 1] - first <= window:
                end += 1
            if end - start + 1 > BURST_PURCHASES:
                found[account_id] = (end - start + 1, first)
                break
    if not found:
        return 0
    accounts = Account.objects.for_merchant(merchant).filter(pk__in=found).select_related("member")
    raised = 0
    for account in accounts:
        count, first = found[account.pk]
        day, details = local_today(merchant, first), {"count": count, "minutes": BURST_MINUTES}
        card = account.member.card_number  # not the name: alerts outlive a member's erasure
        raised += _raise(merchant, AlertPattern.EARN_BURST, "member", account.member_id, card, day, details)
    return raised


def _refund_outliers(merchant: Merchant, now: datetime, today: date) -> int:
    since = now - timedelta(days=REFUNDS_WINDOW_DAYS)
    refunds = dict(
        Refund.objects.for_merchant(merchant)
        .filter(created_at__gte=since, actor_user__isnull=False)
        .values_list("actor_user")
        .annotate(n=Count("id"))
        .order_by()
    )
    suspects = [user_id for user_id, n in refunds.items() if n >= REFUNDS_MIN]
    if not suspects:
        return 0
    selling = Purchase.objects.for_merchant(merchant).filter(created_at__gte=since, actor_user__isnull=False)
    workers = set(refunds) | set(selling.values_list("actor_user", flat=True).distinct().order_by())
    names = _names(suspects)
    raised = 0
    for user_id in suspects:
        others = [refunds.get(other, 0) for other in workers if other != user_id]
        if not others:
            continue  # no one to compare with
        median = statistics.median(others)
        if refunds[user_id] > REFUNDS_RATIO * median:
            details = {"count": refunds[user_id], "days": REFUNDS_WINDOW_DAYS, "median": _plain(median)}
            raised += _raise(merchant, AlertPattern.REFUNDS, "staff", user_id, names.get(user_id, ""), today, details)
    return raised


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)
