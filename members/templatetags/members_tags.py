"""Members' details as people read them."""

from django import template

from members.phones import phone_display

register = template.Library()


@register.filter
def phone(e164: str, region: str) -> str:
    """{{ member.phone|phone:merchant.country }}: local format at home, international for foreign numbers."""
    return phone_display(e164, region=region)
