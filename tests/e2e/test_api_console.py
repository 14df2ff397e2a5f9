"""The owner connects a POS on a phone: creates an API key (shown once) that the API accepts,
registers a webhook and sees its secret, and opens the API docs, served with no CDN."""

import pytest
from playwright.sync_api import expect

from tests.factories import ProgramFactory

from .test_console import sign_in

pytestmark = pytest.mark.e2e


def test_owner_creates_a_key_and_a_webhook_and_reads_the_docs(open_tab, owner, merchant):
    ProgramFactory(merchant=merchant)
    tab = open_tab("api")
    page = tab.page
    sign_in(page, owner.user.email)

    page.goto("/shop/api-keys/")
    page.get_by_label("Name", exact=True).fill("Front till")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-api-key").input_value()
    assert key.startswith("lk_")
    tab.check("key-created")
    answer = page.request.get("/api/v1/rewards/", headers={"Authorization": f"Bearer {key}"})
    assert answer.status == 200
    page.goto("/shop/api-keys/")
    expect(page.locator("#new-api-key")).to_have_count(0)  # shown once
    expect(page.get_by_text("Front till", exact=True)).to_be_visible()

    page.goto("/shop/webhooks/")
    page.get_by_label("URL").fill("https://pos.example.com/hooks")
    page.get_by_label("A purchase was recorded").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_text("https://pos.example.com/hooks").first).to_be_visible()
    tab.check("webhook")

    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui")).to_be_visible()
    tab.check("docs")  # loaded nothing from another host
