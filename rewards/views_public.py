"""The shop's public "how it works" page (/j/<shop>/how/), written from the program's current rules.

It sits beside members' public sign-up page and shares its base template; no sign-in.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from merchants.models import Merchant

from .selectors_public import public_rules


@require_GET
def how_it_works(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Merchant, slug=slug)
    with timezone.override(shop.tzinfo):  # dates as the shop's calendar has them
        return render(request, "public/how_it_works.html", {"shop": shop, "rules": public_rules(merchant=shop)})
