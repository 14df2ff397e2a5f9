"""Segment pages: the list with each segment's size, the form with a live count, ready-made RFM segments."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.models import Member
from merchants.actors import Actor
from merchants.locales import moment_text, number_text
from merchants.periods import day_start, window_from
from merchants.permissions import MerchantRequest, manager_required
from rewards.models import Reward

from . import content, sending, services, triggers
from .forms import CampaignForm, SegmentForm
from .models import Campaign, CampaignStatus, Message, MessageStatus, Offer, Repeat, Segment, Trigger
from .report import campaign_report
from .segments import PRESETS, segment_count


@require_GET
@manager_required
def segment_list(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    segments = [
        (segment, segment_count(merchant=merchant, rules=segment.rules))
        for segment in Segment.objects.for_merchant(merchant)
    ]
    presets = [(key, label) for key, (label, _rules) in PRESETS.items()]
    return render(request, "campaigns/segment_list.html", {"segments": segments, "presets": presets})


@require_http_methods(["GET", "POST"])
@manager_required
def segment_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    merchant = request.merchant
    segment = get_object_or_404(Segment.objects.for_merchant(merchant), pk=pk) if pk else None
    form = SegmentForm(request.POST or None, merchant=merchant, segment=segment)
    if request.method == "POST" and form.is_valid():
        services.segment_save(
            merchant=merchant,
            actor=Actor.for_staff(request.staff),
            name=form.cleaned_data["name"],
            rules=form.rules(),
            segment=segment,
        )
        messages.success(request, _("Segment “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
        return redirect("campaigns:segments")
    if segment is not None and request.method == "GET":
        form.is_valid()  # the saved rules, validated, give the count below
    rules = _partial_rules(form) if form.is_bound else (segment.rules if segment else {})
    count = segment_count(merchant=merchant, rules=rules)
    return render(request, "campaigns/segment_edit.html", {"form": form, "segment": segment, "count": count})


def _partial_rules(form: SegmentForm) -> dict:
    """The rules of the fields filled in correctly so far: the count follows the owner's typing."""
    form.is_valid()
    return form.rules()


@require_GET
@manager_required
def segment_count_view(request: MerchantRequest) -> HttpResponse:
    """HTMX: how many members the form's rules pick right now."""
    form = SegmentForm(request.GET, merchant=request.merchant)
    count = segment_count(merchant=request.merchant, rules=_partial_rules(form))
    return render(request, "campaigns/segment_edit.html#segment-count", {"count": count, "form": form})


@require_POST
@manager_required
def segment_preset(request: MerchantRequest) -> HttpResponse:
    key = request.POST.get("preset", "")
    if key not in PRESETS:
        raise Http404
    segment = services.segment_from_preset(merchant=request.merchant, actor=Actor.for_staff(request.staff), key=key)
    return redirect("campaigns:segment_edit", pk=segment.pk)


@require_POST
@manager_required
def segment_delete(request: MerchantRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.for_merchant(request.merchant), pk=pk)
    services.segment_delete(segment=segment, actor=Actor.for_staff(request.staff))
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("campaigns:segments")


# ---------------------------------------------------------------------------------------------
# Campaigns


@require_GET
@manager_required
def campaign_list(request: MerchantRequest) -> HttpResponse:
    campaigns = [
        (campaign, sending.progress(campaign=campaign)) for campaign in Campaign.objects.for_merchant(request.merchant)
    ]
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@require_http_methods(["GET", "POST"])
@manager_required
def campaign_edit(request: MerchantRequest, pk: int | None = None) -> HttpResponse:
    merchant = request.merchant
    campaign = get_object_or_404(Campaign.objects.for_merchant(merchant), pk=pk) if pk else None
    if campaign is not None and campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("This campaign has started and can no longer be changed."))
        return redirect("campaigns:campaign", pk=campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CampaignForm.Meta.fields}
        fields["translations"] = form.translations()
        campaign = services.campaign_save(
            merchant=merchant, actor=Actor.for_staff(request.staff), fields=fields, campaign=campaign
        )
        return redirect("campaigns:campaign", pk=campaign.pk)
    return render(request, "campaigns/campaign_edit.html", {"form": form, "campaign": campaign})


