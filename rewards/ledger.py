"""The points ledger: the only module that writes PointsEntry rows and Account balances.

Every write is one transaction that first locks the member's account row, so concurrent writes
for one member queue up instead of racing on the balance. Invariants, tested on PostgreSQL:
  1. account.balance == sum(entries.points) at every commit;
  2. balance >= 0 (a CHECK constraint backs the service's own test);
  3. an idempotency key already used returns the first result; with another payload: a conflict;
  4. expiry takes the soonest-expiring credits first, never points already spent, and is idempotent;
  5. a refund takes back at most what its purchase earned.
"""

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member, random_code
from merchants import webhooks
from merchants.actors import Actor
from merchants.db import Blueprint, Column, insert_columns, insert_many, insert_statement
from merchants.locales import currency_decimals, moment_text, number_text
from merchants.models import Location, Merchant, Role, WebhookEvent
from merchants.services import audit_record

from .models import (
    Account,
    Boost,
    ExpiryMode,
    Kind,
    Program,
    Purchase,
    Redemption,
    Refund,
    Reward,
    RewardKind,
    Tier,
    TierChange,
    TierFee,
    VoucherStatus,
)
from .models import PointsEntry as Entry
from .templatetags.rewards_tags import money_format


class LedgerError(ValidationError):
    """A write the rules refuse; the message says why, in the user's language."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a different request."""


# ---------------------------------------------------------------------------------------------
# Helpers


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def local_today(merchant: Merchant, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), merchant.tzinfo).date()


def local_midnight(merchant: Merchant, day: date) -> datetime:
    """The start of `day` in the shop's time zone."""
    return datetime.combine(day, time.min, tzinfo=merchant.tzinfo)


def request_hash(**payload: Any) -> str:
    """A fingerprint of a write's inputs: a replayed key must come with the same request."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(model: type[models.Model], merchant_id: int, key: str | None, digest: str, field: str = "idempotency_key"):
    """The earlier result for this key, or None; a conflict if the key came with other inputs."""
    if not key:
        return None
    done = model.objects.filter(merchant_id=merchant_id, **{field: key}).first()
    if done is not None and done.request_hash != digest:
        raise IdempotencyConflict(
            _("This request key was already used for a different request."), code="idempotency_conflict"
        )
    return done


def money_check(merchant: Merchant, amount: Decimal, *, field: str = "amount", limit: Decimal | None = None) -> Decimal:
    """A positive amount with no more decimals than the shop's currency uses."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not amount.is_finite() or amount <= 0:
        raise LedgerError({field: _("Enter an amount above zero.")}, code="amount")
    places = currency_decimals(merchant.currency)
    if -amount.as_tuple().exponent > places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        message = (
            _("%(currency)s amounts have no decimals.")
            if places == 0
            else _("%(currency)s amounts have at most %(places)d decimals.")
        )
        raise LedgerError({field: message % {"currency": merchant.currency, "places": places}}, code="decimals")
    if limit is not None and amount > limit:
        raise LedgerError(
            {
                field: _("That is more than %(limit)s, the largest amount this shop accepts.")
                % {"limit": money_format(limit, merchant.currency, merchant.country)}
            },
            code="too_large",
        )
    # One spelling per amount ("10" and "10.00" are the same request), in the currency's places.
    return amount.quantize(Decimal(1).scaleb(-places))


def _actor_fields(actor: Actor) -> dict[str, Any]:
    return {"actor_kind": actor.kind, "actor_user": actor.user, "actor_label": actor.label[:120]}


def _require(actor: Actor, role: Role, merchant_id: int) -> None:
    if not actor.can(role, merchant_id):
        raise PermissionDenied(_("Your role in this shop does not allow this."))


def program_for(merchant: Merchant) -> Program:
    program = Program.objects.filter(merchant=merchant).select_related("merchant").first()
    if program is None:
        program, _created = Program.objects.get_or_create(merchant=merchant)
    program.merchant = merchant  # the caller's instance: no second fetch of the shop
    return program


RULES_TTL = 60  # seconds; saving the program or a tier clears it at once (rewards.handlers)


def rules_key(merchant_id: int) -> str:
    return f"rewards:rules:{merchant_id}"


def rules_for(merchant: Merchant) -> tuple[Program, list[Tier]]:
    """The program and tiers, from the cache: recording a purchase then costs no query per rule or tier."""
    cached = cache.get(rules_key(merchant.pk))
    if cached is None:
        cached = (program_for(merchant), list(Tier.objects.for_merchant(merchant)))
        cache.set(rules_key(merchant.pk), cached, RULES_TTL)
    program, tiers = cached
    program.merchant = merchant
    return program, tiers


def _lock(member: Member) -> Account:
    """The member's account, row-locked until the transaction ends (created on first use)."""
    account = Account.objects.select_for_update().filter(member=member).first()
    if account is None:
        account, _created = Account.objects.get_or_create(member=member, defaults={"merchant_id": member.merchant_id})
        account = Account.objects.select_for_update().get(pk=account.pk)
    account.member = member
    return account


def _lock_pair(member: Member, other: Member) -> tuple[Account, Account]:
    """Lock two accounts in primary-key order, so two writers never wait on each other in a circle."""
    for m in (member, other):
        Account.objects.get_or_create(member=m, defaults={"merchant_id": m.merchant_id})
    accounts = {
        a.member_id: a for a in Account.objects.select_for_update().filter(member__in=[member, other]).order_by("pk")
    }
    accounts[member.pk].member, accounts[other.pk].member = member, other
    return accounts[member.pk], accounts[other.pk]


def credit_expiry(program: Program, at: datetime) -> datetime | None:
    """When points credited at `at` expire under the rule in force now (later rule changes don't move it)."""
    if program.expiry_mode != ExpiryMode.AFTER_EARNING:
        return None
    merchant = program.merchant
    return local_midnight(merchant, add_months(local_today(merchant, at), program.expiry_months) + timedelta(days=1))


# Ledger lines are built by the thousand (imports, the expiry job): without Model.__init__'s per-field walk.
_ENTRIES = Blueprint(Entry)
_ACCOUNTS = Blueprint(Account)
_TIER_CHANGES = Blueprint(TierChange)
_PURCHASES = Blueprint(Purchase)


def _entry(account: Account, *, kind: str, points: int, actor: Actor, **fields: Any) -> Entry:
    """Apply `points` to the locked account in memory and build its ledger line (saved by the caller)."""
    account.balance += points
    if account.balance < 0:
        raise LedgerError(_("Not enough points."), code="balance")
    if points > 0 and kind in (Kind.EARN, Kind.BONUS, Kind.IMPORT):
        account.lifetime_earned += points
    return _ENTRIES.new(
        merchant_id=account.merchant_id,
        account=account,
        kind=kind,
        points=points,
        balance_after=account.balance,
        location=fields.pop("location", None) or actor.location,
        **_actor_fields(actor),
        **fields,
    )


def _rank(tier: Tier | None) -> Decimal:
    return Decimal(-1) if tier is None else tier.threshold


def _earned_tier(tiers: list[Tier], total: Decimal) -> Tier | None:
    qualified = [t for t in tiers if not t.is_paid and t.threshold <= total]
    return max(qualified, key=lambda t: t.threshold, default=None)


def _multiplier(account: Account, tiers: list[Tier], today: date) -> Decimal:
    """The best multiplier among the earned tier and a paid tier still paid for."""
    by_id = {t.pk: t for t in tiers}
    candidates = [by_id.get(account.tier_id)]
    if account.paid_tier_id and account.paid_until and account.paid_until >= today:
        candidates.append(by_id.get(account.paid_tier_id))
    return max((t.multiplier for t in candidates if t is not None), default=Decimal(1))


def _boost(account: Account, now: datetime) -> Decimal:
    """The best campaign multiplier running now; 1 without a query for the many with none."""
    if account.pk is None or account.boost_until is None or account.boost_until <= now:
        return Decimal(1)
    best = Boost.objects.filter(account=account, starts_at__lte=now, ends_at__gt=now).aggregate(
        m=models.Max("multiplier")
    )
    return best["m"] or Decimal(1)


