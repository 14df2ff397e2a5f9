"""The bench's references for the purchase API, served only by bench/api_bench.py's gunicorn
(bench/settings_bench.py puts them in front of the project's URLs):

- /bench/bare-purchase/: a bare Django view: lock the account, insert the purchase and its ledger
  line, update the account, through the ORM, with no DRF, key, idempotency or loyalty rules;
- /bench/raw-purchase/: the same rows in raw SQL (bench/purchase_bench.RawWork), the floor.
"""

import json
import os
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from loyalty.urls import urlpatterns as project_urls
from merchants.models import Merchant
from rewards.models import Account, PointsEntry, Purchase

_shop: dict = {}


def _merchant_id() -> int:
    if "id" not in _shop:
        _shop["id"] = Merchant.objects.values_list("pk", flat=True).get(slug=os.environ["BENCH_SHOP"])
    return _shop["id"]


@csrf_exempt
def bare_purchase(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    amount, now, shop = Decimal(body["amount"]), timezone.now(), _merchant_id()
    points = int(amount)  # one point per unit of money
    with transaction.atomic():
        account = Account.objects.select_for_update().get(merchant_id=shop, member_id=int(body["member"]))
        purchase = Purchase.objects.create(
            merchant_id=shop, account=account, amount=amount, points=points, actor_kind="api", created_at=now
        )
        PointsEntry.objects.create(
            merchant_id=shop, account=account, kind="earn", points=points, balance_after=account.balance + points,
            purchase=purchase, actor_kind="api", created_at=now,
        )  # fmt: skip
        Account.objects.filter(pk=account.pk).update(
            balance=F("balance") + points, lifetime_spend=F("lifetime_spend") + amount, last_purchase_at=now
        )
    return JsonResponse({"id": purchase.pk, "points": points, "balance": account.balance + points}, status=201)


_raw: dict = {}


@csrf_exempt
def raw_purchase(request: HttpRequest) -> JsonResponse:
    if "work" not in _raw:  # the shop's rules read once per process, as RawWork does
        from bench.purchase_bench import RawWork

        _raw["work"] = RawWork(Merchant.objects.get(pk=_merchant_id()))
    body = json.loads(request.body)
    _raw["work"].record(int(body["member"]), Decimal(body["amount"]))
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("bench/bare-purchase/", bare_purchase),
    path("bench/raw-purchase/", raw_purchase),
    *project_urls,
]
