"""Background work for members."""

from celery import shared_task
from django.db import OperationalError

from merchants.models import Merchant

from .emails import deletion_request_email_send
from .login import Address, login_code_send
from .models import Member
from .portal import card_link_send


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def card_link_send_task(merchant_id: int, member_id: int) -> str:
    member = Member.objects.for_merchant(merchant_id).select_related("merchant").filter(pk=member_id).first()
    return card_link_send(member=member) if member and not member.erased_at else ""


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=3)
def login_code_send_task(merchant_id: int, kind: str, value: str) -> str:
    """Looks the address up here, not in the request: asking for a code takes the same time for anyone."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    return login_code_send(merchant=merchant, address=Address(kind, value)) if merchant else ""


@shared_task(acks_late=True, autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def deletion_request_notify_task(merchant_id: int, member_id: int) -> int:
    return deletion_request_email_send(merchant_id=merchant_id, member_id=member_id)
