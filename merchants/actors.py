"""Who did something: a staff member, an API key, a scheduled job, a campaign or the member.

Ledger entries and audit records carry this, so every line of a history says who or what did it.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import ApiKey, Location, Role, Staff, User


class ActorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    API = "api", _("API key")
    JOB = "job", _("Scheduled job")
    CAMPAIGN = "campaign", _("Campaign")
    MEMBER = "member", _("Member")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Actor:
    kind: str
    user: User | None = None
    staff: Staff | None = None
    label: str = ""  # an API key's prefix, a job's or campaign's name
    location: Location | None = None
    role: Role | None = None  # what an API key or job may do; staff carry their own role

    @classmethod
    def for_staff(cls, staff: Staff, location: Location | None = None) -> "Actor":
        return cls(kind=ActorKind.STAFF, user=staff.user, staff=staff, label=str(staff.user), location=location)

    @classmethod
    def for_key(cls, key: "ApiKey", location: Location | None = None) -> "Actor":
        """An API key acts as a manager of its shop when it may write (full scope), else reads only."""
        role = Role.MANAGER if key.scope == "full" else None
        return cls(kind=ActorKind.API, label=f"API: {key.name} (lk_{key.prefix})"[:120], location=location, role=role)

    @classmethod
    def job(cls, name: str) -> "Actor":
        return cls(kind=ActorKind.JOB, label=name, role=Role.OWNER)

    @classmethod
    def system(cls, label: str = "") -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=label, role=Role.OWNER)

    def can(self, role: Role, merchant_id: int) -> bool:
        """Staff by their role in that shop; keys and jobs by the role they were given."""
        if self.staff is not None:
            return self.staff.merchant_id == merchant_id and self.staff.can(role)
        return self.role is not None and Role(self.role).at_least(role)
