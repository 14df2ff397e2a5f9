"""Celery tasks for the points economy: thin wrappers that call one service each."""

from celery import shared_task
from django.db import OperationalError

from . import jobs


@shared_task
def rewards_daily_dispatch_task() -> int:
    """Hourly: start the nightly work of each shop whose local day has begun."""
    due = jobs.daily_due_merchant_ids()
    for merchant_id in due:
        rewards_daily_task.delay(merchant_id)
    return len(due)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rewards_daily_task(merchant_id: int) -> dict[str, int]:
    return jobs.daily_run(merchant_id=merchant_id)
