"""The sign-up poster in the console: a page with the link and its QR code, an A4 PDF and a PNG."""

import re

import pytest
from django.urls import reverse
from fpdf import FPDF

from members import poster

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(monkeypatch) -> list[str]:
    """The lines of text the poster writes: text drawn with an embedded font is stored as glyph
    numbers, so the file itself cannot simply be searched for words."""
    lines: list[str] = []
    write = FPDF.multi_cell

    def spy(self, w, h=None, text="", *args, **kwargs):
        lines.append(text.replace("\n", " "))
        return write(self, w, h, text, *args, **kwargs)

    monkeypatch.setattr(FPDF, "multi_cell", spy)
    return lines


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://loyal.example.com"


def test_the_poster_pdf_is_an_a4_pdf_for_the_shops_sign_up_url(manager_client, merchant, site):
    response = manager_client.get(reverse("poster:pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="signup-poster-{merchant.slug}.pdf"' in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 in points
    # The QR code and the printed address link to the sign-up page.
    assert f"/URI (https://loyal.example.com/j/{merchant.slug}/)".encode() in pdf


def test_the_poster_embeds_its_unicode_font(manager_client):
    pdf = manager_client.get(reverse("poster:pdf")).content

    assert b"/FontFile2" in pdf  # the TrueType program itself is in the file
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSansBold", pdf)  # a subset of the vendored fonts
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSansBook", pdf)


def test_the_poster_prints_the_shop_the_invitation_and_the_short_address(merchant, site, written):
    poster.poster_pdf(merchant)

    assert merchant.name in written
    assert "Join our loyalty program: scan to get your card" in written
    assert f"loyal.example.com/j/{merchant.slug}" in written


def test_the_poster_is_in_the_shops_language_with_its_own_script(merchant, written):
    merchant.language = "uk"
    merchant.name = "Кав'ярня «Ранок»"

    pdf = poster.poster_pdf(merchant)

    assert b"/Lang (uk)" in pdf
    assert "Кав'ярня «Ранок»" in written


def test_a_thai_shops_poster_draws_its_thai_with_the_thai_font(merchant, written):
    merchant.language = "th"
    merchant.name = "ร้านกาแฟบ้านสวน"

    pdf = poster.poster_pdf(merchant)

    assert "ร้านกาแฟบ้านสวน" in written
    assert re.search(rb"/BaseFont /[A-Z]{6}\+Loma", pdf)  # DejaVu has no Thai glyphs: Loma draws them


def test_the_qr_png_is_a_png(manager_client, merchant):
    response = manager_client.get(reverse("poster:png"))

    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert f'filename="signup-qr-{merchant.slug}.png"' in response["Content-Disposition"]


def test_the_poster_page_shows_the_link_the_qr_code_and_the_downloads(manager_client, merchant, site):
    response = manager_client.get(reverse("poster:page"))

    assert response.status_code == 200
    assert f"https://loyal.example.com/j/{merchant.slug}/" in response.text
    assert "<svg" in response.text
    assert reverse("poster:pdf") in response.text
    assert reverse("poster:png") in response.text


def test_managers_see_the_poster_in_the_menu_and_cashiers_do_not(manager_client, cashier_client):
    assert reverse("poster:page") in manager_client.get(reverse("merchants:home")).text
    assert reverse("poster:page") not in cashier_client.get(reverse("merchants:home")).text


@pytest.mark.parametrize("name", ["page", "pdf", "png"])
def test_a_cashier_may_not_open_the_poster(cashier_client, name):
    assert cashier_client.get(reverse(f"poster:{name}")).status_code == 403


@pytest.mark.parametrize("name", ["page", "pdf", "png"])
def test_strangers_are_sent_to_sign_in(client, name):
    response = client.get(reverse(f"poster:{name}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("merchants:login"))


def test_each_shop_gets_its_own_poster(owner_client, merchant, other_merchant):
    pdf = owner_client.get(reverse("poster:pdf")).content

    assert f"/j/{merchant.slug}/".encode() in pdf
    assert f"/j/{other_merchant.slug}/".encode() not in pdf
