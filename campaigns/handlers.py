"""What campaigns do when something happens to a member elsewhere."""

from members.models import Member
from members.privacy import rows
from merchants.actors import Actor

from .models import Message, SurveyAnswer


def on_member_erased(sender: type[Member], member: Member, actor: Actor, **kwargs: object) -> None:
    """Erasure keeps the figures (a score still counts in the NPS) but not the member's own words,
    nor what was written into their messages (a program change's list, an expiry date)."""
    SurveyAnswer.objects.filter(member=member).update(comment="")
    Message.objects.filter(member=member).update(context={}, error="")


def on_member_data_requested(sender: type[Member], member: Member, **kwargs: object) -> dict[str, object]:
    """The messages the shop sent the member (which campaign, how, when) and their survey answers."""
    messages = Message.objects.for_merchant(member.merchant_id).filter(member=member).order_by("occurrence", "pk")
    answers = SurveyAnswer.objects.for_merchant(member.merchant_id).filter(member=member).order_by("created_at", "pk")
    return {
        "messages": rows(
            messages,
            {
                "day": "occurrence",
                "campaign": "campaign__name",
                "channel": "channel",
                "status": "status",
                "sent_at": "sent_at",
                "bonus_points": "points",
            },
        ),
        "survey_answers": rows(answers, {"at": "created_at", "score": "score", "comment": "comment"}),
    }
