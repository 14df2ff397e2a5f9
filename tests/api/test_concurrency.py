"""The same request sent twice at once (a POS that retries while the first is still running): one
purchase, and both answers say so. PostgreSQL: the second waits on the first one's key."""

import pytest

from rewards.models import Purchase
from tests.rewards.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_key_at_once_makes_one_purchase(api, customer):
    def post(_i: int):
        return api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="retry-1")

    first, second = race(post, 2)
    assert Purchase.objects.count() == 1
    assert {first.status_code, second.status_code} <= {201, 409}
    assert 201 in {first.status_code, second.status_code}
    done = [r.json() for r in (first, second) if r.status_code == 201]
    assert all(body["id"] == Purchase.objects.get().pk for body in done)
