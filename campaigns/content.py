"""What a member reads: the campaign's version (A or B), in the member's language, with their figures.

Placeholders in braces are filled per member; one the owner did not spell right stays as written
(the form refuses unknown ones, so that only happens to texts saved before a placeholder existed).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import Member
from members.portal import unsubscribe_url
from merchants.locales import date_text, number_text
from rewards.models import Redemption, Reward
from rewards.selectors import points_expiring

from .models import Campaign, Channel, Message, Offer
from .survey import survey_url
from .triggers import change_lines

PLACEHOLDERS = (
    "first_name", "name", "shop", "balance", "tier", "bonus", "multiplier", "offer_until", "voucher_code",
    "reward", "expiring_points", "expiry_date", "survey_link", "changes", "change_date",
)  # fmt: skip
SAMPLE_CODE = "AC3DE-FG4HJ"  # the preview's voucher code: the real one is made when the message goes out


@dataclass(frozen=True)
class Version:
    """One version of a campaign: A, or B of an A/B test (B's empty fields are A's)."""

    variant: str
    subject: str
    body: str
    offer: str
    bonus_points: int
    multiplier: Decimal
    reward_id: int | None
    texts: dict = field(default_factory=dict)  # {language: {"subject": ..., "body": ...}}

    @property
    def points(self) -> int:
        return self.bonus_points if self.offer == Offer.BONUS else 0


def version(campaign: Campaign, variant: str = "a") -> Version:
    if variant != "b" or not campaign.ab_test:
        texts = {
            lang: {"subject": t.get("subject", ""), "body": t.get("body", "")}
            for lang, t in campaign.translations.items()
        }
        return Version(
            "a", campaign.subject, campaign.body, campaign.offer, campaign.bonus_points, campaign.multiplier,
            campaign.reward_id, texts,
        )  # fmt: skip
    same_offer = campaign.b_offer == "same"
    own_text = bool(campaign.b_body.strip())
    texts = {
        lang: {"subject": t.get("b_subject", ""), "body": t.get("b_body", "")}
        if own_text
        else {"subject": t.get("subject", ""), "body": t.get("body", "")}
        for lang, t in campaign.translations.items()
    }
    return Version(
        variant="b",
        subject=campaign.b_subject or campaign.subject,
        body=campaign.b_body if own_text else campaign.body,
        offer=campaign.offer if same_offer else campaign.b_offer,
        bonus_points=campaign.bonus_points if same_offer else campaign.b_bonus_points,
        multiplier=campaign.multiplier if same_offer else campaign.b_multiplier,
        reward_id=campaign.reward_id if same_offer else campaign.b_reward_id,
        texts=texts,
    )


def member_language(member: Member) -> str:
    return member.language or member.merchant.language or settings.LANGUAGE_CODE


def texts_for(version: Version, language: str) -> tuple[str, str]:
    """The subject and body in this language when the owner wrote them, else the main ones."""
    own = version.texts.get(language) or {}
    body = (own.get("body") or "").strip()
    if not body:
        return version.subject, version.body
    return own.get("subject") or version.subject, body


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def offer_until(campaign: Campaign, sent_at: datetime | None) -> date:
    """The last day of the offer: its days counted from the message, in the shop's time zone."""
    start = timezone.localtime(sent_at or timezone.now(), campaign.merchant.tzinfo)
    return (start + timedelta(days=campaign.offer_days)).date()


def _describe_changes(changes: list) -> str:
    """The program changes a message tells, one per line (campaigns.triggers words them)."""
    return "\n".join(f"- {line}" for line in change_lines(changes))


def personalise(
    text: str, *, campaign: Campaign, version: Version, member: Member, message: Message | None = None
) -> str:
    if "{" not in text:
        return text
    merchant = campaign.merchant
    account = getattr(member, "account", None)
    context = message.context if message is not None else {}
    voucher: Redemption | None = message.voucher if message is not None and message.voucher_id else None
    values = _Values(
        first_name=member.first_name or member.name,
        name=member.name,
        shop=merchant.name,
        balance=number_text(account.balance if account else 0),
        tier=account.tier.name if account and account.tier else "",
        bonus=number_text(version.bonus_points),
        multiplier=number_text(version.multiplier),
        offer_until=date_text(offer_until(campaign, message.sent_at if message else None)),
        voucher_code=voucher.code if voucher else SAMPLE_CODE,
        changes=_describe_changes(context.get("changes", [])),
    )
    reward_name = context.get("reward") or (voucher.reward.name if voucher else "")
    if not reward_name and version.reward_id:
        reward_name = Reward.objects.filter(pk=version.reward_id).values_list("name", flat=True).first() or ""
    values["reward"] = reward_name
    if "change_date" in context:
        values["change_date"] = date_text(date.fromisoformat(context["change_date"]))
    if "{expiring_points}" in text or "{expiry_date}" in text:
        if "expiring_points" in context:
            points, day = context["expiring_points"], date.fromisoformat(context["expiry_date"])
        else:  # the soonest batch of points due to expire, read from the ledger
            soonest = points_expiring(account=account) if account else []
            points = soonest[0].points if soonest else 0
            day = timezone.localtime(soonest[0].expires_at, merchant.tzinfo).date() if soonest else None
        values["expiring_points"] = number_text(points)
        values["expiry_date"] = date_text(day) if day else ""
    if "{survey_link}" in text:
        values["survey_link"] = survey_url(member=member, message=message)
    return text.format_map(values)


def render(campaign: Campaign, member: Member, message: Message | None = None) -> tuple[str, str]:
    """The subject and text this member gets: their version, in their language, with the footer."""
    merchant = campaign.merchant
    chosen = version(campaign, message.variant if message is not None else "a")
    language = member_language(member)
    with translation.override(language):
        subject, body = texts_for(chosen, language)
        fill = {"campaign": campaign, "version": chosen, "member": member, "message": message}
        body = personalise(body, **fill)
        link = unsubscribe_url(member)
        if campaign.channel == Channel.EMAIL:
            footer = _("You get this because you agreed to offers from %(shop)s. Unsubscribe: %(link)s")
        else:
            footer = _("Stop offers: %(link)s")
        text = f"{body}\n\n{footer % {'shop': merchant.name, 'link': link}}"
        return personalise(subject, **fill), text
