"""Writes for segments: save, delete, make one from a ready-made RFM definition."""

from django.db import transaction
from django.utils import timezone

from merchants.actors import Actor
from merchants.models import Merchant
from merchants.services import audit_record

from .models import Segment
from .segments import PRESETS


@transaction.atomic
def segment_save(
    *, merchant: Merchant, actor: Actor, name: str, rules: dict, segment: Segment | None = None
) -> Segment:
    before = {"name": segment.name, "rules": segment.rules} if segment else None
    segment = segment or Segment(merchant=merchant)
    segment.name, segment.rules, segment.updated_at = name, rules, timezone.now()
    segment.save()
    audit_record(
        merchant=merchant,
        actor=actor.user,
        action="segment.save",
        obj=segment,
        before=before,
        after={"name": name, "rules": rules},
    )
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    audit_record(
        merchant=segment.merchant, actor=actor.user, action="segment.delete", obj=segment, before={"name": segment.name}
    )
    segment.delete()


def segment_from_preset(*, merchant: Merchant, actor: Actor, key: str) -> Segment:
    """A ready-made segment, named after its definition; made once (a second click opens the first)."""
    label, rules = PRESETS[key]
    name = str(label).split(":")[0]
    if existing := Segment.objects.for_merchant(merchant).filter(name=name).first():
        return existing
    return segment_save(merchant=merchant, actor=actor, name=name, rules=rules())
