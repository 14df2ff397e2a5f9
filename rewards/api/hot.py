"""POST /api/v1/purchases/ the way tills send it, on its hot path: no DRF request, serializer or
compiled ORM query in the way.

A POS posts a purchase for every sale, so this is the API's busiest call. The hot path takes the
plain case: a full-scope key, a JSON body of `member`, `amount` (a string), and optionally `receipt`
and `location`, and a new Idempotency-Key. It counts the request against the key's rate, then
records the purchase through ledger.purchase_record_quick, the idempotency record written in the
purchase's own statement: two statements in all (three when the process has not seen the key in
the last ten seconds). It answers exactly what the full path answers.

Everything else goes the full way (views.Purchases.post), which answers it as before: a missing or
bad key, a read-only key, a body the hot path does not recognise (an amount given as a number, a
member id given as a string), anything invalid, a throttled request, a replayed or conflicting
Idempotency-Key, and the purchases the ledger's quick path leaves to purchase_record. Nothing has
been written by then.
"""

import json
import re

from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from merchants.actors import Actor
from merchants.api import key_used, request_digest, throttle_hit
from merchants.db import insert_statement
from merchants.models import ApiScope, IdempotencyRecord
from merchants.services import api_key_recent
from rewards import ledger
from rewards.models import Purchase

from . import serializers as s

_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")  # what PurchaseCreateSerializer's amount takes as a string
_FIELDS = {"member", "amount", "receipt", "location"}
_OUTPUT = s.PurchaseSerializer().fields  # the full path's own fields format money and time
# The key, remembered for a few seconds, is checked again by the ledger's read: revoking works at once.
_KEY_VALID = "EXISTS (SELECT 1 FROM merchants_apikey k WHERE k.id = %s AND k.merchant_id = a.merchant_id AND k.revoked_at IS NULL)"


def purchase_quick(request: HttpRequest) -> JsonResponse | None:
    """The response to a plain purchase request, or None for the full path to answer."""
    if request.method != "POST" or request.content_type != "application/json":
        return None
    header = request.headers.get("Authorization", "").split()
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if len(header) != 2 or header[0].lower() != "bearer" or not 0 < len(idempotency_key) <= 255:
        return None
    data = _plain_body(request.body)
    if data is None:
        return None
    key = api_key_recent(header[1])
    if key is None or key.scope != ApiScope.FULL or throttle_hit(key.pk) is not None:
        return None
    request.api_counted = True  # the full path, if it comes to that, does not count it twice
    key_used(key)
    merchant = key.merchant
    answer: dict = {}

    def idempotency_record(purchase: Purchase, after: str) -> tuple[str, list]:
        """The answer, stored with the key in the purchase's own statement."""
        with timezone.override(merchant.tzinfo):  # timestamps with the shop's offset
            answer.update(
                id=purchase.pk,
                member=purchase.account.member_id,
                amount=_OUTPUT["amount"].to_representation(purchase.amount),
                points=purchase.points,
                receipt=purchase.receipt,
                location=purchase.location_id,
                refunded_amount=_OUTPUT["refunded_amount"].to_representation(purchase.refunded_amount),
                balance=purchase.account.balance,
                created_at=_OUTPUT["created_at"].to_representation(purchase.created_at),
            )
        digest = request_digest(request.method, request.path, data)
        record = IdempotencyRecord(
            merchant_id=merchant.pk, key=idempotency_key, request_hash=digest, status_code=201, response=answer
        )
        return insert_statement(record, after=after)

    try:
        purchase = ledger.purchase_record_quick(
            merchant=merchant,
            member_id=data["member"],
            amount=data["amount"],
            actor=Actor.for_key(key),
            receipt=data.get("receipt", "").strip(),
            location_id=data.get("location"),
            only_if=(_KEY_VALID, [key.pk]),
            also=idempotency_record,
        )
    except IntegrityError:  # the key was used before: the full path replays or refuses it
        return None
    if purchase is None:
        return None  # nothing written: the full path takes it from here
    response = JsonResponse(answer, status=201, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    response["Allow"] = "POST, OPTIONS"
    return response


def _plain_body(body: bytes) -> dict | None:
    """The parsed body when it is the plain case (see the module's text), else None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.keys() <= _FIELDS:
        return None
    amount, receipt, location = data.get("amount"), data.get("receipt", ""), data.get("location")
    if type(data.get("member")) is not int or not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        return None
    if not isinstance(receipt, str) or "\x00" in receipt or len(receipt.strip()) > 64:
        return None
    if location is not None and type(location) is not int:
        return None
    return data
