"""Background work for members."""

from celery import shared_task
from django.db import OperationalError

from .models import Member
from .portal import card_link_send


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def card_link_send_task(merchant_id: int, member_id: int) -> str:
    member = Member.objects.for_merchant(merchant_id).select_related("merchant").filter(pk=member_id).first()
    return card_link_send(member=member) if member and not member.erased_at else ""
