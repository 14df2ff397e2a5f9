"""Write use cases for shops, their locations and staff. Each is one transaction."""

import secrets
import time
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import Alert, ApiKey, AuditLog, Invitation, Location, Merchant, Role, Staff, User, token_hash
from .queue import enqueue


def audit_record(
    *,
    merchant: Merchant,
    actor: User | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Write an audit entry; callers run it inside the transaction of the change it describes."""
    return AuditLog.objects.create(
        merchant=merchant,
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
    )


def _snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _update_fields(obj: models.Model, fields: dict[str, Any]) -> tuple[dict, dict]:
    """Set the given fields, save the ones that changed, return (before, after) of the changes."""
    before = {k: getattr(obj, k) for k, v in fields.items() if getattr(obj, k) != v}
    after = {k: fields[k] for k in before}
    for name, value in after.items():
        setattr(obj, name, value)
    if after:
        obj.full_clean()
        obj.save(update_fields=list(after))
    return before, after


@transaction.atomic
def user_signup(*, email: str, password: str, name: str = "") -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("An account with this email already exists. Sign in instead."), code="email_taken")
    return User.objects.create_user(email=email, password=password, name=name)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "shop"
    slug, n = base, 1
    while Merchant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


MERCHANT_FIELDS = ["name", "country", "currency", "timezone", "language"]
SETTINGS_FIELDS = [*MERCHANT_FIELDS, "privacy_text", "erase_inactive_years"]  # what the owner changes later


@transaction.atomic
def merchant_create(*, owner: User, name: str, country: str, currency: str, timezone: str, language: str) -> Merchant:
    """A new shop with its owner and a first location named after it."""
    merchant = Merchant(
        name=name, slug=_unique_slug(name), country=country, currency=currency, timezone=timezone, language=language
    )
    merchant.full_clean()
    merchant.save()
    Staff.objects.create(merchant=merchant, user=owner, role=Role.OWNER)
    Location.objects.create(merchant=merchant, name=name)
    audit_record(
        merchant=merchant,
        actor=owner,
        action="merchant.create",
        obj=merchant,
        after=_snapshot(merchant, MERCHANT_FIELDS),
    )
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, by: Staff, **fields: Any) -> Merchant:
    _require(by, Role.OWNER, merchant)
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not shop settings: {sorted(unknown)}")
    before, after = _update_fields(merchant, fields)
    if after:
        audit_record(
            merchant=merchant, actor=by.user, action="merchant.update", obj=merchant, before=before, after=after
        )
    return merchant


def _require(by: Staff, role: Role, merchant: Merchant) -> None:
    """Services check their caller too, so a view that forgot a decorator still cannot write."""
    if by.merchant_id != merchant.pk or not by.can(role):
        raise PermissionDenied(_("Your role in this shop does not allow this."))


LOCATION_FIELDS = ["name", "address", "phone", "is_active"]


@transaction.atomic
def location_create(*, merchant: Merchant, by: Staff, name: str, address: str = "", phone: str = "") -> Location:
    _require(by, Role.MANAGER, merchant)
    location = Location(merchant=merchant, name=name, address=address, phone=phone)
    location.full_clean()
    location.save()
    audit_record(
        merchant=merchant,
        actor=by.user,
        action="location.create",
        obj=location,
        after=_snapshot(location, LOCATION_FIELDS),
    )
    return location


@transaction.atomic
def location_update(*, location: Location, by: Staff, **fields: Any) -> Location:
    _require(by, Role.MANAGER, location.merchant)
    if fields.get("is_active") is False and not (
        Location.objects.for_merchant(location.merchant).filter(is_active=True).exclude(pk=location.pk).exists()
    ):
        raise ValidationError(_("A shop needs at least one open location."), code="last_location")
    before, after = _update_fields(location, fields)
    if after:
        audit_record(
            merchant=location.merchant,
            actor=by.user,
            action="location.update",
            obj=location,
            before=before,
            after=after,
        )
    return location


def _assignable_roles(by: Staff) -> list[Role]:
    """Owners may give any role; managers bring in cashiers only."""
    return list(Role) if by.can(Role.OWNER) else [Role.CASHIER]


def staff_assignable_roles(*, by: Staff) -> list[Role]:
    return _assignable_roles(by)


def _send_invitation(invitation: Invitation, token: str) -> None:
    from .tasks import invitation_send_task  # here, not at the top: tasks import services

    enqueue(invitation_send_task, invitation.merchant_id, invitation.pk, token)


@transaction.atomic
def invitation_create(*, merchant: Merchant, by: Staff, email: str, role: str, name: str = "") -> Invitation:
    """Invite someone by email; the link in the email is the only copy of the token."""
    _require(by, Role.MANAGER, merchant)
    if Role(role) not in _assignable_roles(by):
        raise PermissionDenied(_("Only the owner can invite managers and owners."))
    email = User.objects.normalize_email(email).lower()
    if Staff.objects.for_merchant(merchant).filter(user__email__iexact=email, is_active=True).exists():
        raise ValidationError(_("%(email)s already works in this shop.") % {"email": email}, code="already_staff")
    # A new invitation replaces any earlier one to the same address.
    Invitation.objects.for_merchant(merchant).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        merchant=merchant,
        email=email,
        name=name,
        role=role,
        token_hash=token_hash(token),
        invited_by=by.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    audit_record(merchant=merchant, actor=by.user, action="invitation.create", obj=invitation, after={"role": role})
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: Staff) -> Invitation:
    """A fresh link (and expiry) for a pending invitation; the old link stops working."""
    _require(by, Role.MANAGER, invitation.merchant)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(_("This invitation is no longer open."), code="closed")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(merchant=invitation.merchant, actor=by.user, action="invitation.resend", obj=invitation)
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: Staff) -> Invitation:
    _require(by, Role.MANAGER, invitation.merchant)
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(merchant=invitation.merchant, actor=by.user, action="invitation.revoke", obj=invitation)
    return invitation


class InvitationInvalid(ValidationError):
    pass


def invitation_check(*, token: str, lock: bool = False) -> Invitation:
    """The open invitation behind a link, or InvitationInvalid saying why it cannot be used."""
    invitations = Invitation.objects.select_related("merchant").filter(token_hash=token_hash(token))
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid. Ask the shop for a new one."), code="unknown")
    if invitation.accepted_at:
        raise InvitationInvalid(_("This invitation has already been used. Sign in instead."), code="used")
    if invitation.revoked_at:
        raise InvitationInvalid(_("This invitation was withdrawn. Ask the shop for a new one."), code="revoked")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(_("This invitation has expired. Ask the shop for a new one."), code="expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User | None = None, password: str = "", name: str = "") -> Staff:
    """Join the shop: as the signed-in `user`, or as a new user with `password`. Works once."""
    # The row lock makes a double click wait, then find the invitation used.
    invitation = invitation_check(token=token, lock=True)
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationInvalid(_("You already have an account: sign in to accept."), code="sign_in")
        user = User.objects.create_user(email=invitation.email, password=password, name=name or invitation.name)
    elif user.email.lower() != invitation.email.lower():
        raise InvitationInvalid(
            _("This invitation is for %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email},
            code="other_user",
        )
    staff, _created = Staff.objects.update_or_create(
        merchant=invitation.merchant, user=user, defaults={"role": invitation.role, "is_active": True}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        merchant=invitation.merchant, actor=user, action="staff.join", obj=staff, after={"role": invitation.role}
    )
    return staff


def _owners_left(merchant: Merchant, without: Staff) -> bool:
    return Staff.objects.for_merchant(merchant).filter(role=Role.OWNER, is_active=True).exclude(pk=without.pk).exists()


@transaction.atomic
def staff_update(*, staff: Staff, by: Staff, role: str | None = None, is_active: bool | None = None) -> Staff:
    """Change a colleague's role or access. Managers manage cashiers; the last owner stays an owner."""
    _require(by, Role.MANAGER, staff.merchant)
    assignable = _assignable_roles(by)
    if staff.role_enum not in assignable or (role and Role(role) not in assignable):
        raise PermissionDenied(_("Only the owner can change managers and owners."))
    fields: dict[str, Any] = {}
    if role is not None:
        fields["role"] = role
    if is_active is not None:
        fields["is_active"] = is_active
    demoted = fields.get("role", Role.OWNER) != Role.OWNER or fields.get("is_active") is False
    if staff.role == Role.OWNER and demoted and not _owners_left(staff.merchant, staff):
        raise ValidationError(_("A shop needs at least one owner. Make someone else owner first."), code="last_owner")
    before, after = _update_fields(staff, fields)
    if after:
        audit_record(
            merchant=staff.merchant, actor=by.user, action="staff.update", obj=staff, before=before, after=after
        )
    return staff


def invitations_purge(*, older_than_days: int = 30) -> int:
    """Delete invitations closed (used, withdrawn or expired) more than `older_than_days` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    closed = models.Q(expires_at__lt=cutoff) | models.Q(accepted_at__lt=cutoff) | models.Q(revoked_at__lt=cutoff)
    deleted, _by_model = Invitation.objects.filter(closed).delete()
    return deleted


# ---------------------------------------------------------------------------------------------
# API keys


def api_key_create(*, merchant: Merchant, name: str, scope: str, by: User | None) -> tuple[ApiKey, str]:
    """A new key for the shop's POS or web shop; returns it with the full key, which is shown once."""
    prefix = secrets.token_hex(4)
    raw = f"lk_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            merchant=merchant, name=name.strip()[:100], prefix=prefix, key_hash=token_hash(raw), scope=scope,
            created_by=by,
        )  # fmt: skip
        audit_record(merchant=merchant, actor=by, action="api_key.create", obj=key, after={"scope": scope})
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by: User | None) -> ApiKey:
    """The key stops working at once; its history (who used it) stays."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(merchant=key.merchant, actor=by, action="api_key.revoke", obj=key)
    return key


def api_key_find(raw: str) -> ApiKey | None:
    """The active key this secret belongs to, or None."""
    if not raw.startswith("lk_"):
        return None
    digest = token_hash(raw)
    if connection.vendor != "postgresql":
        return ApiKey.objects.select_related("merchant").filter(key_hash=digest, revoked_at__isnull=True).first()
    # Every API call asks this first: on PostgreSQL, one plain statement built once instead of an
    # ORM query compiled each time (the key's and the shop's columns need no conversion there).
    key_fields, shop_fields = ApiKey._meta.concrete_fields, Merchant._meta.concrete_fields
    if not _KEY_SQL:
        quote = connection.ops.quote_name
        columns = [f"k.{quote(f.column)}" for f in key_fields] + [f"m.{quote(f.column)}" for f in shop_fields]
        _KEY_SQL.append(
            f"SELECT {', '.join(columns)} FROM merchants_apikey k JOIN merchants_merchant m ON m.id = k.merchant_id "  # noqa: S608 - names from the models
            "WHERE k.key_hash = %s AND k.revoked_at IS NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute(_KEY_SQL[0], [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    key = ApiKey.from_db(connection.alias, [f.attname for f in key_fields], row[: len(key_fields)])
    key.merchant = Merchant.from_db(connection.alias, [f.attname for f in shop_fields], row[len(key_fields) :])
    return key


_KEY_SQL: list[str] = []
_RECENT_KEYS: dict[str, tuple[float, ApiKey]] = {}
RECENT_KEY_SECONDS = 10


def api_key_recent(raw: str) -> ApiKey | None:
    """api_key_find, remembered by this process for a few seconds, for a caller that checks the key
    again in its own statement (so a revoked key stops working at once): the purchase hot path."""
    now = time.monotonic()
    remembered = _RECENT_KEYS.get(raw)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    key = api_key_find(raw)
    if len(_RECENT_KEYS) > 1000:  # a process serves a few shops' tills; never let it grow
        _RECENT_KEYS.clear()
    if key is not None:
        _RECENT_KEYS[raw] = (now + RECENT_KEY_SECONDS, key)
    return key


# ---------------------------------------------------------------------------------------------
# Alerts: unusual patterns for the owner (found by rewards.fraud)


def alert_raise(
    *,
    merchant_id: int,
    pattern: str,
    subject_type: str,
    subject_id: int | str,
    subject_repr: str,
    day: date,
    details: dict[str, Any],
) -> Alert | None:
    """Store an alert, unless this pattern was raised for this subject on this day already; the
    owners are emailed once, after the commit. Returns the new alert, or None."""
    from .tasks import alert_email_task  # here, not at the top: tasks import services

    with transaction.atomic():
        # get_or_create retries the read when a concurrent run inserted the same alert first.
        alert, created = Alert.objects.get_or_create(
            merchant_id=merchant_id,
            pattern=pattern,
            subject_type=subject_type,
            subject_id=str(subject_id),
            day=day,
            defaults={"subject_repr": subject_repr[:200], "details": details},
        )
        if created:
            enqueue(alert_email_task, merchant_id, alert.pk)
    return alert if created else None


@transaction.atomic
def alert_review(*, alert: Alert, by: Staff) -> Alert:
    """Mark an alert looked into. Reviewing it again changes nothing."""
    if by.merchant_id != alert.merchant_id or not by.can(Role.OWNER):
        raise PermissionDenied(_("Your role in this shop does not allow this."))
    locked = Alert.objects.select_for_update().select_related("merchant").get(pk=alert.pk)
    if locked.reviewed_at is None:
        locked.reviewed_at, locked.reviewed_by = timezone.now(), by.user
        locked.save(update_fields=["reviewed_at", "reviewed_by"])
        audit_record(merchant=locked.merchant, actor=by.user, action="alert.review", obj=locked)
    return locked
