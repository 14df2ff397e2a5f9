"""What the API reads and writes. Money goes as strings in the shop's currency ("12.50"), points as
integers, timestamps as ISO 8601 with the shop's offset."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from members.models import Member
from rewards.models import AdjustmentRequest, PointsEntry, Purchase, Redemption, Refund, Reward, Tier


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name"]


class VoucherSerializer(serializers.ModelSerializer):
    reward = serializers.CharField(source="reward.name")

    class Meta:
        model = Redemption
        fields = ["id", "code", "reward", "status", "expires_at"]


class MemberSerializer(serializers.ModelSerializer):
    """A member with their points: what the POS shows when a customer is found."""

    email = serializers.CharField(read_only=True, help_text="Empty when the member gave none.")
    phone = serializers.CharField(read_only=True, help_text="E.164 (+60123456789); empty when none.")
    language = serializers.CharField(
        read_only=True, help_text="A language code (en, ms, th, uk, hu); empty: the shop's."
    )
    balance = serializers.IntegerField(source="account.balance", default=0, read_only=True)
    tier = TierSerializer(source="account.tier", default=None, read_only=True, allow_null=True)
    lifetime_spend = serializers.DecimalField(
        source="account.lifetime_spend", max_digits=14, decimal_places=2, default="0.00", read_only=True
    )
    purchase_count = serializers.IntegerField(source="account.purchase_count", default=0, read_only=True)
    last_purchase_at = serializers.DateTimeField(
        source="account.last_purchase_at", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Member
        fields = [
            "id", "first_name", "last_name", "phone", "email", "card_number", "birthday", "language",
            "email_consent", "sms_consent", "joined_at", "balance", "tier", "lifetime_spend", "purchase_count",
            "last_purchase_at",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, member: Member) -> dict:
        data = super().to_representation(member)
        if getattr(member, "account", None) is None:  # never bought or earned: an empty account
            data.update(balance=0, lifetime_spend="0.00", purchase_count=0)
        return data


class MemberSearchSerializer(serializers.Serializer):
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    card = serializers.CharField(required=False, allow_blank=True, max_length=40)


class VoucherSearchSerializer(serializers.Serializer):
    code = serializers.CharField(required=False, allow_blank=True, max_length=20)


class MemberDetailSerializer(MemberSerializer):
    vouchers = serializers.SerializerMethodField()

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "vouchers"]
        read_only_fields = fields

    def get_vouchers(self, member: Member) -> list[dict]:
        return VoucherSerializer(self.context["vouchers"], many=True).data


class MemberWriteSerializer(serializers.Serializer):
    """Enrol (POST) or change (PATCH) a member. Phones in local or international form."""

    first_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True)
    card_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email_consent = serializers.BooleanField(required=False)
    sms_consent = serializers.BooleanField(required=False)
    referral_code = serializers.CharField(max_length=12, required=False, allow_blank=True, write_only=True)


class PurchaseSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="account.member_id", read_only=True)
    balance = serializers.IntegerField(source="account.balance", read_only=True)

    class Meta:
        model = Purchase
        fields = ["id", "member", "amount", "points", "receipt", "location", "refunded_amount", "balance", "created_at"]
        read_only_fields = fields


class PurchaseCreateSerializer(serializers.Serializer):
    member = serializers.IntegerField(help_text="The member's id.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    receipt = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    location = serializers.IntegerField(required=False, allow_null=True, help_text="One of the shop's location ids.")


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "purchase", "amount", "points", "shortfall", "reason", "created_at"]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, help_text="Empty: the whole purchase."
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = [
            "id", "name", "description", "kind", "value", "points_cost", "points_step", "min_tier", "stock",
            "valid_from", "valid_until", "is_active",
        ]  # fmt: skip
        read_only_fields = fields


class RedemptionSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="account.member_id", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id", "member", "reward", "code", "points", "discount", "status", "expires_at", "used_at", "voided_at",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class RedemptionCreateSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    reward = serializers.IntegerField()
    points = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Pay-with-points rewards only: points to use."
    )


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "kind",
            "points",
            "balance_after",
            "reason",
            "expires_at",
            "purchase",
            "redemption",
            "created_at",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    points = serializers.IntegerField(help_text="Positive to add, negative to take away; not zero.")
    reason = serializers.CharField(max_length=200)

    def validate_points(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("Give a number of points other than zero."))
        return value


class PendingAdjustmentSerializer(serializers.ModelSerializer):
    """An adjustment above the shop's approval limit: nothing is written to the ledger until an owner
    approves it in the console."""

    class Meta:
        model = AdjustmentRequest
        fields = ["id", "member", "points", "reason", "status", "created_at", "decided_at"]
        read_only_fields = fields
