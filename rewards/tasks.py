"""Celery tasks for the points economy: thin wrappers that call one service each."""

from celery import shared_task
from django.db import OperationalError

from . import jobs
from .imports import jobs as imports


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


# Customer imports: a worker that dies mid-file is retried (late acknowledgement) and carries on
# from the last chunk it committed.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def import_check_task(merchant_id: int, job_id: int) -> None:
    imports.import_check(merchant_id=merchant_id, job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def import_apply_task(merchant_id: int, job_id: int) -> None:
    imports.import_apply(merchant_id=merchant_id, job_id=job_id)


@shared_task
def imports_purge_task() -> int:
    return imports.imports_purge()
