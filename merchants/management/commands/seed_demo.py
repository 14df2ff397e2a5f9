"""Create the demo shop "Bubbles Laundromat" with an owner and a cashier, once."""

from django.core.management.base import BaseCommand
from django.db import transaction

from merchants.models import Merchant, Role, Staff, User
from merchants.services import location_create, merchant_create

DEMO_SLUG = "bubbles-laundromat"
DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 (a published demo login, only ever created by this command)
OWNER_EMAIL = "owner@demo.example"
CASHIER_EMAIL = "cashier@demo.example"


class Command(BaseCommand):
    help = "Create the demo shop Bubbles Laundromat (Malaysia) with demo logins. Does nothing if it exists."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if Merchant.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("The demo shop already exists.")
        else:
            owner = User.objects.create_user(OWNER_EMAIL, DEMO_PASSWORD, name="Aisyah Rahman")
            merchant = merchant_create(
                owner=owner,
                name="Bubbles Laundromat",
                country="MY",
                currency="MYR",
                timezone="Asia/Kuala_Lumpur",
                language="en",
            )
            assert merchant.slug == DEMO_SLUG, merchant.slug  # noqa: S101 (the demo data relies on it)
            owner_staff = Staff.objects.get(merchant=merchant, user=owner)
            location_create(
                merchant=merchant, by=owner_staff, name="Bubbles SS2", address="Jalan SS2/24, Petaling Jaya"
            )
            cashier = User.objects.create_user(CASHIER_EMAIL, DEMO_PASSWORD, name="Wei Ling Tan")
            Staff.objects.create(merchant=merchant, user=cashier, role=Role.CASHIER)
            self.stdout.write(self.style.SUCCESS("Created the demo shop Bubbles Laundromat."))
        self.stdout.write(f"  owner:   {OWNER_EMAIL} / {DEMO_PASSWORD}\n  cashier: {CASHIER_EMAIL} / {DEMO_PASSWORD}")