def _round(value: Decimal, rounding: str) -> int:
    mode = {"down": ROUND_FLOOR, "up": ROUND_CEILING}.get(rounding, ROUND_HALF_UP)
    return int(value.quantize(Decimal(1), rounding=mode))


def _promote(account: Account, tiers: list[Tier], program: Program, today: date) -> TierChange | None:
    """Move up as soon as the rolling total qualifies; never down here (the review job does that)."""
    best = _earned_tier(tiers, account.qualifying_total)
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    if best is None or _rank(best) <= _rank(current):
        return None
    account.tier = best
    account.tier_until = add_months(today, program.tier_window_months)
    return TierChange(
        merchant_id=account.merchant_id, account=account, from_tier=current, to_tier=best, reason="earned"
    )


# ---------------------------------------------------------------------------------------------
# Webhooks: what the shop's own systems are told (merchants.webhooks; nothing for most shops)


def _tier_changed(change: TierChange) -> TierChange:
    """Save a tier change and tell the shop's systems, in the change's transaction."""
    change.save()
    webhooks.emit(
        merchant_id=change.merchant_id,
        event=WebhookEvent.TIER_CHANGED,
        data={
            "member": change.account.member_id,
            "from_tier": change.from_tier.name if change.from_tier else None,
            "to_tier": change.to_tier.name if change.to_tier else None,
            "reason": change.reason,
        },
    )
    return change


# ---------------------------------------------------------------------------------------------
# Purchases


@dataclass
class EarnPreview:
    points: int
    reason: str  # why the points are what they are, for the cashier


def purchase_preview(*, member: Member, amount: Decimal, program: Program | None = None) -> EarnPreview:
    """What recording this purchase would earn, without writing anything (the counter shows it)."""
    cached_program, tiers = rules_for(member.merchant)
    program = program or cached_program
    account = Account.objects.filter(member=member).first() or Account(member=member, merchant_id=member.merchant_id)
    today = local_today(member.merchant)
    points, reason = _earn_points(program, account, tiers, amount, today, timezone.now())
    return EarnPreview(points=points, reason=reason)


def _earn_points(
    program: Program, account: Account, tiers: list[Tier], amount: Decimal, today: date, now: datetime
) -> tuple[int, str]:
    if amount < program.min_purchase:
        return 0, _("Below the minimum purchase of %(min)s.") % {"min": program.min_purchase}
    earned_today = account.day_earned if account.day == today else 0
    if program.is_stamps:
        if program.one_stamp_per_day and earned_today:
            return 0, _("Already stamped today.")
        points, reason = 1, ""
    else:
        boost = _boost(account, now)
        multiplier = _multiplier(account, tiers, today) * boost
        points = _round(amount * program.points_per_unit * multiplier, program.rounding)
        reason = (
            _("Points times %(boost)s: an offer running now.") % {"boost": f"{boost.normalize():f}"}
            if boost > 1
            else ""
        )
    if program.daily_cap is not None and points > program.daily_cap - earned_today:
        points = max(program.daily_cap - earned_today, 0)
        reason = _("Daily limit of %(cap)s reached.") % {"cap": number_text(program.daily_cap)}
    return points, reason


def _purchase_counted(
    account: Account, program: Program, tiers: list[Tier], amount: Decimal, points: int, today: date, now: datetime
) -> TierChange | None:
    """A purchase's counts on the account (the day's points, visits, spend, the tier's total), and
    the promotion it earns, if any: the same for purchase_record and purchase_record_quick."""
    if account.day != today:
        account.day, account.day_earned = today, 0
    account.day_earned += points
    account.purchase_count += 1
    account.lifetime_spend += amount
    account.qualifying_total += amount if program.tier_basis == "spend" else points
    account.last_activity_at = account.last_purchase_at = now
    return _promote(account, tiers, program, today)


# What a purchase changes on the account, written by purchase_record and purchase_record_quick.
PURCHASE_ACCOUNT_FIELDS = [
    "balance", "lifetime_earned", "lifetime_spend", "purchase_count", "qualifying_total", "tier", "tier_until",
    "day", "day_earned", "last_activity_at", "last_purchase_at",
]  # fmt: skip


@transaction.atomic
def purchase_record(
    *,
    member: Member,
    amount: Decimal,
    actor: Actor,
    receipt: str = "",
    location: Location | None = None,
    idempotency_key: str | None = None,
) -> Purchase:
    """Record a purchase and credit what it earns: one lock, two inserts, one update."""
    merchant = member.merchant
    program, tiers = rules_for(merchant)
    amount = money_check(merchant, amount, limit=program.max_purchase)
    location = location or actor.location
    digest = request_hash(member=member.pk, amount=amount, receipt=receipt)
    # The referrer's account is locked too, but only for a referred member's first purchase: an
    # unlocked read is enough to rule it out, since a purchase count never goes back to zero.
    first = (
        program.referral_bonus
        and member.referred_by_id
        and not (Account.objects.filter(member=member, purchase_count__gt=0).exists())
    )
    if first:
        account, referrer_account = _lock_pair(member, member.referred_by)
    else:
        account, referrer_account = _lock(member), None
    if done := _replay(Purchase, merchant.pk, idempotency_key, digest):
        return done
    now = timezone.now()
    today = local_today(merchant, now)
    points, _why = _earn_points(program, account, tiers, amount, today, now)
    first_purchase = account.purchase_count == 0
    purchase = Purchase.objects.create(
        merchant=merchant,
        account=account,
        amount=amount,
        points=points,
        receipt=receipt,
        location=location,
        idempotency_key=idempotency_key,
        request_hash=digest,
        created_at=now,
        **_actor_fields(actor),
    )
    entries = []
    if points:
        reason = receipt and _("Receipt %(receipt)s") % {"receipt": receipt}
        entries.append(
            _entry(
                account,
                kind=Kind.EARN,
                points=points,
                actor=actor,
                purchase=purchase,
                reason=reason,
                location=location,
                expires_at=credit_expiry(program, now),
                created_at=now,
            )
        )
    tier_change = _purchase_counted(account, program, tiers, amount, points, today, now)
    if referrer_account is not None and first_purchase:
        entries += _referral_bonus(program, account, referrer_account, actor, now)
    if program.is_stamps:
        _stamp_card_full(program, account, entries, actor, now)
    Entry.objects.bulk_create(entries)
    account.save(update_fields=PURCHASE_ACCOUNT_FIELDS)
    if tier_change:
        _tier_changed(tier_change)
    webhooks.emit(
        merchant_id=merchant.pk,
        event=WebhookEvent.PURCHASE_RECORDED,
        data={
            "id": purchase.pk, "member": member.pk, "amount": amount, "points": points, "receipt": receipt,
            "location": location.pk if location else None, "balance": account.balance, "created_at": now,
        },
    )  # fmt: skip
    return purchase


