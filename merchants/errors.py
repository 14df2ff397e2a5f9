"""Error pages that say what happened in the user's language."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else _("You do not have access to this page.")
    return render(request, "403.html", {"message": message}, status=403)
