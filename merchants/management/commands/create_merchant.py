"""Set up a real shop and its owner from the command line."""

import getpass
import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from merchants import locales
from merchants.forms import MerchantForm
from merchants.models import User
from merchants.services import merchant_create


class Command(BaseCommand):
    help = "Create a shop and its owner. The owner's password is asked for, or generated and printed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The shop's name, e.g. 'Kedai Kopi Ah Seng'")
        parser.add_argument("owner_email", help="The owner's email; an existing account is reused")
        parser.add_argument("--country", required=True, help="ISO 3166 code, e.g. MY, TH, UA, HU")
        parser.add_argument("--currency", help="ISO 4217 code; defaults to the country's currency")
        parser.add_argument("--timezone", help="e.g. Asia/Bangkok; defaults to the country's usual zone")
        parser.add_argument("--language", help="en, ms, th, uk or hu; defaults to the country's language")
        parser.add_argument("--owner-name", default="")
        parser.add_argument(
            "--generate-password", action="store_true", help="print a random password instead of asking"
        )

    def handle(self, *args, **opts) -> None:
        defaults = locales.country_defaults(opts["country"].upper())
        data = {
            "name": opts["name"],
            "country": opts["country"].upper(),
            "currency": (opts["currency"] or defaults["currency"]).upper(),
            "timezone": opts["timezone"] or defaults["timezone"],
            "language": opts["language"] or defaults["language"],
        }
        form = MerchantForm(data)  # the same checks as the sign-up page
        if not form.is_valid():
            raise CommandError("; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items()))
        email = opts["owner_email"].lower()
        with transaction.atomic():
            owner = User.objects.filter(email__iexact=email).first()
            password = None
            if owner is None:
                password = self._password(opts, email)
                owner = User.objects.create_user(email, password, name=opts["owner_name"])
            merchant = merchant_create(owner=owner, **form.cleaned_data)
        self.stdout.write(self.style.SUCCESS(f"Created {merchant.name} (slug {merchant.slug}) owned by {owner.email}."))
        if password and opts["generate_password"]:
            self.stdout.write(f"Owner password: {password}")

    def _password(self, opts: dict, email: str) -> str:
        if opts["generate_password"]:
            return secrets.token_urlsafe(12)
        password = getpass.getpass(f"Password for {email}: ")
        try:
            password_validation.validate_password(password, User(email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        return password
