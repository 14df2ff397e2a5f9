"""Celery tasks for campaigns: thin wrappers around the services, safe to run twice."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from merchants.actors import Actor

from . import sending, services
from .models import Campaign


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def campaign_send_task(self, campaign_id: int) -> None:
    retry_at = sending.campaign_send(campaign_id=campaign_id)
    if retry_at is not None:  # failed messages wait for their next attempt
        self.apply_async((campaign_id,), countdown=max((retry_at - timezone.now()).total_seconds(), 1))


@shared_task
def campaigns_due_task() -> int:
    """Every minute: start the scheduled campaigns whose time has come, run the recurring ones due,
    and pick up the sending of any that stalled."""
    due = services.campaigns_due()
    for campaign in Campaign.objects.filter(pk__in=due):
        services.campaign_start(campaign=campaign, actor=Actor.job("scheduled campaigns"))
    ran = sending.recurring_run()
    # Campaigns whose sending stopped (its workers died, or the broker was down when it started).
    stalled = sending.campaigns_stalled()
    for campaign_id in ran + stalled:
        services.send_in_parallel(campaign_id)
    return len(due) + len(ran) + len(stalled)


@shared_task
def campaign_triggers_task() -> int:
    """Hourly: the switched-on triggered campaigns write and send today's members (once each)."""
    return sending.triggers_run()
