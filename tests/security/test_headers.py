"""Security headers on every page, HTTPS settings in production, and a clean `check --deploy`."""

import pytest
from django.urls import reverse

from .conftest import production_env, production_settings, run_python

pytestmark = pytest.mark.django_db


def test_pages_forbid_framing_sniffing_and_referrers_to_other_sites(client):
    response = client.get(reverse("merchants:login"))

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_https_responses_carry_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True

    response = client.get(reverse("merchants:login"), secure=True)

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_sends_hsts_and_redirects_plain_http():
    values = production_settings(
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF"
    )

    assert values == {
        "SECURE_HSTS_SECONDS": 60 * 60 * 24 * 365,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
    }


def test_development_sends_no_hsts():
    values = production_settings("SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", DEBUG="1")

    assert values == {"SECURE_HSTS_SECONDS": 0, "SESSION_COOKIE_SECURE": False}


def test_check_deploy_finds_nothing_with_production_settings():
    result = run_python(production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_check_deploy_warns_that_rate_limits_need_redis():
    env = production_env()
    del env["REDIS_URL"]

    result = run_python(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 1
    assert "members.W001" in result.stderr
