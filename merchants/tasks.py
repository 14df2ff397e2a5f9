"""Background work for shops: invitation emails, clean-up of old invitations."""

from celery import shared_task
from django.db import OperationalError

from .emails import invitation_email_send
from .services import invitations_purge


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def invitation_send_task(merchant_id: int, invitation_id: int, token: str) -> None:
    invitation_email_send(merchant_id=merchant_id, invitation_id=invitation_id, token=token)


@shared_task
def invitations_purge_task() -> int:
    return invitations_purge()
