"""The printable sign-up poster: the shop's name, an invitation and a big QR code to /j/<shop>/.

The PDF embeds its fonts (vendored in static/fonts, so no system font is needed; Thai from Loma) and draws the QR
code as vector squares, sharp at any print size. Text is in the shop's language, not the manager's:
the poster hangs in the shop for its customers.
"""

import logging
from io import BytesIO
from pathlib import Path

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from merchants.models import Merchant

FONTS = Path(settings.BASE_DIR) / "static" / "fonts"
BRAND = (15, 118, 110)  # app.css's --brand
INK = (31, 41, 55)
MUTED = (107, 114, 128)
PAGE_W = 210  # A4, in millimetres
MARGIN = 18
QR_SIZE = 135

# fontTools logs every step of subsetting the embedded font at INFO: noise in the server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def signup_url(merchant: Merchant) -> str:
    """The absolute address of the shop's sign-up page, as printed and encoded in the QR code."""
    return settings.SITE_URL.rstrip("/") + reverse("public:signup", args=[merchant.slug])


def short_url(merchant: Merchant) -> str:
    """The address to print under the code for people who type it: no scheme, no trailing slash."""
    return signup_url(merchant).split("://", 1)[-1].rstrip("/")


def _qr(merchant: Merchant) -> segno.QRCode:
    # Level M survives a scuffed or glossy print and still keeps the code coarse enough to scan from afar.
    return segno.make(signup_url(merchant), error="m", micro=False)


def qr_svg(merchant: Merchant) -> str:
    """The QR code as inline SVG, sized by CSS (no width or height of its own)."""
    return _qr(merchant).svg_inline(scale=4, border=2, omitsize=True, dark="#1f2937", title=signup_url(merchant))


def qr_png(merchant: Merchant) -> bytes:
    """The QR code alone as a PNG, about 1,000 pixels wide: enough for a flyer or a website."""
    out = BytesIO()
    _qr(merchant).save(out, kind="png", scale=24, border=4, dark="#1f2937")
    return out.getvalue()


def _fonts(pdf: FPDF) -> None:
    pdf.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    # DejaVu has no Thai: Loma (TLWG, vendored with its licence) draws it, and HarfBuzz (uharfbuzz)
    # shapes it, stacking vowel and tone marks where they belong.
    pdf.add_font("Loma", "", FONTS / "Loma.ttf")
    pdf.add_font("Loma", "B", FONTS / "Loma-Bold.ttf")
    pdf.set_fallback_fonts(["Loma"])
    pdf.set_text_shaping(True)


def _fit(pdf: FPDF, text: str, *, style: str, largest: float, smallest: float, wrapped: float) -> tuple[str, float]:
    """`text` at the largest size (in points) from `largest` down to `smallest` that fits on one line;
    if none does, at `wrapped` and broken into two lines of about equal width (no lone last word)."""
    room = PAGE_W - 2 * MARGIN - 2 * pdf.c_margin  # multi_cell keeps a small padding on each side
    size = largest
    while size >= smallest:
        pdf.set_font("DejaVu", style, size)
        if pdf.get_string_width(text) <= room:
            return text, size
        size -= 1
    spaces = [i for i, char in enumerate(text) if char == " "]
    if not spaces:  # one long word (or a script written without spaces): multi_cell wraps it
        return text, wrapped
    pdf.set_font("DejaVu", style, wrapped)
    widths = {i: max(pdf.get_string_width(text[:i]), pdf.get_string_width(text[i + 1 :])) for i in spaces}
    cut = min(widths, key=widths.__getitem__)
    # Two lines, shrunk (not below two thirds of `wrapped`) until the longer one fits; past that, a third line.
    size = max(min(wrapped, wrapped * room / widths[cut]), wrapped * 2 / 3)
    return f"{text[:cut]}\n{text[cut + 1 :]}", int(size)


def _write(pdf: FPDF, text: str, size: float, *, style: str = "", link: str = "") -> None:
    """Centred text across the page, wrapping if it must, then the cursor on the next line."""
    pdf.set_font("DejaVu", style, size)
    line = size * 0.3528 * 1.25  # points to millimetres, plus line spacing
    pdf.multi_cell(PAGE_W - 2 * MARGIN, line, text, align="C", link=link or None, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _draw_qr(pdf: FPDF, merchant: Merchant, *, x: float, y: float, size: float) -> None:
    """One filled rectangle per run of dark modules in a row: a small file that prints crisply."""
    matrix = _qr(merchant).matrix
    module = size / len(matrix)
    pdf.set_fill_color(*INK)
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            pdf.rect(x + start * module, y + row * module, (col - start) * module, module, style="F")
    pdf.link(x, y, size, size, signup_url(merchant))


def poster_pdf(merchant: Merchant) -> bytes:
    """An A4 poster: the shop's name, an invitation, the QR code and the short address under it."""
    with translation.override(merchant.language):
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_title(_("Join %(shop)s's loyalty program") % {"shop": merchant.name})
        pdf.set_author(merchant.name)
        pdf.set_lang(merchant.language)
        pdf.set_creator("loyalty")
        pdf.set_auto_page_break(auto=False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        _fonts(pdf)
        pdf.add_page()

        pdf.set_fill_color(*BRAND)
        pdf.rect(0, 0, PAGE_W, 10, style="F")

        pdf.set_y(28)
        pdf.set_text_color(*BRAND)
        _write(pdf, *_fit(pdf, merchant.name, style="B", largest=44, smallest=34, wrapped=32), style="B")

        pdf.ln(5)
        pdf.set_text_color(*INK)
        invitation = _("Join our loyalty program: scan to get your card")
        _write(pdf, *_fit(pdf, invitation, style="", largest=26, smallest=22, wrapped=24))

        qr_y = max(pdf.get_y() + 8, 80)
        _draw_qr(pdf, merchant, x=(PAGE_W - QR_SIZE) / 2, y=qr_y, size=QR_SIZE)

        pdf.set_y(qr_y + QR_SIZE + 5)
        pdf.set_text_color(*MUTED)
        _write(pdf, _("or type this address:"), size=14)
        address = short_url(merchant)
        pdf.set_text_color(*INK)
        address_line = _fit(pdf, address, style="B", largest=22, smallest=12, wrapped=12)
        _write(pdf, *address_line, style="B", link=signup_url(merchant))

        pdf.set_y(268)
        pdf.set_text_color(*MUTED)
        _write(pdf, _("Free. No app to install: your card opens in your phone's browser."), size=13)
        return bytes(pdf.output())
