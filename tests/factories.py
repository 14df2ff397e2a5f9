"""factory_boy factories; related objects stay on the same shop."""

from decimal import Decimal

import factory
from django.utils import timezone

from members.models import Member
from merchants.models import Invitation, Location, Merchant, Role, Staff, User
from rewards.models import Program, Reward, Tier


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password("test-pass-123")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    country = "MY"
    currency = "MYR"
    timezone = "Asia/Kuala_Lumpur"
    language = "en"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Branch {n}")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CASHIER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    merchant = factory.SubFactory(MerchantFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.CASHIER
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


class MemberFactory(factory.django.DjangoModelFactory):
    """A member row only; members enrolled through members.services.member_enroll also get an account."""

    class Meta:
        model = Member

    merchant = factory.SubFactory(MerchantFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+6012{n:07d}")
    card_number = factory.Sequence(lambda n: f"C{n:09d}")
    referral_code = factory.Sequence(lambda n: f"R{n:05d}")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    threshold = Decimal(500)
    multiplier = Decimal("1.5")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    points_cost = 100


class ProgramFactory(factory.django.DjangoModelFactory):
    """A shop's rules: 1 point per unit of currency, rounded down, points that never expire."""

    class Meta:
        model = Program

    merchant = factory.SubFactory(MerchantFactory)
