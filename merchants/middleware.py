"""Sets request.merchant and request.staff for signed-in staff, the shop's time zone, and the
language of the console: the person's own choice, else their browser's (LocaleMiddleware's pick)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Staff, User

SESSION_KEY = "merchant_id"


class MerchantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.merchant = None
        request.staff = None
        request.memberships = []
        if request.user.is_authenticated:
            # One small query: the shops this person works for. The session picks the current one.
            memberships = list(
                Staff.objects.filter(user=request.user, is_active=True)
                .select_related("merchant")
                .order_by("merchant__name", "merchant_id")
            )
            chosen = request.session.get(SESSION_KEY)
            staff = next((s for s in memberships if s.merchant_id == chosen), memberships[0] if memberships else None)
            request.memberships = memberships
            if staff is not None:
                request.staff = staff
                request.merchant = staff.merchant
                timezone.activate(staff.merchant.tzinfo)
            _console_language(request)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _console_language(request: HttpRequest) -> None:
    """The language picker (Django's set_language) leaves a cookie; the choice is kept on the
    person, so it follows them to the counter's tablet. Without one, the browser's language.
    (The shop's own language is for what its members read: messages, the poster, the card.)"""
    user = request.user
    picked = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if picked in dict(settings.LANGUAGES) and picked != user.language:
        User.objects.filter(pk=user.pk).update(language=picked)
        user.language = picked
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
