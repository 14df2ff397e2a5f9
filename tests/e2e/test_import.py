"""An owner brings their customer list in from a spreadsheet, on a phone, and exports it again."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Member
from rewards.models import Account

from .test_console import sign_in

pytestmark = pytest.mark.e2e

FILE = (
    "Customer name;Mobile;Date of birth;Points balance;Accepts email marketing;Email\n"
    "Siti Aminah;012-345 6789;15/03/1990;120;yes;siti@example.com\n"
    "Bob Tan;not a phone;01/01/1980;5;no;\n"
    "Wei Ling;+60 12-345 6788;31/02/1990;30;no;\n"
).encode("cp1252")


def test_owner_imports_customers_from_a_file_and_fixes_the_bad_rows(open_tab, owner, merchant, tmp_path):
    tab = open_tab("import")
    page = tab.page
    sign_in(page, owner.user.email)
    page.goto("/members/import/")
    tab.check("upload")
    upload = tmp_path / "till-export.csv"
    upload.write_bytes(FILE)
    page.get_by_label("Your customer list").set_input_files(upload)
    page.get_by_role("button", name="Upload and choose columns").click()

    expect(page.get_by_role("heading", name="What is in each column?")).to_be_visible()
    expect(page.get_by_label("Mobile")).to_have_value("phone")
    expect(page.get_by_label("Points balance")).to_have_value("points")
    tab.check("mapping")
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_text("What the import would do")).to_be_visible()
    expect(page.get_by_text("“not a phone” is not a phone number.")).to_be_visible()
    expect(page.get_by_text("“31/02/1990” is not a real date.")).to_be_visible()
    tab.check("checked")
    assert not Member.objects.for_merchant(merchant).exists()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download them to fix (CSV)").click()
    assert "What to fix" in download.value.path().read_text(encoding="utf-8-sig")

    page.get_by_role("button", name="Import the 1 good row").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    tab.check("imported")
    member = Member.objects.for_merchant(merchant).get()
    assert (member.name, member.phone, Account.objects.get(member=member).balance) == (
        "Siti Aminah",
        "+60123456789",
        120,
    )

    page.get_by_role("link", name="See the members").click()
    expect(page).to_have_url(re.compile(r"/members/$"))
    expect(page.get_by_text("Siti Aminah")).to_be_visible()


def test_owner_downloads_the_member_list(open_tab, owner, merchant):
    tab = open_tab("export")
    page = tab.page
    sign_in(page, owner.user.email)
    page.goto("/members/import/")
    page.get_by_role("link", name="Export", exact=True).click()
    tab.check("export")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")
