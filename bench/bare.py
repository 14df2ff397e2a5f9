"""The bench's reference: a bare Django view recording a purchase with the same lock, inserts and
update as the API, in raw SQL, without DRF, keys, idempotency or the ledger's rules. Served only by
bench/api_bench.py's gunicorn (bench/settings_bench.py puts it in front of the project's URLs)."""

import json
import os
from decimal import Decimal

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from loyalty.urls import urlpatterns as project_urls

_work = None


@csrf_exempt
def bare_purchase(request: HttpRequest) -> JsonResponse:
    global _work
    if _work is None:  # the shop's rules read once per process, as RawWork does
        from bench.purchase_bench import RawWork
        from merchants.models import Merchant

        _work = RawWork(Merchant.objects.get(slug=os.environ["BENCH_SHOP"]))
    body = json.loads(request.body)
    _work.record(int(body["member"]), Decimal(body["amount"]))
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("bench/bare-purchase/", bare_purchase), *project_urls]
