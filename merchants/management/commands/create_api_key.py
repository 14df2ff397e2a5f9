"""Create an API key for a shop from the command line, e.g. `KEY=$(manage.py create_api_key my-shop)`."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from merchants.models import ApiScope, Merchant
from merchants.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a shop and print it (only the key, so a script can capture it). It is shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("merchant_slug", help="The shop's slug, e.g. bubbles-laundromat")
        parser.add_argument("--name", default="Command line", help="What uses the key, e.g. 'Till 1'")
        parser.add_argument("--scope", choices=ApiScope.values, default=ApiScope.FULL, help="full (default) or read")

    def handle(self, *args, **opts) -> None:
        merchant = Merchant.objects.filter(slug=opts["merchant_slug"]).first()
        if merchant is None:
            raise CommandError(f"No shop has the slug {opts['merchant_slug']!r}.")
        if not opts["name"].strip():
            raise CommandError("Give the key a name, e.g. --name 'Till 1'.")
        _, raw = api_key_create(merchant=merchant, name=opts["name"], scope=opts["scope"], by=None)
        self.stdout.write(raw)  # nothing else on stdout: scripts read the key from it
