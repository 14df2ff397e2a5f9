"""rewards reacting to members' signals (connected in RewardsConfig.ready)."""

from members.models import Member
from merchants.actors import Actor

from .ledger import welcome_bonus


def on_member_enrolled(sender: type[Member], member: Member, actor: Actor, **kwargs) -> None:
    """Open the account and give the welcome bonus, inside the enrolment's transaction."""
    welcome_bonus(member=member, actor=actor)
