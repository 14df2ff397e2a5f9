"""Who a triggered campaign reaches today, and the day each member's moment belongs to.

The day is the outbox's occurrence: a member is welcomed once, wished a happy birthday once a
year, told they are missed once for each last purchase, reminded once for each batch of expiring
points, and so on. A job that runs every hour finds the same members again and writes nothing.
Days are the shop's days (its time zone); each finder returns (member id, occurrence, context),
where the context is what the message says beyond the member's own figures.
"""

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import DateField, DateTimeField, DecimalField, IntegerField, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from merchants.locales import date_text, number_text
from merchants.models import AuditLog
from merchants.periods import day_start
from rewards.ledger import add_months, program_for
from rewards.models import Account, ExpiryMode, Program, Reward, Tier, TierChange
from rewards.selectors import (
    accounts_moved_since,
    accounts_with_credits_expiring,
    points_expiring,
    points_moved_since,
)

from .models import Campaign, Trigger

Due = tuple[int, date, dict]

# The rule changes members hear about: what they earn, what they can have, and when points go.
TOLD_ACTIONS = ("program.update", "tier.create", "tier.update", "reward.create", "reward.update")
UNTOLD_FIELDS = {"max_purchase", "paid_tier_reminder_days", "is_active", "stock", "points_step"}


