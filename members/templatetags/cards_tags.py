"""QR codes for printed cards: inline SVG drawn by segno, so no imaging library is needed."""

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def qr_svg(text: str) -> SafeString:
    """{{ card.number|qr_svg }}: a scalable QR code of the text, sized by CSS.

    Always a full QR code (segno.make would pick a Micro QR for short text, which phone cameras and
    many scanners do not read).
    """
    svg = segno.make_qr(str(text), error="m").svg_inline(omitsize=True, border=2, svgclass="qr")
    return mark_safe(svg)  # noqa: S308 (segno's own markup; the text is inside path data, not markup)