def _sample(campaign: Campaign) -> Member:
    """The member the preview shows: the first one it would reach, or a made-up one."""
    found = sending.reachable(campaign=campaign, now=timezone.now()).select_related("account__tier").first()
    return found or Member(merchant=campaign.merchant, first_name=_("Sam"), last_name=_("Lee"), email="sam@example.com")


def _offer_words(campaign: Campaign, chosen: content.Version) -> str:
    if chosen.offer == Offer.BONUS:
        return ngettext(
            "%(n)s bonus point for each member who gets it.", "%(n)s bonus points for each member who gets it.",
            chosen.bonus_points,
        ) % {"n": number_text(chosen.bonus_points)}  # fmt: skip
    days = {"days": campaign.offer_days}
    if chosen.offer == Offer.MULTIPLIER:
        return ngettext(
            "Points times %(x)s on their purchases for %(days)s day after the message.",
            "Points times %(x)s on their purchases for %(days)s days after the message.",
            campaign.offer_days,
        ) % {"x": f"{chosen.multiplier.normalize():f}", **days}
    if chosen.offer == Offer.VOUCHER:
        reward = Reward.objects.filter(pk=chosen.reward_id).first()
        return ngettext(
            "A voucher for “%(reward)s”, free of points, valid for %(days)s day.",
            "A voucher for “%(reward)s”, free of points, valid for %(days)s days.",
            campaign.offer_days,
        ) % {"reward": reward, **days}
    return _("No offer: the message alone.")


def _summary(campaign: Campaign) -> list[str]:
    """The campaign in plain sentences: when it goes, to whom, with what."""
    lines = []
    days = campaign.trigger_days
    when = {
        Trigger.WELCOME: ngettext(
            "Runs every day: each new member gets it %(n)s day after joining.",
            "Runs every day: each new member gets it %(n)s days after joining.", days),
        Trigger.BIRTHDAY: _("Runs every day: each member gets it on their birthday."),
        Trigger.LAPSED: ngettext(
            "Runs every day: a member gets it %(n)s day after their last purchase.",
            "Runs every day: a member gets it %(n)s days after their last purchase, unless they came back.", days),
        Trigger.EXPIRING: ngettext(
            "Runs every day: a member gets it %(n)s day before some of their points expire.",
            "Runs every day: a member gets it %(n)s days before some of their points expire.", days),
        Trigger.REACH: _("Runs every day: a member gets it the day their balance reaches one of your rewards."),
        Trigger.PROMOTION: ngettext(
            "Runs every day: a member gets it %(n)s day after moving up a tier.",
            "Runs every day: a member gets it %(n)s days after moving up a tier.", days),
        Trigger.FEEDBACK: ngettext(
            "Runs every day: a member who bought gets it %(n)s day later, asking how it was.",
            "Runs every day: a member who bought gets it %(n)s days later, asking how it was.", days),
        Trigger.RULES: _(
            "When you change the program's rules, rewards or tiers, members get the list of changes the next "
            "morning, once for all of that day's changes."),
    }.get(campaign.trigger)  # fmt: skip
    if when:
        lines.append(when % {"n": days})
    elif campaign.repeat:
        first = moment_text(timezone.localtime(campaign.send_at, campaign.merchant.tzinfo)) if campaign.send_at else ""
        lines.append(
            (
                _("Every week, next on %(when)s.")
                if campaign.repeat == Repeat.WEEKLY
                else _("Every month, next on %(when)s.")
            )
            % {"when": first or _("the moment you switch it on")}
        )
    if campaign.sample_size:
        lines.append(
            ngettext(
                "A surprise: %(n)s member of the segment, picked at random, gets it.",
                "A surprise: %(n)s members of the segment, picked at random, get it.",
                campaign.sample_size,
            )
            % {"n": number_text(campaign.sample_size)}
        )
    a = content.version(campaign, "a")
    if campaign.ab_test:
        b = content.version(campaign, "b")
        lines.append(_("A/B test: half of the members get version A, half version B."))
        lines.append(_("A: %(offer)s") % {"offer": _offer_words(campaign, a)})
        lines.append(_("B: %(offer)s") % {"offer": _offer_words(campaign, b)})
    else:
        lines.append(_offer_words(campaign, a))
    return lines


