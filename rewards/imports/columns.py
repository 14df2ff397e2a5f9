"""What a column of an uploaded file can mean (its target), and a suggested target for each header.

Targets are fixed keys; their labels are what the owner sees on the mapping screen and what our own
member export writes as headers, so an exported file comes back in with every column mapped.
"""

from django.utils.translation import gettext_lazy as _

IGNORE = ""  # the column is not imported
NOTE = "note"  # kept in the member's notes as "Header: value"

# Every target a column can be mapped to, in the order the mapping screen lists them.
TARGETS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name"),
    "phone": _("Phone"),
    "email": _("Email"),
    "card_number": _("Card number"),
    "birthday": _("Birthday"),
    "language": _("Language"),
    "points": _("Points balance"),
    "stamps": _("Stamps"),
    "tier": _("Tier"),
    "joined": _("Joined"),
    "last_visit": _("Last visit"),
    "total_spent": _("Total spent"),
    "visits": _("Visits"),
    "email_consent": _("Email offers"),
    "sms_consent": _("SMS offers"),
    "consent": _("Offers by email and SMS"),
    "tags": _("Tags"),
    "notes": _("Notes"),
}
