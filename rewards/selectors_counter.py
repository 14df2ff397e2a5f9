"""Reads for the counter: one member's panel (their card, physical cards, last action to undo)."""

from dataclasses import dataclass
from datetime import datetime

from members.models import Card, CardStatus, Member
from merchants.actors import Actor

from .ledger import undo_allowed
from .models import Account, Purchase, Redemption, VoucherStatus
from .selectors import MemberCard, member_card


@dataclass
class LastAction:
    """A member's latest purchase or redemption, and whether the person at the counter may undo it."""

    purchase: Purchase | None
    redemption: Redemption | None
    undoable: bool  # not undone, refunded, used or voided yet
    allowed: bool  # this person may undo it now (their own within the window, or a manager)

    @property
    def at(self) -> datetime:
        return (self.purchase or self.redemption).created_at


def last_action(*, account: Account, actor: Actor, recent: list[Purchase]) -> LastAction | None:
    """The member's last purchase (from `recent`, newest first) or redemption, whichever came later."""
    if account.pk is None:
        return None
    purchase = recent[0] if recent else None
    redemption = (
        Redemption.objects.for_merchant(account.merchant_id)
        .filter(account=account)
        .select_related("reward")
        .order_by("-created_at", "-pk")
        .first()
    )
    if purchase and redemption:
        purchase, redemption = (purchase, None) if purchase.created_at >= redemption.created_at else (None, redemption)
    done = purchase or redemption
    if done is None:
        return None
    undoable = purchase.refunded_amount == 0 if purchase else redemption.status == VoucherStatus.ISSUED
    allowed = undoable and undo_allowed(
        actor=actor, merchant_id=account.merchant_id, done_by_id=done.actor_user_id, done_at=done.created_at
    )
    return LastAction(purchase=purchase, redemption=redemption, undoable=undoable, allowed=allowed)


@dataclass
class CounterPanel:
    """What the counter shows for one member: the card, their physical cards, the last action."""

    card: MemberCard
    cards: list[Card]
    last: LastAction | None


def counter_panel(*, member: Member, actor: Actor) -> CounterPanel:
    card = member_card(member=member)
    cards = list(
        Card.objects.for_merchant(member.merchant_id)
        .filter(member=member, status=CardStatus.ACTIVE)
        .order_by("-linked_at", "-pk")  # newest first: the card the panel offers to replace
    )
    return CounterPanel(
        card=card, cards=cards, last=last_action(account=card.account, actor=actor, recent=card.purchases)
    )