def purchase_record_quick(
    *,
    merchant: Merchant,
    member_id: int,
    amount: Decimal,
    actor: Actor,
    receipt: str = "",
    location_id: int | None = None,
    only_if: tuple[str, list] | None = None,
    also: Callable[[Purchase, str], tuple[str, list]] | None = None,
) -> Purchase | None:
    """purchase_record's common case in two statements and no lock, for the API's hot path
    (rewards.api.hot), where every round trip to the database counts.

    The first reads the member's account, checking the member (this shop's, not erased) and the
    location, and takes the purchase's id. The rules are then applied by the same helpers
    purchase_record uses (_earn_points, _promote, credit_expiry, _entry). The second statement
    writes the purchase, its ledger line, the account and any tier promotion together, on one
    condition: the account is still as it was read (compare and set, where purchase_record locks
    the row first). If another write came in between, nothing is written and this returns None, as
    it does for all
    it leaves to purchase_record: a stamp card, a referred member's first purchase, a shop with
    webhooks for purchases (or for tier changes, when the purchase promotes), an amount the shop refuses, an unknown member or
    location, a member with no account yet. The caller then calls purchase_record.

    `only_if` is a condition the first statement also checks (the API: its key is still valid);
    `also` adds one more INSERT to the second, made from the purchase (the API's idempotency
    record) with merchants.db.insert_statement(row, after=<the name it is given>), so that it is
    written only with the purchase. Runs in autocommit, each statement its own
    transaction; PostgreSQL only (elsewhere it returns None).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    program, tiers = rules_for(merchant)
    if program.is_stamps or webhooks.subscribed(merchant.pk, WebhookEvent.PURCHASE_RECORDED):
        return None
    try:
        amount = money_check(merchant, amount, limit=program.max_purchase)
    except LedgerError:
        return None
    location_id = location_id or (actor.location.pk if actor.location else None)
    condition, condition_params = only_if or ("TRUE", [])
    with connection.cursor() as cursor:
        cursor.execute(
            _QUICK.read.replace("{only_if}", condition),
            [location_id, merchant.pk, member_id, merchant.pk, *condition_params],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        *values, referred_by_id, purchase_id, found_location_id = row
        account = Account.from_db(connection.alias, _QUICK.attnames, values)
        if location_id is not None and found_location_id is None:
            return None
        if program.referral_bonus and referred_by_id and account.purchase_count == 0:
            return None
        before = [getattr(account, f.attname) for f in _QUICK.compared]
        now = timezone.now()
        today = local_today(merchant, now)
        points, _why = _earn_points(program, account, tiers, amount, today, now)
        change = _purchase_counted(account, program, tiers, amount, points, today, now)
        if change is not None and webhooks.subscribed(merchant.pk, WebhookEvent.TIER_CHANGED):
            return None
        location = Location(pk=location_id, merchant_id=merchant.pk) if location_id else None
        purchase = _PURCHASES.new(
            id=purchase_id, merchant_id=merchant.pk, account=account, amount=amount, points=points, receipt=receipt,
            location=location, created_at=now, request_hash=request_hash(member=member_id, amount=amount, receipt=receipt),
            **_actor_fields(actor),
        )  # fmt: skip
        writes = [insert_statement(purchase, after="u")]
        if points:
            reason = receipt and _("Receipt %(receipt)s") % {"receipt": receipt}
            entry = _entry(
                account, kind=Kind.EARN, points=points, actor=actor, purchase=purchase, reason=reason,
                location=location, expires_at=credit_expiry(program, now), created_at=now,
            )  # fmt: skip
            writes.append(insert_statement(entry, after="u"))
        if change is not None:
            writes.append(insert_statement(change, after="u"))
        if also is not None:
            writes.append(also(purchase, "u"))
        after = [f.get_db_prep_save(getattr(account, f.attname), connection) for f in _QUICK.updated]
        same = [f.get_db_prep_save(value, connection) for f, value in zip(_QUICK.compared, before, strict=True)]
        params = [*after, account.pk, *same]
        params += [p for _sql, write_params in writes for p in write_params]
        ctes = "".join(f", w{n} AS ({sql})" for n, (sql, _params) in enumerate(writes))
        cursor.execute(f"WITH u AS ({_QUICK.update}){ctes} SELECT count(*) FROM u", params)  # noqa: S608 (statements built from the models, values as parameters)
        if cursor.fetchone()[0] != 1:
            return None  # the account changed since it was read: purchase_record takes it, locked
    purchase._state.adding, purchase._state.db = False, connection.alias
    return purchase


class _QuickStatements:
    """purchase_record_quick's statements, built once from the models."""

    def __init__(self) -> None:
        fields = Account._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.updated = [Account._meta.get_field(name) for name in PURCHASE_ACCOUNT_FIELDS]
        # What the rules read: the account is written only if none of it changed in between.
        read = ["balance", "lifetime_earned", "lifetime_spend", "purchase_count", "qualifying_total", "tier",
                "tier_until", "paid_tier", "paid_until", "day", "day_earned", "boost_until"]  # fmt: skip
        self.compared = [Account._meta.get_field(name) for name in read]
        self._fields = fields
        self._read = self._update = ""

    @property
    def read(self) -> str:
        if not self._read:
            columns = ", ".join(f"a.{connection.ops.quote_name(f.column)}" for f in self._fields)
            self._read = (
                f"SELECT {columns}, m.referred_by_id, nextval(pg_get_serial_sequence('rewards_purchase', 'id')), "  # noqa: S608 (column names from the model)
                "(SELECT l.id FROM merchants_location l WHERE l.id = %s AND l.merchant_id = %s) "
                "FROM rewards_account a JOIN members_member m ON m.id = a.member_id "
                "WHERE a.member_id = %s AND m.merchant_id = %s AND m.erased_at IS NULL AND ({only_if})"
            )
        return self._read

    @property
    def update(self) -> str:
        if not self._update:
            quote = connection.ops.quote_name
            sets = ", ".join(f"{quote(f.column)} = %s" for f in self.updated)
            same = " AND ".join(f"{quote(f.column)} IS NOT DISTINCT FROM %s" for f in self.compared)
            self._update = f"UPDATE rewards_account SET {sets} WHERE id = %s AND {same} RETURNING id"  # noqa: S608 (column names from the model)
        return self._update


_QUICK = _QuickStatements()


def _referral_bonus(program: Program, account: Account, referrer: Account, actor: Actor, now: datetime) -> list[Entry]:
    """Both sides of a referral earn the bonus at the new member's first purchase."""
    bonus, expires = program.referral_bonus, credit_expiry(program, now)
    member = account.member
    new_side = _entry(
        account,
        kind=Kind.BONUS,
        points=bonus,
        actor=actor,
        expires_at=expires,
        created_at=now,
        # Card numbers, not names: ledger lines are never rewritten, and erasure must leave no name behind.
        reason=_("Referral bonus: referred by card %(card)s") % {"card": referrer.member.card_number},
        idempotency_key=f"referral:{member.pk}:new",
    )
    old_side = _entry(
        referrer,
        kind=Kind.BONUS,
        points=bonus,
        actor=actor,
        expires_at=expires,
        created_at=now,
        reason=_("Referral bonus: card %(card)s joined") % {"card": member.card_number},
        idempotency_key=f"referral:{member.pk}:referrer",
    )
    referrer.save(update_fields=["balance", "lifetime_earned"])
    return [new_side, old_side]


def _stamp_card_full(program: Program, account: Account, entries: list[Entry], actor: Actor, now: datetime) -> None:
    """A full stamp card turns itself into its reward voucher."""
    reward = program.stamp_reward
    if reward is None or account.balance < program.stamps_per_card:
        return
    # The entries so far must exist before the redemption's debit line is ordered after them.
    Entry.objects.bulk_create(entries)
    entries.clear()
    redemption = _issue_voucher(program, account, reward, program.stamps_per_card, Decimal(0), actor, now, key=None)
    redemption.save()
    # A full card is owed its reward even when the shelf count says none are left.
    Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
    entries.append(
        _entry(
            account,
            kind=Kind.REDEEM,
            points=-program.stamps_per_card,
            actor=actor,
            redemption=redemption,
            reason=_("Full card: %(reward)s") % {"reward": reward.name},
            created_at=now,
        )
    )


# ---------------------------------------------------------------------------------------------
# Rewards and vouchers


# A voucher code is two groups of VOUCHER_GROUP characters from the read-aloud alphabet (members.models:
# 25 letters and digits, no look-alikes), drawn with `secrets`: 25**10, about 2**46.4 codes. Guessing
# one live code of a shop with 100,000 of them takes 25**10 / 100,000 = about 950 million tries; the
# API refuses more than VOUCHER_MISSES_PER_KEY_PER_HOUR wrong codes (60) per key and hour, so about
# 1,800 years per key (tests/rewards/test_voucher_codes.py works it out from the settings). Codes of
# two groups of 4, issued before, keep working (rewards.selectors.voucher_code_clean).
VOUCHER_GROUP = 5


