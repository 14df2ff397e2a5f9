"""What campaigns do when something happens to a member elsewhere."""

from members.models import Member
from merchants.actors import Actor

from .models import Message, SurveyAnswer


def on_member_erased(sender: type[Member], member: Member, actor: Actor, **kwargs: object) -> None:
    """Erasure keeps the figures (a score still counts in the NPS) but not the member's own words,
    nor what was written into their messages (a program change's list, an expiry date)."""
    SurveyAnswer.objects.filter(member=member).update(comment="")
    Message.objects.filter(member=member).update(context={}, error="")
