"""What every API view shares: the shop's key, its scope, throttling, idempotency and errors.

A request carries `Authorization: Bearer lk_…`. The key names the shop: every query of an API view
is scoped by `request.merchant`, so another shop's ids answer 404. Timestamps come back in the
shop's time zone with their offset. Every POST carries an `Idempotency-Key`: a replay gets the
first response again, the same key with another body is a 409 conflict.
"""

import hashlib
import json
import time
from datetime import timedelta
from functools import wraps

from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView, exception_handler

from .actors import Actor
from .models import ApiKey, ApiScope, IdempotencyRecord
from .services import api_key_find

LAST_USED_EVERY = timedelta(minutes=1)  # a key's "last used" is written at most this often
KEEP_IDEMPOTENCY = timedelta(hours=48)  # at least the 24 hours the API promises

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique value per operation (a UUID): sending the same request again with it returns "
    "the first response instead of doing it twice. Kept at least 24 hours.",
)


class KeyUser:
    """What request.user is for an API call: authenticated as the key, staff of nobody."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.pk = None

    def __str__(self) -> str:
        return str(self.key)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as: Authorization: Bearer lk_…"))
        key = api_key_find(header[1].decode(errors="replace"))
        if key is None:
            raise exceptions.AuthenticationFailed(_("This API key is not valid, or it was revoked."))
        key_used(key)
        return KeyUser(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def key_used(key: ApiKey) -> None:
    """Note the key's use, at most once a minute (a write per request would cost every call)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A shop's API key: lk_…, from Settings → API keys."}


class KeyScope(permissions.BasePermission):
    """Read-only keys read; full keys also write."""

    message = _("This API key may only read.")

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return False
        return request.method in permissions.SAFE_METHODS or request.auth.scope == ApiScope.FULL


class KeyThrottle(BaseThrottle):
    """Requests per key (settings: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"]), counted in
    fixed windows on the shared cache: one increment per request whatever the rate, where DRF's
    SimpleRateThrottle reads and rewrites the list of every request's time in the window."""

    def allow_request(self, request, view) -> bool:
        if getattr(request._request, "api_counted", False):  # counted once already (rewards.api.hot)
            return True
        ident = request.auth.pk if isinstance(request.auth, ApiKey) else self.get_ident(request)
        self.retry_after = throttle_hit(ident)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


def throttle_hit(ident: object) -> float | None:
    """Count one request of a key: None within the rate, else the seconds until its window ends."""
    limit, seconds = SimpleRateThrottle.parse_rate(None, api_settings.DEFAULT_THROTTLE_RATES["api_key"])
    now = time.time()
    window = int(now // seconds)
    cache_key = f"throttle:api:{ident}:{window}"
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # the window's first request
        hits = 1 if cache.add(cache_key, 1, seconds + 1) else cache.incr(cache_key)
    return None if hits <= limit else (window + 1) * seconds - now


class ShopApiView(APIView):
    """An API view of one shop: request.merchant and request.actor come from the key."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [KeyScope]
    throttle_classes = [KeyThrottle]

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        request.merchant = request.auth.merchant
        request.actor = Actor.for_key(request.auth)
        timezone.activate(request.merchant.tzinfo)  # timestamps with the shop's offset

    def finalize_response(self, request, response, *args, **kwargs):
        timezone.deactivate()
        return super().finalize_response(request, response, *args, **kwargs)


def request_digest(method: str, path: str, data: object) -> str:
    """What an Idempotency-Key is bound to: the method, the path and the parsed body."""
    body = json.dumps(data, sort_keys=True, default=str) if data else ""
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def idempotent(method):
    """For a POST handler of a ShopApiView: require an Idempotency-Key and answer a replay with the
    stored first response.

    The handler runs first and its answer is stored last, in one transaction: the key's unique
    index makes a second request with the same key (a retry sent while the first still runs) wait
    for the first to commit, then fail to store its own answer, roll its work back and replay the
    first one instead. A request that was refused (an error raised) changes nothing and stores
    nothing: sent again, it is checked again.
    """

    @wraps(method)
    def handler(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            return Response(
                {"detail": _("Send an Idempotency-Key header (a unique value, such as a UUID, up to 255 characters).")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        digest = request_digest(request.method, request.path, request.data)
        try:
            with transaction.atomic():
                response = method(view, request, *args, **kwargs)
                IdempotencyRecord.objects.create(
                    merchant=request.merchant,
                    key=key,
                    request_hash=digest,
                    status_code=response.status_code,
                    response=response.data,
                )
                return response
        except IntegrityError:
            record = IdempotencyRecord.objects.for_merchant(request.merchant).filter(key=key).first()
            if record is None:  # not this key's doing: a real integrity problem
                raise
        if record.request_hash != digest:
            return Response(
                {"detail": _("This Idempotency-Key was already used for a different request.")},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"})

    return handler


def idempotency_purge(*, now=None) -> int:
    """Forget idempotency keys older than KEEP_IDEMPOTENCY."""
    cutoff = (now or timezone.now()) - KEEP_IDEMPOTENCY
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]


def api_exception_handler(exc, context):
    """Django's own errors, as services raise them, answered like DRF's: a message per field."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        if "__all__" in detail:
            detail["detail"] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return exception_handler(exc, context)
