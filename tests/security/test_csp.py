"""Content Security Policy: every page sends one, and its nonce is the one on the page's script tags."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from members.portal import card_token
from members.services import member_enroll
from merchants.actors import Actor
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
NONCE = re.compile(r"'nonce-([^']+)'")


def _directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def _assert_scripts_carry_the_nonce(response) -> str:
    directives = _directives(response)
    nonce = NONCE.search(" ".join(directives["script-src"])).group(1)
    tags = SCRIPT_TAG.findall(response.text)
    assert tags, "the page has script tags"
    for tag in tags:
        assert f'nonce="{nonce}"' in tag, tag
        assert " src=" in tag, f"inline script: {tag}"
    return nonce


def test_the_policy_allows_scripts_and_styles_only_from_the_site_or_with_the_nonce(client):
    directives = _directives(client.get(reverse("merchants:login")))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert directives["style-src"][0] == "'self'"
    assert len(directives["script-src"]) == len(directives["style-src"]) == 2  # 'self' and the nonce
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_the_login_page_scripts_carry_the_nonce_of_its_header(client):
    _assert_scripts_carry_the_nonce(client.get(reverse("merchants:login")))


def test_the_console_home_scripts_carry_the_nonce_of_its_header(owner_client):
    response = owner_client.get(reverse("merchants:home"))

    assert response.status_code == 200
    _assert_scripts_carry_the_nonce(response)


def test_each_response_has_a_new_nonce(client):
    first = _assert_scripts_carry_the_nonce(client.get(reverse("merchants:login")))
    second = _assert_scripts_carry_the_nonce(client.get(reverse("merchants:login")))

    assert first != second


def test_the_member_card_page_scripts_carry_the_nonce(merchant, cashier):
    ProgramFactory(merchant=merchant)
    member = member_enroll(
        merchant=merchant, actor=Actor.for_staff(cashier), first_name="Siti", last_name="Aminah", phone="0123456789"
    )

    response = Client().get(reverse("portal:card", args=[card_token(member)]))

    assert response.status_code == 200
    _assert_scripts_carry_the_nonce(response)
    assert " style=" not in response.text  # the barcode and QR code too: style attributes would be refused


def test_the_api_docs_allow_their_run_time_styles_but_no_inline_script(client):
    for name in ("api_docs", "api_redoc"):
        response = client.get(reverse(name))

        assert response.status_code == 200
        directives = _directives(response)
        assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-eval'" not in directives["script-src"]
        assert "fonts.googleapis.com" not in response.text
        _assert_scripts_carry_the_nonce(response)


def test_swagger_ui_gets_its_start_up_script_as_a_file(client):
    response = client.get(reverse("api_docs"), {"script": ""})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.text


def test_htmx_runs_without_eval_and_sets_no_inline_style(client):
    response = client.get(reverse("merchants:login"))

    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", response.text).group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]
