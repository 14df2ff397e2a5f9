"""API views: thin, each calls the services the counter calls. Every object is looked up within the
key's shop, so another shop's id is a 404 like an id that does not exist."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from members.models import Member, Source
from members.phones import phone_normalize
from members.ratelimit import HOUR, Budget, client_ip, limits_hit, limits_refund, retry_message
from members.services import member_by_card, member_enroll, member_update
from merchants.api import IDEMPOTENCY_HEADER, ShopApiView, idempotent
from merchants.models import Location
from rewards import approvals, ledger
from rewards.models import AdjustmentRequest, Purchase, Redemption, Reward
from rewards.selectors import member_history, voucher_by_code, vouchers_usable

from . import serializers as s
from .hot import purchase_quick


def _members(request):
    return Member.objects.for_merchant(request.merchant).filter(erased_at__isnull=True).select_related("account__tier")


def _member(request, pk) -> Member:
    return get_object_or_404(_members(request).select_related("merchant"), pk=pk)


def _key(request) -> str:
    """The ledger's own idempotency key for this request: a second line of defence."""
    return f"api:{request.auth.pk}:{request.headers['Idempotency-Key']}"[:100]


class Page(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _paginated(view, request, items, serializer_class) -> Response:
    """A page of `items` as `serializer_class` writes them, with count, next and previous."""
    paginator = Page()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def paginated(serializer_class, name: str):
    """The schema of a page of results, as Page answers it."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class Members(ShopApiView):
    @extend_schema(
        summary="Find members",
        operation_id="members_list",
        description="By phone (any format), email or card number; without a filter, every member, newest first.",
        parameters=[s.MemberSearchSerializer],
        responses=paginated(s.MemberSerializer, "MemberPage"),
    )
    def get(self, request):
        members = _members(request).order_by("-joined_at", "-pk")
        query = _valid(s.MemberSearchSerializer, request.query_params)
        if phone := query.get("phone", "").strip():
            try:
                members = members.filter(phone=phone_normalize(phone, region=request.merchant.country))
            except ValidationError:  # not a phone number: nobody has it
                members = members.none()
        if email := query.get("email", "").strip():
            members = members.filter(email__iexact=email)
        if card := query.get("card", "").strip():
            found = member_by_card(merchant=request.merchant, number=card)
            members = members.filter(pk=found.pk if found else None)
        return _paginated(self, request, members, s.MemberSerializer)

    @extend_schema(
        summary="Enrol a member", request=s.MemberWriteSerializer, responses={201: s.MemberDetailSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )  # fmt: skip
    @idempotent
    def post(self, request):
        data = _valid(s.MemberWriteSerializer, request.data)
        member = member_enroll(merchant=request.merchant, actor=request.actor, source=Source.API, **data)
        return Response(_detail(request, member.pk), status=status.HTTP_201_CREATED)


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(request, pk: int) -> dict:
    member = _member(request, pk)
    account = getattr(member, "account", None)
    vouchers = vouchers_usable(account=account) if account else []
    return s.MemberDetailSerializer(member, context={"vouchers": vouchers}).data


class MemberDetail(ShopApiView):
    @extend_schema(summary="A member, with balance, tier and usable vouchers", responses=s.MemberDetailSerializer)
    def get(self, request, pk: int):
        return Response(_detail(request, pk))

    @extend_schema(
        summary="Change a member's details", request=s.MemberWriteSerializer, responses=s.MemberDetailSerializer
    )
    def patch(self, request, pk: int):
        member = _member(request, pk)
        data = _valid(s.MemberWriteSerializer, request.data, partial=True)
        data.pop("referral_code", None)
        data.pop("card_number", None)  # cards change at the counter (a lost card is replaced there)
        current = {
            name: getattr(member, name)
            for name in (
                "first_name",
                "last_name",
                "phone",
                "email",
                "birthday",
                "language",
                "email_consent",
                "sms_consent",
            )
        }
        member_update(member=member, actor=request.actor, source=Source.API, **(current | data))
        return Response(_detail(request, pk))


class MemberHistory(ShopApiView):
    @extend_schema(
        summary="A member's points history, newest first", responses=paginated(s.EntrySerializer, "EntryPage")
    )
    def get(self, request, pk: int):
        member = _member(request, pk)
        account = getattr(member, "account", None)
        entries = member_history(account=account) if account else []
        return _paginated(self, request, entries, s.EntrySerializer)


class Purchases(ShopApiView):
    def dispatch(self, request, *args, **kwargs):
        # A till's plain purchase takes the hot path; whatever it leaves goes the full way (post).
        response = purchase_quick(request)
        return response if response is not None else super().dispatch(request, *args, **kwargs)

    @extend_schema(
        summary="Record a purchase: the member earns its points",
        request=s.PurchaseCreateSerializer, responses={201: s.PurchaseSerializer}, parameters=[IDEMPOTENCY_HEADER],
    )  # fmt: skip
    @idempotent
    def post(self, request):
        data = _valid(s.PurchaseCreateSerializer, request.data)
        # Only what recording needs: the counter's hot path, as lean as the ledger allows.
        member = get_object_or_404(
            Member.objects.for_merchant(request.merchant).filter(erased_at__isnull=True), pk=data["member"]
        )
        member.merchant = request.merchant
        location = None
        if data.get("location") is not None:
            location = Location.objects.for_merchant(request.merchant).filter(pk=data["location"]).first()
            if location is None:
                raise serializers.ValidationError({"location": [_("No location of this shop has this id.")]})
        purchase = ledger.purchase_record(
            member=member, amount=data["amount"], actor=request.actor, receipt=data["receipt"], location=location
        )  # the request's Idempotency-Key guards it (merchants.api.idempotent)
        return Response(s.PurchaseSerializer(purchase).data, status=status.HTTP_201_CREATED)


def _purchase(request, pk: int) -> dict:
    purchase = get_object_or_404(Purchase.objects.for_merchant(request.merchant).select_related("account"), pk=pk)
    return s.PurchaseSerializer(purchase).data


class PurchaseDetail(ShopApiView):
    @extend_schema(summary="A purchase", responses=s.PurchaseSerializer)
    def get(self, request, pk: int):
        return Response(_purchase(request, pk))


class PurchaseRefunds(ShopApiView):
    @extend_schema(
        summary="Refund a purchase, in full or in part: the points it earned are taken back in proportion",
        request=s.RefundCreateSerializer, responses={201: s.RefundSerializer}, parameters=[IDEMPOTENCY_HEADER],
    )  # fmt: skip
    @idempotent
    def post(self, request, pk: int):
        purchase = get_object_or_404(Purchase.objects.for_merchant(request.merchant), pk=pk)
        data = _valid(s.RefundCreateSerializer, request.data)
        amount = data.get("amount") or purchase.refundable
        if amount <= Decimal(0):
            raise serializers.ValidationError({"amount": [_("Give an amount above zero.")]})
        refund = ledger.purchase_refund(
            purchase=purchase, amount=amount, actor=request.actor, reason=data["reason"], idempotency_key=_key(request)
        )
        return Response(s.RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class Rewards(ShopApiView):
    @extend_schema(
        operation_id="rewards_list",
        summary="The rewards catalog",
        responses=paginated(s.RewardSerializer, "RewardPage"),
    )
    def get(self, request):
        rewards = Reward.objects.for_merchant(request.merchant).order_by("points_cost", "name")
        if request.query_params.get("available") in ("1", "true"):
            rewards = rewards.filter(is_active=True)
        return _paginated(self, request, rewards, s.RewardSerializer)


def _redemptions(request):
    return Redemption.objects.for_merchant(request.merchant).select_related("account", "reward")


def _voucher_budgets(request) -> list[Budget]:
    return [
        Budget("voucher-key", str(request.auth.pk), settings.VOUCHER_MISSES_PER_KEY_PER_HOUR, HOUR),
        Budget("voucher-ip", client_ip(request), settings.VOUCHER_MISSES_PER_ADDRESS_PER_HOUR, HOUR),
    ]


class Redemptions(ShopApiView):
    @extend_schema(
        summary="Redeem a reward: the member spends points and gets a voucher",
        request=s.RedemptionCreateSerializer, responses={201: s.RedemptionSerializer}, parameters=[IDEMPOTENCY_HEADER],
    )  # fmt: skip
    @idempotent
    def post(self, request):
        data = _valid(s.RedemptionCreateSerializer, request.data)
        member = _member(request, data["member"])
        reward = get_object_or_404(Reward.objects.for_merchant(request.merchant), pk=data["reward"])
        redemption = ledger.reward_redeem(
            member=member, reward=reward, actor=request.actor, points=data.get("points"),
            idempotency_key=_key(request),
        )  # fmt: skip
        return Response(s.RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Find a voucher by its code",
        operation_id="redemptions_list",
        description="Any case, with or without the dash. Codes not found are limited per key and per client "
        "address (VOUCHER_MISSES_PER_KEY_PER_HOUR, VOUCHER_MISSES_PER_ADDRESS_PER_HOUR): past the limit, "
        "a 429 with Retry-After; found codes do not count.",
        parameters=[s.VoucherSearchSerializer],
        responses={
            200: paginated(s.RedemptionSerializer, "RedemptionPage"),
            429: inline_serializer("TooManyWrongCodes", {"detail": serializers.CharField()}),
        },
    )
    def get(self, request):
        code = _valid(s.VoucherSearchSerializer, request.query_params).get("code", "").strip()
        if not code:
            return _paginated(self, request, _redemptions(request).none(), s.RedemptionSerializer)
        # Every lookup counts against the key's and the client address's budgets of wrong codes, and a
        # found voucher gives its count back: guessing is refused long before it could find one, a
        # till's honest lookups almost never are. A refused lookup is refused before the code is read,
        # so a 429 says nothing about it; every other miss is the same empty page.
        budgets = _voucher_budgets(request)
        if wait := limits_hit(*budgets):
            return Response(
                {"detail": retry_message(wait)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        found = list(voucher_by_code(merchant=request.merchant, code=code).select_related("account", "reward"))
        if found:
            limits_refund(*budgets)
        return _paginated(self, request, found, s.RedemptionSerializer)


class RedemptionDetail(ShopApiView):
    @extend_schema(summary="A voucher", responses=s.RedemptionSerializer)
    def get(self, request, pk: int):
        return Response(s.RedemptionSerializer(get_object_or_404(_redemptions(request), pk=pk)).data)


class RedemptionUse(ShopApiView):
    @extend_schema(
        summary="Mark a voucher used", request=None, responses=s.RedemptionSerializer, parameters=[IDEMPOTENCY_HEADER]
    )
    @idempotent
    def post(self, request, pk: int):
        redemption = get_object_or_404(_redemptions(request), pk=pk)
        used = ledger.voucher_use(redemption=redemption, actor=request.actor, idempotency_key=_key(request))
        return Response(s.RedemptionSerializer(used).data)


class RedemptionVoid(ShopApiView):
    @extend_schema(
        summary="Void an unused voucher: its points go back to the member",
        request=s.VoidSerializer, responses=s.RedemptionSerializer, parameters=[IDEMPOTENCY_HEADER],
    )  # fmt: skip
    @idempotent
    def post(self, request, pk: int):
        redemption = get_object_or_404(_redemptions(request), pk=pk)
        data = _valid(s.VoidSerializer, request.data)
        voided = ledger.voucher_void(redemption=redemption, actor=request.actor, reason=data["reason"])
        return Response(s.RedemptionSerializer(voided).data)


class Adjustments(ShopApiView):
    @extend_schema(
        summary="Add or take away points by hand, with a reason (full-scope keys)",
        description=(
            "Written at once (201, the ledger entry) unless the shop's owner set an approval limit and the "
            "adjustment is above it (more points than the limit, added or taken away): then nothing is written "
            "yet and the answer is 202 with the request, which waits for the owner to approve or decline it "
            "in the console."
        ),
        request=s.AdjustmentSerializer,
        responses={201: s.EntrySerializer, 202: s.PendingAdjustmentSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request):
        data = _valid(s.AdjustmentSerializer, request.data)
        member = _member(request, data["member"])
        done = approvals.adjustment_submit(
            member=member, points=data["points"], reason=data["reason"], actor=request.actor,
            idempotency_key=_key(request),
        )  # fmt: skip
        if isinstance(done, AdjustmentRequest):
            return Response(s.PendingAdjustmentSerializer(done).data, status=status.HTTP_202_ACCEPTED)
        return Response(s.EntrySerializer(done).data, status=status.HTTP_201_CREATED)
