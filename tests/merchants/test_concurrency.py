"""Races that a double click or two browser tabs can start, on PostgreSQL's row locks."""

import threading

import pytest
from django.db import connection

from merchants import services
from merchants.models import Invitation, Staff, User
from tests.factories import InvitationFactory, MerchantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(target, n: int = 2) -> list:
    """Run `target` in n threads released at once; collect what each returned or raised."""
    barrier, results = threading.Barrier(n), []

    def run() -> None:
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # the test inspects what each side got
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_an_invitation_accepted_twice_at_once_creates_one_account():
    merchant = MerchantFactory()
    token = "race-token"
    InvitationFactory(merchant=merchant, email="new@example.com", token_hash=services.token_hash(token))

    results = _race(lambda: services.invitation_accept(token=token, password="a-long-pass-123", name="New"))

    assert sum(isinstance(r, Staff) for r in results) == 1
    assert sum(isinstance(r, services.InvitationInvalid) for r in results) == 1
    assert User.objects.filter(email="new@example.com").count() == 1
    assert Staff.objects.filter(merchant=merchant).count() == 1
    assert Invitation.objects.get().accepted_at is not None