def _previews(campaign: Campaign, sample: Member) -> list[dict]:
    """The message as the sample member gets it: each version, in the shop's language and in each
    other language the owner wrote it in."""
    previews = []
    for variant in ("a", "b") if campaign.ab_test else ("a",):
        chosen = content.version(campaign, variant)
        languages = [sample.language or campaign.merchant.language]
        languages += [code for code in chosen.texts if code not in languages]
        for language in languages:
            sample.language = language
            message = Message(campaign=campaign, member=sample, variant=variant, context=_preview_context(campaign))
            subject, text = content.render(campaign, sample, message)
            previews.append(
                {
                    "variant": variant,
                    "language": language,
                    "language_name": dict(settings.LANGUAGES).get(language, language),
                    "subject": subject,
                    "text": text,
                }
            )
    return previews


def _preview_context(campaign: Campaign) -> dict:
    """What a triggered message would say today beyond the member's own figures."""
    if campaign.trigger == Trigger.RULES:
        changes = [r for r in map(triggers.change_record, triggers.program_changes(campaign, timezone.now())) if r]
        return {"changes": changes, "change_date": timezone.localdate(timezone=campaign.merchant.tzinfo).isoformat()}
    if campaign.trigger == Trigger.REACH:
        cheapest = Reward.objects.for_merchant(campaign.merchant).filter(is_active=True).order_by("points_cost").first()
        return {"reward": cheapest.name if cheapest else _("Free coffee")}
    return {}


@require_GET
@manager_required
def campaign_detail(request: MerchantRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.for_merchant(request.merchant).select_related("segment"), pk=pk)
    sample = _sample(campaign)
    context = {
        "campaign": campaign,
        "progress": sending.progress(campaign=campaign),
        "reachable": sending.reachable(campaign=campaign, now=timezone.now()).count(),
        "summary": _summary(campaign),
        "preview_member": sample,
        "previews": _previews(campaign, sample),
        "failures": campaign.messages.filter(status=MessageStatus.FAILED).select_related("member")[:20],
        "report": campaign_report(campaign=campaign) if campaign.started_at else None,
    }
    template = "campaigns/campaign_detail.html"
    if request.htmx and request.GET.get("part") == "progress":
        template += "#campaign-progress"
    return render(request, template, context)


@require_POST
@manager_required
def campaign_start_view(request: MerchantRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.for_merchant(request.merchant), pk=pk)
    campaign = services.campaign_start(campaign=campaign, actor=Actor.for_staff(request.staff))
    if campaign.status == CampaignStatus.SCHEDULED:
        messages.success(request, _("Scheduled: it goes out at the time you chose."))
    else:
        messages.success(request, _("Sending: the numbers below fill in as it goes."))
    return redirect("campaigns:campaign", pk=campaign.pk)


@require_POST
@manager_required
def campaign_cancel_view(request: MerchantRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.for_merchant(request.merchant), pk=pk)
    services.campaign_cancel(campaign=campaign, actor=Actor.for_staff(request.staff))
    messages.info(request, _("Cancelled: nothing more goes out."))
    return redirect("campaigns:campaign", pk=campaign.pk)


@require_GET
@manager_required
def kpi_campaigns(request: MerchantRequest) -> HttpResponse:
    """The dashboard's campaign card: the results of campaigns started in the period; nothing at all
    (the card removes itself) while the shop has none."""
    window = window_from(request.GET, request.merchant)
    started = Campaign.objects.for_merchant(request.merchant).filter(
        started_at__gte=day_start(request.merchant, window.start),
        started_at__lt=day_start(request.merchant, window.end + timedelta(days=1)),
    )
    reports = [campaign_report(campaign=campaign) for campaign in started.order_by("-started_at")[:5]]
    if not reports:
        return HttpResponse("")
    return render(request, "campaigns/kpi_campaigns.html", {"reports": reports})
