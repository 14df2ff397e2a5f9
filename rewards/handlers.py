"""rewards reacting to members' signals (connected in RewardsConfig.ready)."""

from django.core.cache import cache

from members.models import Member
from merchants.actors import Actor

from . import selectors
from .ledger import rules_key, welcome_bonus
from .models import Program, Tier


def on_member_enrolled(sender: type[Member], member: Member, actor: Actor, **kwargs) -> None:
    """Open the account and give the welcome bonus, inside the enrolment's transaction."""
    welcome_bonus(member=member, actor=actor)


def on_rules_changed(sender: type, instance: Program | Tier, **kwargs) -> None:
    """Saving the program or a tier clears the cached rules the purchase path reads."""
    cache.delete(rules_key(instance.merchant_id))


def on_member_data_requested(sender: type[Member], member: Member, **kwargs) -> dict[str, object]:
    """The member's account, purchases, points history and vouchers, for their data export."""
    return selectors.member_data_sections(member)
