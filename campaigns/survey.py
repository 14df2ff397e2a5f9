"""The one-question survey (NPS): the member's link, saving an answer, and the dashboard's numbers.

How likely is a member to recommend the shop, from 0 to 10, and why. The link carries a signed token
naming the member and the message that asked (a feedback campaign's), or no message (a link from the
member's card). Like the unsubscribe link it only records an opinion, so it never expires and survives
a new portal key; erasure ends it.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from merchants.models import Merchant
from merchants.periods import days_range

from .models import Message, SurveyAnswer

SALT = "campaigns.survey"
SCORES = range(11)  # 0 to 10
PROMOTER_MIN, PASSIVE_MIN = 9, 7  # 9-10 promoters, 7-8 passives, 0-6 detractors
COMMENT_MAX = 2000
LATEST_COMMENTS = 10


# ---------------------------------------------------------------------------------------------
# The link


@dataclass(frozen=True)
class SurveyLink:
    """What a survey link stands for: whose answer, to which message (None: the member's card)."""

    member: Member
    message: Message | None


def survey_token(*, member: Member, message: Message | None = None) -> str:
    return signing.dumps({"member": member.pk, "message": message.pk if message else None}, salt=SALT)


def survey_url(*, member: Member, message: Message | None = None) -> str:
    """The absolute link to the survey page, for a message or the member's card."""
    token = survey_token(member=member, message=message)
    return settings.SITE_URL.rstrip("/") + reverse("survey:answer", args=[token])


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def survey_link_from_token(token: str) -> SurveyLink | None:
    """The member and message a link names, or None for a forged, mangled or dead link (an erased or
    deleted member, a message that is gone or is not theirs)."""
    try:
        payload = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not _is_id(payload.get("member")):
        return None
    member = Member.objects.select_related("merchant").filter(pk=payload["member"], erased_at__isnull=True).first()
    if member is None:
        return None
    message_id = payload.get("message")
    if message_id is None:
        return SurveyLink(member, None)
    if not _is_id(message_id):
        return None
    # Scoped to the member's shop and the member: a link never reaches another shop's message.
    message = Message.objects.for_merchant(member.merchant_id).filter(pk=message_id, member=member).first()
    return SurveyLink(member, message) if message is not None else None


# ---------------------------------------------------------------------------------------------
# Answers


def answer_for(*, member: Member, message: Message | None) -> SurveyAnswer | None:
    """The answer the link already holds: the message's, or (no message) the member's of today, in the
    shop's time zone."""
    answers = SurveyAnswer.objects.for_merchant(member.merchant_id).filter(member=member)
    if message is not None:
        return answers.filter(message=message).first()
    today = timezone.localdate(timezone=member.merchant.tzinfo)
    start, end = days_range(member.merchant, today, today)
    return answers.filter(message__isnull=True, created_at__gte=start, created_at__lt=end).first()


def _clean(score: object, comment: str) -> tuple[int, str]:
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise ValidationError({"score": _("Pick a score from 0 to 10.")}, code="score")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {"comment": _("Keep the comment under %(max)s characters.") % {"max": COMMENT_MAX}}, code="comment"
        )
    return score, comment


@transaction.atomic
def answer_save(*, member: Member, message: Message | None, score: int, comment: str) -> SurveyAnswer:
    """Record the member's answer: one per message, or without a message one per member and shop day.
    Answering again changes the answer (and its updated_at), never adds a second one."""
    score, comment = _clean(score, comment)
    if message is not None and (message.member_id != member.pk or message.merchant_id != member.merchant_id):
        raise PermissionDenied("message and member do not match")
    # Two taps on submit wait on the member's row, so the second finds the first's answer and changes it.
    locked = Member.objects.select_for_update().filter(pk=member.pk, erased_at__isnull=True).first()
    if locked is None:
        raise ValidationError(_("This member's data was erased."), code="erased")
    now = timezone.now()
    answer = answer_for(member=member, message=message)
    if answer is None:
        return SurveyAnswer.objects.create(
            merchant_id=member.merchant_id,
            member=member,
            message=message,
            campaign_id=message.campaign_id if message else None,
            score=score,
            comment=comment,
            created_at=now,
            updated_at=now,
        )
    answer.score, answer.comment, answer.updated_at = score, comment, now
    answer.save(update_fields=["score", "comment", "updated_at"])
    return answer