def _voucher_code(merchant_id: int) -> str:
    for _attempt in range(10):
        code = f"{random_code(VOUCHER_GROUP)}-{random_code(VOUCHER_GROUP)}"
        if not Redemption.objects.filter(merchant_id=merchant_id, code=code).exists():
            return code
    raise RuntimeError("could not find a free voucher code")


def _issue_voucher(
    program: Program,
    account: Account,
    reward: Reward,
    points: int,
    discount: Decimal,
    actor: Actor,
    now: datetime,
    key: str | None,
    digest: str = "",
) -> Redemption:
    return Redemption(
        merchant_id=account.merchant_id,
        account=account,
        reward=reward,
        code=_voucher_code(account.merchant_id),
        points=points,
        discount=discount,
        expires_at=now + timedelta(days=program.voucher_days),
        location=actor.location,
        idempotency_key=key,
        request_hash=digest,
        created_at=now,
        **_actor_fields(actor),
    )


def reward_check(*, reward: Reward, account: Account, tiers: list[Tier], today: date) -> None:
    """Why this member cannot have this reward now, as a LedgerError; None when they can."""
    if not reward.is_active or (reward.valid_from and reward.valid_from > today):
        raise LedgerError(_("“%(reward)s” is not available now.") % {"reward": reward}, code="unavailable")
    if reward.valid_until and reward.valid_until < today:
        raise LedgerError(
            _("“%(reward)s” ended on %(date)s.") % {"reward": reward, "date": reward.valid_until}, code="unavailable"
        )
    if reward.stock is not None and reward.stock < 1:
        raise LedgerError(_("“%(reward)s” is out of stock.") % {"reward": reward}, code="stock")
    if reward.min_tier_id:
        by_id = {t.pk: t for t in tiers}
        needed = by_id.get(reward.min_tier_id)
        held = [by_id.get(account.tier_id)]
        if account.paid_tier_id and account.paid_until and account.paid_until >= today:
            held.append(by_id.get(account.paid_tier_id))
        if needed and not any(t and (t.pk == needed.pk or _rank(t) > _rank(needed)) for t in held):
            raise LedgerError(
                _("“%(reward)s” is for %(tier)s members and above.") % {"reward": reward, "tier": needed},
                code="tier",
            )


@transaction.atomic
def reward_redeem(
    *,
    member: Member,
    reward: Reward,
    actor: Actor,
    points: int | None = None,
    idempotency_key: str | None = None,
) -> Redemption:
    """Spend points on a reward: the member gets a voucher code to use at the counter."""
    merchant = member.merchant
    if reward.merchant_id != merchant.pk:
        raise PermissionDenied("reward and member belong to different shops")
    program = program_for(merchant)
    digest = request_hash(member=member.pk, reward=reward.pk, points=points)
    account = _lock(member)
    if done := _replay(Redemption, merchant.pk, idempotency_key, digest):
        return done
    now = timezone.now()
    today = local_today(merchant, now)
    reward = Reward.objects.select_for_update().get(pk=reward.pk)  # stock is counted under this lock
    reward_check(reward=reward, account=account, tiers=list(Tier.objects.for_merchant(merchant)), today=today)
    discount = Decimal(0)
    if reward.kind == RewardKind.PAY_WITH_POINTS:
        points = int(points or 0)
        if points < reward.points_cost or points % reward.points_step:
            raise LedgerError(
                {
                    "points": _("Use at least %(min)s points, in steps of %(step)s.")
                    % {"min": number_text(reward.points_cost), "step": number_text(reward.points_step)}
                },
                code="points_step",
            )
        places = Decimal(1).scaleb(-currency_decimals(merchant.currency))
        discount = (points * program.point_value).quantize(places, rounding=ROUND_FLOOR)
    else:
        points = reward.points_cost
    if points > account.balance:
        raise LedgerError(
            _("%(name)s has %(balance)s and needs %(points)s for “%(reward)s”.")
            % {
                "name": member,
                "balance": number_text(account.balance),
                "points": number_text(points),
                "reward": reward,
            },
            code="balance",
        )
    redemption = _issue_voucher(program, account, reward, points, discount, actor, now, idempotency_key, digest)
    redemption.save()
    _entry(
        account,
        kind=Kind.REDEEM,
        points=-points,
        actor=actor,
        redemption=redemption,
        created_at=now,
        reason=reward.name,
    ).save()
    account.last_activity_at = now
    account.save(update_fields=["balance", "last_activity_at"])
    if reward.stock is not None:
        Reward.objects.filter(pk=reward.pk).update(stock=F("stock") - 1)
    webhooks.emit(
        merchant_id=merchant.pk,
        event=WebhookEvent.REWARD_REDEEMED,
        data={
            "id": redemption.pk, "member": member.pk, "reward": reward.pk, "reward_name": reward.name,
            "code": redemption.code, "points": points, "discount": discount, "balance": account.balance,
            "expires_at": redemption.expires_at, "created_at": now,
        },
    )  # fmt: skip
    return redemption


@transaction.atomic
def voucher_use(*, redemption: Redemption, actor: Actor, idempotency_key: str | None = None) -> Redemption:
    """Mark a voucher used at the counter. Works once; a replay of the same request returns it."""
    voucher = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if idempotency_key and voucher.used_key == idempotency_key:
        return voucher
    if (
        idempotency_key
        and Redemption.objects.filter(merchant_id=voucher.merchant_id, used_key=idempotency_key).exists()
    ):
        raise IdempotencyConflict(
            _("This request key was already used for a different request."), code="idempotency_conflict"
        )
    if voucher.status == VoucherStatus.USED:
        # In the shop's time, whoever asks (an API call has no shop time zone activated).
        shop_tz = Merchant.objects.only("timezone").get(pk=voucher.merchant_id).tzinfo
        used = moment_text(timezone.localtime(voucher.used_at, shop_tz))
        raise LedgerError(
            _("Voucher %(code)s was already used on %(when)s.") % {"code": voucher.code, "when": used}, code="used"
        )
    if voucher.status == VoucherStatus.VOIDED:
        raise LedgerError(_("Voucher %(code)s was voided.") % {"code": voucher.code}, code="voided")
    if voucher.expires_at <= timezone.now():
        raise LedgerError(_("Voucher %(code)s has expired.") % {"code": voucher.code}, code="expired")
    voucher.status = VoucherStatus.USED
    voucher.used_at = timezone.now()
    voucher.used_by = actor.user
    voucher.used_key = idempotency_key
    try:
        with transaction.atomic():
            voucher.save(update_fields=["status", "used_at", "used_by", "used_key"])
    except IntegrityError as error:  # the same key used at this moment for another voucher
        raise IdempotencyConflict(
            _("This request key was already used for a different request."), code="idempotency_conflict"
        ) from error
    return voucher


@transaction.atomic
def voucher_void(*, redemption: Redemption, actor: Actor, reason: str = "") -> Redemption:
    """Cancel an unused voucher: its points go back to the member, its stock back to the shelf."""
    _require(actor, Role.MANAGER, redemption.merchant_id)
    return _void(redemption, actor, reason)


def _void(redemption: Redemption, actor: Actor, reason: str) -> Redemption:
    """voucher_void without the role check, for callers that checked their own rule (undo)."""
    member = Member.objects.get(pk=redemption.account.member_id)
    account = _lock(member)
    voucher = Redemption.objects.select_for_update().select_related("reward").get(pk=redemption.pk)
    if voucher.status == VoucherStatus.VOIDED:
        return voucher  # voiding twice is the same as voiding once
    if voucher.status == VoucherStatus.USED:
        raise LedgerError(
            _("Voucher %(code)s was already used and cannot be voided.") % {"code": voucher.code}, code="used"
        )
    now = timezone.now()
    voucher.status, voucher.voided_at, voucher.voided_by = VoucherStatus.VOIDED, now, actor.user
    voucher.save(update_fields=["status", "voided_at", "voided_by"])
    program = program_for(member.merchant)
    if voucher.points:  # a gift voucher cost no points: nothing to give back
        _entry(
            account,
            kind=Kind.REVERSAL,
            points=voucher.points,
            actor=actor,
            redemption=voucher,
            created_at=now,
            expires_at=credit_expiry(program, now),
            reason=(_("Voucher %(code)s voided") % {"code": voucher.code} + (f": {reason}" if reason else ""))[:200],
            idempotency_key=f"void:{voucher.pk}",
        ).save()
        account.save(update_fields=["balance"])
    if voucher.reward.stock is not None:
        Reward.objects.filter(pk=voucher.reward_id).update(stock=F("stock") + 1)
    return voucher


