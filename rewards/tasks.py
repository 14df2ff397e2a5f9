"""Celery tasks for the points economy: thin wrappers that call one service each."""

from celery import shared_task
from django.db import OperationalError

from merchants.models import Merchant

from . import fraud, jobs, privacy
from .imports import jobs as imports
from .kpis import digest, rollups


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


# The dashboard's rollups: every few minutes each shop's recent days are recounted.
@shared_task
def kpis_refresh_dispatch_task() -> int:
    merchant_ids = list(Merchant.objects.values_list("pk", flat=True))
    for merchant_id in merchant_ids:
        kpis_refresh_task.delay(merchant_id)
    return len(merchant_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def kpis_refresh_task(merchant_id: int) -> dict[str, int]:
    return rollups.rollups_refresh(merchant_id=merchant_id)


# The owners' weekly digest: hourly, each shop whose Monday morning has come and that was not sent this week.
@shared_task
def digest_dispatch_task() -> int:
    due = digest.digest_due_merchant_ids()
    for merchant_id in due:
        digest_task.delay(merchant_id)
    return len(due)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def digest_task(merchant_id: int) -> int:
    return digest.digest_send(merchant_id=merchant_id)


# Retention: once a day, each shop that set "erase members inactive for N years" erases them.
@shared_task
def retention_dispatch_task() -> int:
    merchant_ids = list(Merchant.objects.filter(erase_inactive_years__isnull=False).values_list("pk", flat=True))
    for merchant_id in merchant_ids:
        retention_erase_task.delay(merchant_id)
    return len(merchant_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def retention_erase_task(merchant_id: int) -> int:
    return privacy.inactive_members_erase(merchant_id=merchant_id)


# Unusual patterns (many voids, bursts of earning on one card, one person's refunds): hourly, every shop.
@shared_task
def fraud_check_dispatch_task() -> int:
    merchant_ids = list(Merchant.objects.values_list("pk", flat=True))
    for merchant_id in merchant_ids:
        fraud_check_task.delay(merchant_id)
    return len(merchant_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def fraud_check_task(merchant_id: int) -> int:
    return fraud.fraud_check(merchant_id=merchant_id)