# ---------------------------------------------------------------------------------------------
# The numbers


@dataclass(frozen=True)
class SurveyComment:
    score: int
    member: str
    day: date  # the shop's local day of the answer
    comment: str

    @property
    def group(self) -> str:
        """promoter, passive or detractor: the class its score badge is coloured by."""
        return score_group(self.score)


def score_group(score: int) -> str:
    if score >= PROMOTER_MIN:
        return "promoter"
    return "passive" if score >= PASSIVE_MIN else "detractor"


@dataclass
class NpsStats:
    """A window's answers: the three groups, the score distribution and the latest comments."""

    answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    distribution: list[int] = field(default_factory=lambda: [0] * len(SCORES))  # answers per score 0..10
    comments: list[SurveyComment] = field(default_factory=list)

    @property
    def nps(self) -> int | None:
        """% promoters minus % detractors, from -100 to 100; None without answers."""
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers)

    def share(self, count: int) -> float | None:
        return count / self.answers if self.answers else None

    @property
    def promoter_share(self) -> float | None:
        return self.share(self.promoters)

    @property
    def passive_share(self) -> float | None:
        return self.share(self.passives)

    @property
    def detractor_share(self) -> float | None:
        return self.share(self.detractors)


def _answers(merchant: Merchant, start: date, end: date) -> QuerySet[SurveyAnswer]:
    since, until = days_range(merchant, start, end)
    return SurveyAnswer.objects.for_merchant(merchant).filter(created_at__gte=since, created_at__lt=until)


def survey_comments(*, merchant: Merchant, start: date, end: date) -> QuerySet[SurveyAnswer]:
    """The window's answers with a comment, latest first. An erased member's words are not shown:
    their score still counts, as an amount with no one behind it."""
    return (
        _answers(merchant, start, end)
        .exclude(comment="")
        .filter(member__erased_at__isnull=True)
        .select_related("member")
        .order_by("-created_at", "-pk")
    )


def _comment(answer: SurveyAnswer, merchant: Merchant) -> SurveyComment:
    day = timezone.localtime(answer.created_at, merchant.tzinfo).date()
    return SurveyComment(answer.score, answer.member.name or str(answer.member), day, answer.comment)


def comment_rows(*, merchant: Merchant, start: date, end: date) -> Iterator[SurveyComment]:
    """Every comment of the window, for the CSV download (streamed, not held in memory)."""
    for answer in survey_comments(merchant=merchant, start=start, end=end).iterator(chunk_size=500):
        yield _comment(answer, merchant)


def nps(*, merchant: Merchant, start: date, end: date, latest: int = LATEST_COMMENTS) -> NpsStats:
    """The answers given from `start` to `end` (the shop's days, both included)."""
    stats = NpsStats()
    for row in _answers(merchant, start, end).values("score").annotate(n=Count("pk")).order_by():
        stats.distribution[row["score"]] += row["n"]
    stats.answers = sum(stats.distribution)
    stats.promoters = sum(stats.distribution[PROMOTER_MIN:])
    stats.passives = sum(stats.distribution[PASSIVE_MIN:PROMOTER_MIN])
    stats.detractors = sum(stats.distribution[:PASSIVE_MIN])
    if latest:
        answers = survey_comments(merchant=merchant, start=start, end=end)[:latest]
        stats.comments = [_comment(answer, merchant) for answer in answers]
    return stats


def has_answers(*, merchant: Merchant) -> bool:
    """Whether the shop ever had an answer: the card explains where they come from until then."""
    return SurveyAnswer.objects.for_merchant(merchant).exists()