def due_members(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    finder = {
        Trigger.BIRTHDAY: _birthday,
        Trigger.WELCOME: _welcome,
        Trigger.LAPSED: _lapsed,
        Trigger.EXPIRING: _expiring,
        Trigger.REACH: _reach,
        Trigger.PROMOTION: _promotion,
        Trigger.FEEDBACK: _feedback,
        Trigger.RULES: _rules,
    }[campaign.trigger]
    return finder(campaign, members, today, now)


def _day_bounds(campaign: Campaign, day: date) -> tuple[datetime, datetime]:
    return day_start(campaign.merchant, day), day_start(campaign.merchant, day + timedelta(days=1))


def _birthday(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    # Members born on 29 February are wished on the 28th when the year has no 29th.
    days = [today.day] + ([29] if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year) else [])
    chosen = members.filter(birthday__month=today.month, birthday__day__in=days)
    return [(pk, today, {}) for pk in chosen.values_list("pk", flat=True)]


def _welcome(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    day = today - timedelta(days=campaign.trigger_days)
    start, end = _day_bounds(campaign, day)
    return [
        (pk, day, {}) for pk in members.filter(joined_at__gte=start, joined_at__lt=end).values_list("pk", flat=True)
    ]


def _lapsed(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    day = today - timedelta(days=campaign.trigger_days)
    start, end = _day_bounds(campaign, day)
    chosen = members.filter(account__last_purchase_at__gte=start, account__last_purchase_at__lt=end)
    return [(pk, day, {}) for pk in chosen.values_list("pk", flat=True)]


def _expiring(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    """Members whose points expire on the day N days from now: the occurrence is that day, so each
    batch of expiring points is told once, with the points left of it after what they spent."""
    program = program_for(campaign.merchant)
    day = today + timedelta(days=campaign.trigger_days)
    if program.expiry_mode == ExpiryMode.AFTER_INACTIVITY:
        return _expiring_idle(campaign, program, members, day)
    if program.expiry_mode != ExpiryMode.AFTER_EARNING:
        return []
    start, end = _day_bounds(campaign, day)
    credits = accounts_with_credits_expiring(merchant=campaign.merchant, start=max(start, now), end=end)
    chosen = members.filter(account__balance__gt=0, account__pk__in=credits)
    due = []
    for account in Account.objects.filter(member__in=chosen).select_related("merchant"):
        points = sum(
            batch.points for batch in points_expiring(account=account, now=now) if start <= batch.expires_at < end
        )
        if points:
            due.append((account.member_id, day, {"expiring_points": points, "expiry_date": day.isoformat()}))
    return due


def _expiring_idle(campaign: Campaign, program: Program, members: QuerySet[Member], day: date) -> list[Due]:
    """Points that go after months without a visit: members whose last visit makes `day` their last."""
    visited = add_months(day, -program.expiry_months)
    start, end = _day_bounds(campaign, visited)
    chosen = members.filter(
        account__balance__gt=0, account__last_activity_at__gte=start, account__last_activity_at__lt=end
    )
    return [
        (pk, day, {"expiring_points": balance, "expiry_date": day.isoformat()})
        for pk, balance in chosen.values_list("pk", "account__balance")
    ]


def _reach(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    """Members whose balance passed a reward's cost yesterday or today: the occurrence is the day it
    happened, so one reward newly in reach is told once (and the next, dearer one again later)."""
    costs = sorted(
        set(
            Reward.objects.for_merchant(campaign.merchant)
            .filter(is_active=True)
            .exclude(valid_until__lt=today)
            .values_list("points_cost", "name")
        )
    )
    if not costs:
        return []
    yesterday = today - timedelta(days=1)
    since, midnight = day_start(campaign.merchant, yesterday), day_start(campaign.merchant, today)
    chosen = members.filter(account__pk__in=accounts_moved_since(merchant=campaign.merchant, since=since))
    by_account = {
        account: (pk, balance) for pk, account, balance in chosen.values_list("pk", "account__pk", "account__balance")
    }
    if not by_account:
        return []
    ids = list(by_account)
    since_yesterday = points_moved_since(merchant=campaign.merchant, since=since, account_ids=ids)
    since_midnight = points_moved_since(merchant=campaign.merchant, since=midnight, account_ids=ids)
    due = []
    for account, (pk, balance) in by_account.items():
        at_midnight = balance - since_midnight.get(account, 0)
        before = balance - since_yesterday.get(account, 0)
        for day, low, high in ((yesterday, before, at_midnight), (today, at_midnight, balance)):
            if reached := [name for cost, name in costs if low < cost <= high]:
                due.append((pk, day, {"reward": reached[-1]}))
                break
    return due


def _promotion(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    day = today - timedelta(days=campaign.trigger_days)
    start, end = _day_bounds(campaign, day)
    ranks = dict(Tier.objects.for_merchant(campaign.merchant).values_list("pk", "threshold"))
    moves = TierChange.objects.for_merchant(campaign.merchant).filter(created_at__gte=start, created_at__lt=end)
    up = {
        account
        for account, old, new in moves.values_list("account_id", "from_tier_id", "to_tier_id")
        if new is not None and (old is None or ranks.get(new, 0) > ranks.get(old, 0))
    }
    chosen = members.filter(account__pk__in=up)
    return [(pk, day, {}) for pk in chosen.values_list("pk", flat=True)]


def _feedback(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    """Members who bought on the day N days ago: asked once for that day, however often they came."""
    day = today - timedelta(days=campaign.trigger_days)
    start, end = _day_bounds(campaign, day)
    chosen = members.filter(account__purchases__created_at__gte=start, account__purchases__created_at__lt=end)
    return [(pk, day, {}) for pk in chosen.distinct().values_list("pk", flat=True)]


def program_changes(campaign: Campaign, until: datetime) -> list[AuditLog]:
    """The owner's changes to the rules since the last ones this campaign told (or since it was
    switched on), up to `until`."""
    since = campaign.rules_told_at or campaign.started_at or campaign.created_at
    return list(
        AuditLog.objects.for_merchant(campaign.merchant)
        .filter(action__in=TOLD_ACTIONS, created_at__gt=since, created_at__lte=until)
        .order_by("created_at", "pk")
    )


def _rules(campaign: Campaign, members: QuerySet[Member], today: date, now: datetime) -> list[Due]:
    """Yesterday's and earlier changes to the program, told together the next day: an owner who
    edits several rules in one sitting sends members one message. The changes apply from the day
    they were saved."""
    changes = program_changes(campaign, day_start(campaign.merchant, today))
    told = [change_record(entry) for entry in changes]
    told = [record for record in told if record]
    if not told:
        return []
    first = timezone.localtime(changes[0].created_at, campaign.merchant.tzinfo).date()
    context = {"changes": told, "change_date": first.isoformat(), "told_through": changes[-1].created_at.isoformat()}
    return [(pk, today, context) for pk in members.values_list("pk", flat=True)]


def change_record(entry: AuditLog) -> list | None:
    """An audit line as the plain record a message keeps: [model, object, [[field, before, after], ...]]."""
    model = entry.action.split(".")[0]
    fields = [[name, (entry.before or {}).get(name), value] for name, value in (entry.after or {}).items()]
    fields = [item for item in fields if item[0] not in UNTOLD_FIELDS]
    if not fields:
        return None
    return [model, "" if model == "program" else entry.object_repr, fields, entry.action.endswith(".create")]


def _value(model_class, name: str, value) -> str:
    if value is None or value == "":
        return "-"
    field = model_class._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    # The audit keeps numbers and days as plain JSON (a Decimal as text, a date in ISO); members read them in their language.
    if isinstance(field, DateField) and not isinstance(field, DateTimeField) and isinstance(value, str):
        return date_text(date.fromisoformat(value))
    if isinstance(field, IntegerField | DecimalField):
        try:
            return number_text(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return str(value)


def change_lines(records: list) -> list[str]:
    """The changes in words, in the active language (the member's, when a message is rendered)."""
    models = {"program": Program, "tier": Tier, "reward": Reward}
    lines = []
    for model, name, fields, created in records:
        model_class = models[model]
        if created:
            noun = {"tier": _("New tier"), "reward": _("New reward")}.get(model, "")
            lines.append(f"{noun}: {name}")
            continue
        for field_name, before, after in fields:
            label = str(model_class._meta.get_field(field_name).verbose_name)
            label = label[:1].upper() + label[1:]
            prefix = f"{name}: " if name else ""
            lines.append(
                f"{prefix}{label}: {_value(model_class, field_name, before)} → {_value(model_class, field_name, after)}"
            )
    return lines
