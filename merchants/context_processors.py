"""Template context for the console shell: current shop, role flags for the navigation."""

from django.http import HttpRequest

from .models import Role


def console(request: HttpRequest) -> dict:
    staff = getattr(request, "staff", None)
    return {
        "merchant": getattr(request, "merchant", None),
        "staff": staff,
        "memberships": getattr(request, "memberships", []),
        "is_owner": bool(staff and staff.can(Role.OWNER)),
        "is_manager": bool(staff and staff.can(Role.MANAGER)),
    }
