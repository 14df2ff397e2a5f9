"""The database connection dropped in the middle of a purchase at the counter: nothing of the purchase
is written, and the counter's next request works on a fresh connection (CONN_HEALTH_CHECKS).

The drill holds a SHARE lock on the ledger table, so the purchase's transaction stops at its ledger
line, after its purchase row was inserted; it then ends that session with pg_terminate_backend.
"""

import threading

import pytest
from django.db import close_old_connections, connection, transaction
from django.urls import reverse

from rewards.models import Account, PointsEntry, Purchase
from tests.factories import MemberFactory, ProgramFactory
from tests.rewards.conftest import assert_ledger_consistent, ledger_snapshot

from .conftest import Worker, sessions, terminate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HTMX = {"HX-Request": "true"}


def test_a_purchase_whose_connection_is_dropped_writes_nothing_and_the_next_one_works(merchant, cashier_client):
    ProgramFactory(merchant=merchant)
    member = MemberFactory(merchant=merchant)
    url = reverse("rewards:counter_purchase", args=[member.pk])
    cashier_client.raise_request_exception = False  # a server answers 500; it does not crash
    before = ledger_snapshot()
    responses, first_done, go_on = [], threading.Event(), threading.Event()

    def counter() -> None:  # the counter tablet's requests, served one after another by one server thread
        try:
            responses.append(cashier_client.post(url, {"key": "k1", "amount": "25.00"}, headers=HTMX))
            close_old_connections()  # what a real server's request_finished does after each response
            first_done.set()
            go_on.wait(10)
            responses.append(cashier_client.post(url, {"key": "k2", "amount": "40.00"}, headers=HTMX))
        finally:
            first_done.set()
            connection.close()

    thread = threading.Thread(target=counter)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {PointsEntry._meta.db_table} IN SHARE MODE")  # inserts wait, reads don't
        thread.start()
        waiting = Worker.wait_until(lambda: [s for s in sessions() if s[2] == "Lock"], "the purchase waiting")
        assert waiting[0][4].startswith(f'INSERT INTO "{PointsEntry._meta.db_table}"')  # its purchase row is in
        terminate([pid for pid, *_rest in waiting])
    first_done.wait(10)

    assert responses[0].status_code == 500
    assert ledger_snapshot() == before
    go_on.set()
    thread.join(10)
    assert responses[1].status_code == 200
    purchase = Purchase.objects.get()
    assert (purchase.idempotency_key, purchase.amount) == ("k2", 40)
    assert_ledger_consistent(Account.objects.get(member=member))