# ---------------------------------------------------------------------------------------------
# Refunds, adjustments, bonuses


@transaction.atomic
def purchase_refund(
    *, purchase: Purchase, amount: Decimal, actor: Actor, reason: str = "", idempotency_key: str | None = None
) -> Refund:
    """Take back the points a purchase earned, in proportion to the amount refunded.

    If the member already spent them, the balance stops at zero and the rest is the refund's shortfall.
    """
    merchant = Merchant.objects.get(pk=purchase.merchant_id)
    _require(actor, Role.MANAGER, merchant.pk)
    return _refund(merchant, purchase, amount, actor, reason, idempotency_key)


def _refund(
    merchant: Merchant,
    purchase: Purchase,
    amount: Decimal,
    actor: Actor,
    reason: str,
    idempotency_key: str | None,
    *,
    undo: bool = False,
) -> Refund:
    """purchase_refund without the role check, for callers that checked their own rule (undo)."""
    amount = money_check(merchant, amount)
    digest = request_hash(purchase=purchase.pk, amount=amount)
    member = Member.objects.select_related("merchant").get(pk=purchase.account.member_id)
    account = _lock(member)
    if done := _replay(Refund, merchant.pk, idempotency_key, digest):
        return done
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    if amount > purchase.refundable:
        raise LedgerError(
            {
                "amount": _("Only %(left)s of this purchase is left to refund.")
                % {"left": money_format(purchase.refundable, merchant.currency, merchant.country)}
            },
            code="refund_too_large",
        )
    refunded = purchase.refunded_amount + amount
    # Cumulative, so several partial refunds add up to exactly the points earned, never more.
    due = int((purchase.points * refunded / purchase.amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    due = min(due, purchase.points) - purchase.points_reversed
    taken = min(due, account.balance)
    now = timezone.now()
    refund = Refund.objects.create(
        merchant=merchant,
        purchase=purchase,
        amount=amount,
        points=taken,
        shortfall=due - taken,
        reason=reason,
        idempotency_key=idempotency_key,
        request_hash=digest,
        created_at=now,
        **_actor_fields(actor),
    )
    if taken:
        _entry(
            account,
            kind=Kind.REVERSAL,
            points=-taken,
            actor=actor,
            purchase=purchase,
            refund=refund,
            created_at=now,
            reason=(
                _("Refund of %(amount)s") % {"amount": money_format(amount, merchant.currency, merchant.country)}
                + (f": {reason}" if reason else "")
            )[:200],
        ).save()
    purchase.refunded_amount = refunded
    purchase.points_reversed += due
    purchase.save(update_fields=["refunded_amount", "points_reversed"])
    program = program_for(merchant)
    account.lifetime_spend -= amount
    account.qualifying_total = max(account.qualifying_total - (amount if program.tier_basis == "spend" else due), 0)
    if undo and account.day == local_today(merchant, purchase.created_at):
        # An undone purchase did not happen: it no longer counts toward today's cap or stamp.
        account.day_earned = max(account.day_earned - due, 0)
    account.save(update_fields=["balance", "lifetime_spend", "qualifying_total", "day_earned"])
    return refund


# ---------------------------------------------------------------------------------------------
# Undo at the counter: a mistake put right within minutes, by whoever made it (or a manager)


def undo_allowed(*, actor: Actor, merchant_id: int, done_by_id: int | None, done_at: datetime) -> bool:
    """A manager may undo any purchase or redemption; a cashier only their own, within UNDO_MINUTES."""
    if actor.can(Role.MANAGER, merchant_id):
        return True
    own = actor.user is not None and actor.user.pk == done_by_id and actor.can(Role.CASHIER, merchant_id)
    return own and timezone.now() - done_at <= timedelta(minutes=settings.UNDO_MINUTES)


def _require_undo(actor: Actor, merchant_id: int, done_by_id: int | None, done_at: datetime) -> None:
    if not undo_allowed(actor=actor, merchant_id=merchant_id, done_by_id=done_by_id, done_at=done_at):
        raise PermissionDenied(
            _("Only a manager can undo this: it was done by someone else or more than %(minutes)d minutes ago.")
            % {"minutes": settings.UNDO_MINUTES}
        )


@transaction.atomic
def purchase_undo(*, purchase: Purchase, actor: Actor) -> Refund:
    """Take back a purchase recorded by mistake: a full refund of what is left, "Undone at the counter".

    Undoing it again returns the first undo and changes nothing.
    """
    merchant = Merchant.objects.get(pk=purchase.merchant_id)
    _require_undo(actor, merchant.pk, purchase.actor_user_id, purchase.created_at)
    # Concurrent undos of this purchase queue on the account lock: the second then finds the first's refund.
    _lock(Member.objects.select_related("merchant").get(pk=purchase.account.member_id))
    key = f"undo:purchase:{purchase.pk}"  # the undo's refund carries it: the purchase is marked undone, once
    if done := Refund.objects.filter(merchant_id=merchant.pk, idempotency_key=key).first():
        return done
    left = Purchase.objects.only("amount", "refunded_amount").get(pk=purchase.pk).refundable
    if left <= 0:
        raise LedgerError(_("This purchase was already refunded."), code="refunded")
    return _refund(merchant, purchase, left, actor, _("Undone at the counter"), key, undo=True)


@transaction.atomic
def redemption_undo(*, redemption: Redemption, actor: Actor) -> Redemption:
    """Take back a reward redeemed by mistake: its unused voucher is voided and the points return.

    Undoing it again changes nothing (a voided voucher stays voided, its points came back once).
    """
    _require_undo(actor, redemption.merchant_id, redemption.actor_user_id, redemption.created_at)
    return _void(redemption, actor, _("Undone at the counter"))


def adjustment_needs_approval(*, program: Program, actor: Actor, merchant_id: int, points: int) -> bool:
    """Above the owner's limit (points added or taken away), anyone but an owner needs their approval.

    Equal to the limit is within it. API keys act as managers; scheduled jobs as the owner.
    """
    limit = program.adjustment_approval_above
    return limit is not None and abs(points) > limit and not actor.can(Role.OWNER, merchant_id)


@transaction.atomic
def points_adjust(
    *, member: Member, points: int, reason: str, actor: Actor, idempotency_key: str | None = None
) -> Entry:
    """A manager's correction, with a reason; written to the audit log too.

    One above the program's approval limit, by anyone but an owner, is refused here: it goes
    through rewards.approvals, which writes it by an owner's approval.
    """
    _require(actor, Role.MANAGER, member.merchant_id)
    program = program_for(member.merchant)
    if adjustment_needs_approval(program=program, actor=actor, merchant_id=member.merchant_id, points=points):
        raise LedgerError(
            _("An adjustment of more than %(limit)s points needs the owner's approval.")
            % {"limit": number_text(program.adjustment_approval_above)},
            code="approval_required",
        )
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError({"reason": _("Say why you adjust the points.")}, code="reason")
    if not points:
        raise LedgerError({"points": _("Enter a number of points other than zero.")}, code="points")
    digest = request_hash(member=member.pk, points=points, reason=reason)
    account = _lock(member)
    if done := _replay(Entry, member.merchant_id, idempotency_key, digest):
        return done
    if account.balance + points < 0:
        raise LedgerError(
            {
                "points": _("%(name)s has only %(balance)s points.")
                % {"name": member, "balance": number_text(account.balance)}
            },
            code="balance",
        )
    now = timezone.now()
    entry = _entry(
        account,
        kind=Kind.ADJUST,
        points=points,
        actor=actor,
        reason=reason[:200],
        created_at=now,
        expires_at=credit_expiry(program, now) if points > 0 else None,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    entry.save()
    account.save(update_fields=["balance", "lifetime_earned"])
    audit_record(
        merchant=member.merchant,
        actor=actor.user,
        action="points.adjust",
        obj=member,
        after={"points": points, "reason": reason, "balance": account.balance},
    )
    return entry


@transaction.atomic
def points_credit(
    *,
    member: Member,
    points: int,
    kind: str,
    reason: str,
    actor: Actor,
    idempotency_key: str,
    expires_at: datetime | None = None,
) -> Entry | None:
    """A bonus (welcome, birthday, campaign) or an imported opening balance, once per key.

    Returns the new entry, or None when nothing was written (no points, or the key was used).
    """
    if points <= 0:
        return None
    account = _lock(member)
    if Entry.objects.filter(merchant_id=member.merchant_id, idempotency_key=idempotency_key).exists():
        return None
    now = timezone.now()
    program = program_for(member.merchant)
    entry = _entry(
        account,
        kind=kind,
        points=points,
        actor=actor,
        reason=reason[:200],
        created_at=now,
        expires_at=expires_at or credit_expiry(program, now),
        idempotency_key=idempotency_key,
    )
    entry.save()
    account.save(update_fields=["balance", "lifetime_earned"])
    return entry


@transaction.atomic
def boost_give(
    *,
    member: Member,
    multiplier: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    idempotency_key: str,
) -> Boost:
    """A points multiplier for this member's purchases between two times (a campaign's offer), once per key."""
    account = _lock(member)
    boost, _created = Boost.objects.get_or_create(
        merchant_id=member.merchant_id,
        idempotency_key=idempotency_key,
        defaults={
            "account": account,
            "multiplier": multiplier,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": reason[:200],
        },
    )
    if account.boost_until is None or account.boost_until < boost.ends_at:
        account.boost_until = boost.ends_at
        account.save(update_fields=["boost_until"])
    return boost


@transaction.atomic
def voucher_gift(
    *, member: Member, reward: Reward, actor: Actor, expires_at: datetime, idempotency_key: str
) -> Redemption:
    """A voucher for a reward, free of points (a campaign's offer), once per key.

    The shop gives it, so the reward's availability and tier rules do not apply; its stock, when it
    counts one, goes down as for any voucher (and may reach zero, never below).
    """
    if reward.merchant_id != member.merchant_id:
        raise PermissionDenied("reward and member belong to different shops")
    account = _lock(member)
    if done := Redemption.objects.filter(merchant_id=member.merchant_id, idempotency_key=idempotency_key).first():
        return done
    now = timezone.now()
    voucher = _issue_voucher(program_for(member.merchant), account, reward, 0, Decimal(0), actor, now, idempotency_key)
    voucher.expires_at = expires_at
    voucher.save()
    Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
    return voucher


def welcome_bonus(*, member: Member, actor: Actor) -> Entry | None:
    """Open the new member's account, with the welcome bonus if the program gives one."""
    Account.objects.get_or_create(member=member, defaults={"merchant_id": member.merchant_id})
    program = program_for(member.merchant)
    return points_credit(
        member=member,
        points=program.welcome_bonus,
        kind=Kind.BONUS,
        actor=actor,
        reason=_("Welcome bonus"),
        idempotency_key=f"welcome:{member.pk}",
    )


def birthday_bonuses(*, merchant: Merchant, today: date | None = None) -> int:
    """Give today's birthday bonus (the shop's today) to each member born on this day; once a year."""
    program = program_for(merchant)
    if not program.birthday_bonus:
        return 0
    today = today or local_today(merchant)
    days = [today.day] + ([29] if (today.month, today.day) == (2, 28) and not _leap(today.year) else [])
    members = Member.objects.for_merchant(merchant).filter(birthday__month=today.month, birthday__day__in=days)
    given = 0
    actor = Actor.job("birthday")
    for member in members.select_related("merchant").iterator():
        entry = points_credit(
            member=member,
            points=program.birthday_bonus,
            kind=Kind.BONUS,
            actor=actor,
            reason=_("Happy birthday!"),
            idempotency_key=f"birthday:{member.pk}:{today.year}",
        )
        given += entry is not None
    return given


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# ---------------------------------------------------------------------------------------------
# Paid tiers


@transaction.atomic
def tier_fee_record(
    *, member: Member, tier: Tier, amount: Decimal, actor: Actor, idempotency_key: str | None = None
) -> TierFee:
    """The cashier took a membership fee: the member holds the tier until the paid period ends."""
    merchant = member.merchant
    if tier.merchant_id != merchant.pk or not tier.is_paid:
        raise LedgerError(_("“%(tier)s” is not a paid membership.") % {"tier": tier}, code="tier")
    amount = money_check(merchant, amount)
    digest = request_hash(member=member.pk, tier=tier.pk, amount=amount)
    account = _lock(member)
    if done := _replay(TierFee, merchant.pk, idempotency_key, digest):
        return done
    today = local_today(merchant)
    # Paying again before the end extends the current period instead of overlapping it.
    start = (
        account.paid_until + timedelta(days=1)
        if account.paid_tier_id == tier.pk and account.paid_until and account.paid_until >= today
        else today
    )
    end = add_months(start, tier.paid_months) - timedelta(days=1)
    fee = TierFee.objects.create(
        merchant=merchant,
        account=account,
        tier=tier,
        amount=amount,
        starts_on=start,
        ends_on=end,
        location=actor.location,
        actor_user=actor.user,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    if account.paid_tier_id != tier.pk or not account.paid_until or account.paid_until < today:
        _tier_changed(
            TierChange(merchant=merchant, account=account, from_tier=account.tier, to_tier=tier, reason="paid")
        )
    account.paid_tier, account.paid_until = tier, end
    account.save(update_fields=["paid_tier", "paid_until"])
    return fee


# ---------------------------------------------------------------------------------------------
# Jobs: expiry and the tier review, set-based


EXPIRY_BATCH = 5000


def points_expire(*, merchant: Merchant, now: datetime | None = None) -> int:
    """Expire what is due: returns the points expired. Running it again changes nothing.

    Each debit takes the soonest-expiring credits the account had when it was made, so a credit
    that came after a debit is not spent by it (see _expire_batch). Only accounts with a credit
    that fell due since the last run are looked at: nothing else can make more points due.
    """
    now = now or timezone.now()
    program = program_for(merchant)
    since = program.expired_through
    due = Entry.objects.filter(merchant=merchant, points__gt=0, expires_at__lte=now)
    if since:
        # Credits due since the last run, and any written since then with a date already past.
        due = due.filter(Q(expires_at__gt=since) | Q(created_at__gt=since))
    account_ids = list(due.values_list("account_id", flat=True).distinct().order_by("account_id"))
    total = 0
    for start in range(0, len(account_ids), EXPIRY_BATCH):
        total += _expire_batch(merchant, account_ids[start : start + EXPIRY_BATCH], now)
    if program.expiry_mode == ExpiryMode.AFTER_INACTIVITY:
        total += _expire_inactive(merchant, program, now)
    Program.objects.filter(pk=program.pk).update(expired_through=now, last_expiry_run=local_today(merchant, now))
    return total


@transaction.atomic
def _expire_batch(merchant: Merchant, account_ids: list[int], now: datetime) -> int:
    locked = list(
        Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk").values_list("pk", flat=True)
    )
    if not locked:
        return 0
    # Walk each account's ledger in order (ids follow the account lock), counting debits and the
    # credits due by `now`; credits not yet due count 0. A debit takes due credits first (they
    # expire soonest), and digs into later ones only while no due credit is left: the running total
    # then drops below zero. What is left of the due credits is the final total minus the lowest
    # running total below zero. (Summing all due credits and all debits instead would let a debit
    # spend a credit that came after it, so those points would outlive their date.)
    counted = "CASE WHEN points < 0 OR expires_at <= %s THEN points ELSE 0 END"
    at = connection.ops.adapt_datetimefield_value(now)
    ids = ", ".join(["%s"] * len(locked))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, SUM(counted), MIN(running) FROM ("  # noqa: S608 (only placeholders are interpolated)
            f"SELECT account_id, {counted} AS counted, SUM({counted}) OVER (PARTITION BY account_id ORDER BY id) AS running "
            f"FROM {Entry._meta.db_table} WHERE account_id IN ({ids})) AS walk GROUP BY account_id",
            [at, at, *locked],
        )
        dues = {pk: total - min(low, 0) for pk, total, low in cursor.fetchall()}
    dues = {pk: due for pk, due in dues.items() if due > 0}
    return _write_expiries(merchant, dues, now, _("Points expired"))


def _expire_inactive(merchant: Merchant, program: Program, now: datetime) -> int:
    cutoff = local_midnight(merchant, add_months(local_today(merchant, now), -program.expiry_months))
    idle = Account.objects.filter(merchant=merchant, balance__gt=0).filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    )
    ids = list(idle.order_by("pk").values_list("pk", flat=True))
    total = 0
    for start in range(0, len(ids), EXPIRY_BATCH):
        with transaction.atomic():
            # Idle again under the lock: a purchase that committed while we waited makes the member active.
            batch = idle.select_for_update().filter(pk__in=ids[start : start + EXPIRY_BATCH])
            dues = dict(batch.order_by("pk").values_list("pk", "balance"))
            reason = _("Points expired after %(months)d months without a visit") % {"months": program.expiry_months}
            total += _write_expiries(merchant, dues, now, reason)
    return total


def _write_expiries(merchant: Merchant, dues: dict[int, int], now: datetime, reason: str) -> int:
    """One expiry line per account and one UPDATE for all their balances."""
    if not dues:
        return 0
    balances = dict(Account.objects.filter(pk__in=dues).values_list("pk", "balance"))
    Entry.objects.bulk_create(
        Entry(
            merchant=merchant,
            account_id=pk,
            kind=Kind.EXPIRE,
            points=-due,
            balance_after=balances[pk] - due,
            reason=reason,
            actor_kind="job",
            actor_label="expiry",
            created_at=now,
        )
        for pk, due in dues.items()
    )
    with connection.cursor() as cursor:
        # Set-based: subtract each account's due in one statement.
        values = ", ".join(["(%s, %s)"] * len(dues))
        params = [v for pair in dues.items() for v in pair]
        table = Account._meta.db_table
        cursor.execute(
            f"WITH due(id, points) AS (VALUES {values}) "  # noqa: S608 (only placeholders are interpolated)
            f"UPDATE {table} SET balance = {table}.balance - due.points FROM due WHERE {table}.id = due.id",
            params,
        )
    if webhooks.subscribed(merchant.pk, WebhookEvent.POINTS_EXPIRED):
        members = dict(Account.objects.filter(pk__in=dues).values_list("pk", "member_id"))
        for pk, due in dues.items():
            webhooks.emit(
                merchant_id=merchant.pk,
                event=WebhookEvent.POINTS_EXPIRED,
                data={"member": members[pk], "points": due, "balance": balances[pk] - due, "reason": reason},
            )
    return sum(dues.values())


def tier_review(*, merchant: Merchant, today: date | None = None) -> dict[str, int]:
    """Nightly: recompute each member's rolling total, then settle tiers whose period has ended.

    A member keeps a tier until its period ends (tier_until); then they keep it for another period
    if they still qualify, or move down to the tier they do qualify for.
    """
    today = today or local_today(merchant)
    program = program_for(merchant)
    window_start = local_midnight(merchant, add_months(today, -program.tier_window_months))
    accounts = Account.objects.filter(merchant=merchant)
    if program.tier_basis == "spend":
        total = (
            Purchase.objects.filter(account=models.OuterRef("pk"), created_at__gte=window_start)
            .values("account")
            .annotate(s=Sum(F("amount") - F("refunded_amount")))
            .values("s")
        )
    else:
        # Net of refunds, as purchase_refund lowers the total inline: a refunded purchase stops counting.
        total = (
            Purchase.objects.filter(account=models.OuterRef("pk"), created_at__gte=window_start)
            .values("account")
            .annotate(s=Sum(F("points") - F("points_reversed")))
            .values("s")
        )
    accounts.update(
        qualifying_total=models.functions.Coalesce(
            models.Subquery(total), Decimal(0), output_field=models.DecimalField()
        )
    )
    tiers = list(Tier.objects.for_merchant(merchant))
    counts = {"promoted": 0, "demoted": 0, "kept": 0, "lapsed": 0}
    # Only accounts with something to settle: a period that ended, a paid tier that lapsed, or a
    # rolling total that now reaches a tier above the one held (not every account, every night).
    settle = Q(tier_until__lte=today) | Q(paid_until__lt=today, paid_tier__isnull=False)
    earned_tiers = sorted((t for t in tiers if not t.is_paid), key=lambda t: t.threshold)
    if earned_tiers:
        settle |= Q(tier__isnull=True, qualifying_total__gte=earned_tiers[0].threshold)
    for lower, higher in itertools.pairwise(earned_tiers):
        settle |= Q(tier=lower, qualifying_total__gte=higher.threshold)
    settle = accounts.filter(settle)
    for account_id in settle.values_list("pk", flat=True).iterator():
        outcome = _settle_tier(account_id, tiers, program, today)
        if outcome:
            counts[outcome] += 1
    return counts


@transaction.atomic
def _settle_tier(account_id: int, tiers: list[Tier], program: Program, today: date) -> str | None:
    account = Account.objects.select_for_update().get(pk=account_id)
    by_id = {t.pk: t for t in tiers}
    current = by_id.get(account.tier_id)
    outcome = None
    if account.paid_tier_id and account.paid_until and account.paid_until < today:
        _tier_changed(
            TierChange(
                merchant_id=account.merchant_id,
                account=account,
                from_tier=by_id.get(account.paid_tier_id),
                to_tier=current,
                reason="lapsed",
            )
        )
        account.paid_tier = None
        outcome = "lapsed"
    earned = _earned_tier(tiers, account.qualifying_total)
    if _rank(earned) > _rank(current):
        account.tier, account.tier_until, outcome = earned, add_months(today, program.tier_window_months), "promoted"
        _tier_changed(
            TierChange(
                merchant_id=account.merchant_id, account=account, from_tier=current, to_tier=earned, reason="review"
            )
        )
    elif current is not None and account.tier_until and account.tier_until <= today:
        if earned is not None and earned.pk == current.pk:
            account.tier_until, outcome = add_months(today, program.tier_window_months), outcome or "kept"
        else:
            account.tier = earned
            account.tier_until = add_months(today, program.tier_window_months) if earned else None
            outcome = "demoted"
            _tier_changed(
                TierChange(
                    merchant_id=account.merchant_id, account=account, from_tier=current, to_tier=earned, reason="review"
                )
            )
    account.save(update_fields=["tier", "tier_until", "paid_tier"])
    return outcome


def paid_tier_reminders_due(*, merchant: Merchant, today: date | None = None) -> list[Account]:
    """Accounts whose paid tier lapses within the reminder window and were not reminded for it."""
    program = program_for(merchant)
    today = today or local_today(merchant)
    return list(
        Account.objects.for_merchant(merchant)
        .filter(
            paid_tier__isnull=False,
            paid_until__gte=today,
            paid_until__lte=today + timedelta(days=program.paid_tier_reminder_days),
        )
        .exclude(paid_reminded_for=F("paid_until"))
        .select_related("member", "paid_tier")
    )


def paid_tier_mark_reminded(*, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(paid_reminded_for=account.paid_until)


# ---------------------------------------------------------------------------------------------
# Imports: what a shop's previous system knew about each member


@dataclass
class ImportState:
    """A member's account as an import finds it, with the points earlier imports brought in."""

    account: Account
    imported: int


@dataclass
class Opening:
    """What one imported row says about a member's points and standing. None: the file does not say."""

    member: Member
    balance: int | None = None  # points, or stamps on a stamp card, in the previous system
    tier: Tier | None = None
    set_tier: bool = False
    spend: Decimal | None = None
    visits: int | None = None
    last_visit: datetime | None = None
    reason: str = ""  # "customers.csv, row 12"
    key: str = ""  # the entry's idempotency key, unique per job and row
    is_new: bool = False  # a member the import just created: no account yet, nothing to look up


def import_states(*, merchant: Merchant, member_ids: list[int], lock: bool) -> dict[int, ImportState]:
    """Accounts of these members by member id, row-locked in primary-key order when `lock`."""
    accounts = Account.objects.filter(merchant=merchant, member_id__any=member_ids).order_by("pk")
    if lock:
        accounts = accounts.select_for_update()
    accounts = list(accounts)
    imported = dict(
        Entry.objects.filter(merchant=merchant, account_id__any=[a.pk for a in accounts], kind=Kind.IMPORT)
        .values("account_id")
        .annotate(total=Sum("points"))
        .values_list("account_id", "total")
    )
    return {a.member_id: ImportState(a, imported.get(a.pk, 0)) for a in accounts}


@transaction.atomic
def openings_import(*, merchant: Merchant, openings: list[Opening], actor: Actor) -> int:
    """Bring in opening balances, tiers and totals for imported members; returns the entries written.

    The balance a file gives is the target for what imports brought in: the first import of a
    member credits it, importing the same file again writes nothing, and a corrected file writes
    the difference (refused if the member already spent what it would take back). Points earned
    here are not touched. Members without an account get one (imported members get no welcome
    bonus: they are not new to the shop).
    """
    _require(actor, Role.MANAGER, merchant.pk)
    program = program_for(merchant)
    now = timezone.now()
    today = local_today(merchant, now)
    known = [o.member.pk for o in openings if not o.is_new]
    states = import_states(merchant=merchant, member_ids=known, lock=True) if known else {}
    written = 0
    if connection.vendor == "postgresql":
        new = [o for o in openings if o.member.pk not in states]
        if new and len({o.member.pk for o in new}) == len(new) and all((o.balance or 0) >= 0 for o in new):
            written = _openings_new(merchant, program, new, actor, now, today)
            openings = [o for o in openings if o.member.pk in states]
    fresh = []
    for opening in openings:
        if opening.member.pk not in states:
            account = _ACCOUNTS.new(merchant_id=merchant.pk, member=opening.member, created_at=now)
            states[opening.member.pk] = ImportState(account, 0)
            fresh.append(account)
    entries, changes, touched = [], [], {}
    for opening in openings:
        state = states[opening.member.pk]
        account = state.account
        before = (
            account.balance,
            account.tier_id,
            account.opening_spend,
            account.opening_visits,
            account.last_purchase_at,
        )
        if opening.balance is not None and (delta := opening.balance - state.imported):
            entry = _entry(
                account,
                kind=Kind.IMPORT,
                points=delta,
                actor=actor,
                reason=opening.reason[:200],
                created_at=now,
                expires_at=credit_expiry(program, now) if delta > 0 else None,
                idempotency_key=opening.key or None,
            )
            if delta < 0:  # a corrected opening balance takes back what the first one credited
                account.lifetime_earned = max(0, account.lifetime_earned + delta)
            entries.append(entry)
            state.imported = opening.balance
        if opening.set_tier and account.tier_id != (opening.tier.pk if opening.tier else None):
            changes.append(
                _TIER_CHANGES.new(
                    merchant_id=merchant.pk,
                    account=account,
                    from_tier_id=account.tier_id,
                    to_tier=opening.tier,
                    reason="import",
                    created_at=now,
                )
            )
            # Held for one qualifying window from now, then reviewed like any earned tier.
            account.tier = opening.tier
            account.tier_until = add_months(today, program.tier_window_months) if opening.tier else None
        if opening.spend is not None:
            account.opening_spend = opening.spend
        if opening.visits is not None:
            account.opening_visits = opening.visits
        if opening.last_visit and (account.last_purchase_at is None or opening.last_visit > account.last_purchase_at):
            account.last_purchase_at = opening.last_visit
            account.last_activity_at = max(account.last_activity_at or opening.last_visit, opening.last_visit)
        after = (
            account.balance,
            account.tier_id,
            account.opening_spend,
            account.opening_visits,
            account.last_purchase_at,
        )
        if account.pk and after != before:
            touched[account.pk] = account
    # COPY on PostgreSQL; entries and tier changes of new accounts pick up the accounts' new ids.
    insert_many(fresh)
    insert_many(entries)
    insert_many(changes)
    Account.objects.bulk_update(
        touched.values(),
        [
            "balance",
            "lifetime_earned",
            "tier",
            "tier_until",
            "opening_spend",
            "opening_visits",
            "last_purchase_at",
            "last_activity_at",
        ],
        batch_size=500,
    )
    return written + len(entries)


def _openings_new(
    merchant: Merchant, program: Program, openings: list[Opening], actor: Actor, now: datetime, today: date
) -> int:
    """openings_import for members the import just created, by column (PostgreSQL): what the loop
    there does to a fresh account, written as three INSERT ... SELECTs instead of 5,000 accounts
    and ledger lines built one by one. A fresh account starts at zero and with no tier, so each
    row's account, entry and tier change follow from its opening alone."""
    points = [o.balance or 0 for o in openings]
    tiered = [o.set_tier and o.tier is not None for o in openings]
    window_end = add_months(today, program.tier_window_months)
    first = insert_columns(
        Account,
        len(openings),
        merchant_id=merchant.pk,
        member_id=Column(o.member.pk for o in openings),
        balance=Column(points),
        lifetime_earned=Column(points),
        tier_id=Column(o.tier.pk if t else None for o, t in zip(openings, tiered, strict=True)),
        tier_until=Column(window_end if t else None for t in tiered),
        opening_spend=Column(Decimal(0) if o.spend is None else o.spend for o in openings),
        opening_visits=Column(o.visits or 0 for o in openings),
        last_purchase_at=Column(o.last_visit for o in openings),
        last_activity_at=Column(o.last_visit for o in openings),
        created_at=now,
    )
    credited = [(first + n, o) for n, o in enumerate(openings) if o.balance]
    if credited:
        insert_columns(
            Entry,
            len(credited),
            merchant_id=merchant.pk,
            account_id=Column(account for account, _o in credited),
            kind=Kind.IMPORT,
            points=Column(o.balance for _a, o in credited),
            balance_after=Column(o.balance for _a, o in credited),
            expires_at=credit_expiry(program, now),
            reason=Column(o.reason[:200] for _a, o in credited),
            idempotency_key=Column(o.key or None for _a, o in credited),
            location=actor.location,
            **_actor_fields(actor),
            created_at=now,
        )
    promoted = [(first + n, o.tier.pk) for n, (o, t) in enumerate(zip(openings, tiered, strict=True)) if t]
    if promoted:
        insert_columns(
            TierChange,
            len(promoted),
            merchant_id=merchant.pk,
            account_id=Column(account for account, _t in promoted),
            from_tier_id=None,
            to_tier_id=Column(tier for _a, tier in promoted),
            reason="import",
            created_at=now,
        )
    return len(credited)


def statistics_refresh() -> None:
    """Fresh planner statistics for members, accounts and the ledger, after a big import.

    Until autovacuum catches up, PostgreSQL would take a shop that just grew by 100,000 members for
    a small one and scan it for lookups an index serves (the counter's, the next import's).
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Member, Account, Entry))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
