"""Segments, campaigns, messages, holdout groups and lift, surveys, re-engagement jobs."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant, MerchantScopedQuerySet


class Segment(models.Model):
    """A saved audience: the owner's choices in the segment form, read by campaigns.segments."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=100)
    rules = models.JSONField(default=dict, blank=True)  # SegmentForm.rules(): plain numbers, dates and ids
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint("merchant", "name", name="segment_name_unique_per_merchant")]

    def __str__(self) -> str:
        return self.name
