"""Background work for shops: invitation and alert emails, webhooks, clean-up of old invitations and API keys."""

from celery import shared_task
from django.db import OperationalError

from . import webhooks
from .api import idempotency_purge
from .emails import alert_email_send, invitation_email_send
from .queue import queued_resend
from .services import invitations_purge


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def invitation_send_task(merchant_id: int, invitation_id: int, token: str) -> None:
    invitation_email_send(merchant_id=merchant_id, invitation_id=invitation_id, token=token)


@shared_task
def invitations_purge_task() -> int:
    return invitations_purge()


@shared_task
def idempotency_purge_task() -> int:
    """Nightly: forget API idempotency keys older than two days (the API promises at least one)."""
    return idempotency_purge()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def webhook_deliver_task(delivery_id: int) -> None:
    """Send one webhook, right after the change that caused it; retries are webhooks_due_task's."""
    webhooks.deliver(delivery_id=delivery_id)


@shared_task
def webhooks_due_task() -> int:
    """Every minute: the deliveries whose next try has come (kept in the database, so a restart loses none)."""
    due = webhooks.deliveries_due()
    for delivery_id in due:
        webhooks.deliver(delivery_id=delivery_id)
    return len(due)


@shared_task
def queued_resend_task() -> int:
    """Every minute: tasks the broker could not take when they were asked for (Redis was down)."""
    return queued_resend()


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def alert_email_task(merchant_id: int, alert_id: int) -> None:
    """Tell the shop's owners of a new alert, once (the alert remembers it was emailed)."""
    alert_email_send(merchant_id=merchant_id, alert_id=alert_id)
