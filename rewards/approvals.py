"""Manual adjustments that wait for the owner.

Above the program's approval limit (Program.adjustment_approval_above), a manual adjustment by
anyone but an owner (a manager, an API key) is not written to the ledger: it becomes an
AdjustmentRequest. An owner approves it, and the ledger entry is written then, through
rewards.ledger, in the same transaction as the request's new status; or declines it. Each request
is decided once: its row lock makes a second decision wait, then find it decided and change nothing.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from merchants.actors import Actor
from merchants.locales import number_text
from merchants.models import Role
from merchants.services import audit_record

from . import ledger
from .ledger import IdempotencyConflict, LedgerError
from .models import Account, AdjustmentRequest, RequestStatus


def adjustment_submit(
    *, member: Member, points: int, reason: str, actor: Actor, idempotency_key: str | None = None
) -> "ledger.Entry | AdjustmentRequest":
    """A manual adjustment: written at once (an owner's, or within the limit), else a request for the owner."""
    program = ledger.program_for(member.merchant)
    if not ledger.adjustment_needs_approval(
        program=program, actor=actor, merchant_id=member.merchant_id, points=points
    ):
        return ledger.points_adjust(
            member=member, points=points, reason=reason, actor=actor, idempotency_key=idempotency_key
        )
    return _request(member=member, points=points, reason=reason, actor=actor, idempotency_key=idempotency_key)


@transaction.atomic
def _request(
    *, member: Member, points: int, reason: str, actor: Actor, idempotency_key: str | None
) -> AdjustmentRequest:
    if not actor.can(Role.MANAGER, member.merchant_id):
        raise PermissionDenied(_("Your role in this shop does not allow this."))
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError({"reason": _("Say why you adjust the points.")}, code="reason")
    if not points:
        raise LedgerError({"points": _("Enter a number of points other than zero.")}, code="points")
    digest = ledger.request_hash(member=member.pk, points=points, reason=reason)
    if done := _replay(member.merchant_id, idempotency_key, digest):
        return done  # a double click or a retry: the first request stands
    account = Account.objects.for_merchant(member.merchant_id).filter(member=member).only("balance").first()
    balance = account.balance if account else 0
    if balance + points < 0:  # checked again when approved: the balance may change meanwhile
        raise LedgerError(
            {"points": _("%(name)s has only %(balance)s points.") % {"name": member, "balance": number_text(balance)}},
            code="balance",
        )
    try:
        with transaction.atomic():
            request = AdjustmentRequest.objects.create(
                merchant_id=member.merchant_id,
                member=member,
                points=points,
                reason=reason[:200],
                actor_kind=actor.kind,
                actor_user=actor.user,
                actor_label=actor.label[:120],
                idempotency_key=idempotency_key,
                request_hash=digest,
            )
    except IntegrityError:  # the same key sent twice at once: the other one was first
        if done := _replay(member.merchant_id, idempotency_key, digest):
            return done
        raise
    audit_record(
        merchant=member.merchant,
        actor=actor.user,
        action="adjustment.request",
        obj=member,
        after={"points": points, "reason": reason, "request": request.pk, "by": actor.label},
    )
    return request


def _replay(merchant_id: int, key: str | None, digest: str) -> AdjustmentRequest | None:
    if not key:
        return None
    done = AdjustmentRequest.objects.for_merchant(merchant_id).filter(idempotency_key=key).first()
    if done is not None and done.request_hash != digest:
        raise IdempotencyConflict(
            _("This request key was already used for a different request."), code="idempotency_conflict"
        )
    return done


def _require_owner(actor: Actor, merchant_id: int) -> None:
    if actor.staff is None or not actor.can(Role.OWNER, merchant_id):
        raise PermissionDenied(_("Only the shop's owner can approve or decline adjustments."))


def _lock(request: AdjustmentRequest) -> AdjustmentRequest:
    """The request, row-locked: a second approval (or a decline) waits here, then sees the first's decision."""
    return (
        AdjustmentRequest.objects.select_for_update(of=("self",))
        .select_related("member__merchant")
        .get(pk=request.pk, merchant_id=request.merchant_id)
    )


@transaction.atomic
def adjustment_approve(*, request: AdjustmentRequest, actor: Actor) -> AdjustmentRequest:
    """Write the adjustment to the ledger as the approving owner. A request already decided stays as it is."""
    _require_owner(actor, request.merchant_id)
    locked = _lock(request)
    if locked.status != RequestStatus.PENDING:
        return locked
    # A LedgerError here (the member has fewer points by now) rolls the whole approval back.
    entry = ledger.points_adjust(
        member=locked.member,
        points=locked.points,
        reason=locked.reason,
        actor=actor,
        idempotency_key=f"approval:{locked.pk}",
    )
    locked.status, locked.decided_by, locked.decided_at, locked.entry = (
        RequestStatus.APPROVED, actor.user, timezone.now(), entry,
    )  # fmt: skip
    locked.save(update_fields=["status", "decided_by", "decided_at", "entry"])
    audit_record(
        merchant=locked.member.merchant,
        actor=actor.user,
        action="adjustment.approve",
        obj=locked.member,
        before={"status": RequestStatus.PENDING.value},
        after={"status": locked.status, "points": locked.points, "request": locked.pk, "balance": entry.balance_after},
    )
    return locked


@transaction.atomic
def adjustment_decline(*, request: AdjustmentRequest, actor: Actor) -> AdjustmentRequest:
    """Nothing reaches the ledger. A request already decided stays as it is."""
    _require_owner(actor, request.merchant_id)
    locked = _lock(request)
    if locked.status != RequestStatus.PENDING:
        return locked
    locked.status, locked.decided_by, locked.decided_at = RequestStatus.DECLINED, actor.user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        merchant=locked.member.merchant,
        actor=actor.user,
        action="adjustment.decline",
        obj=locked.member,
        before={"status": RequestStatus.PENDING.value},
        after={"status": locked.status, "points": locked.points, "request": locked.pk},
    )
    return locked
