"""Sessions: cookie flags, and an expiry that comes after SESSION_COOKIE_AGE of idleness, not of use."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.sessions import MAX_LAG

from .conftest import production_settings

pytestmark = pytest.mark.django_db

EIGHT_HOURS = 8 * 60 * 60


def _signed_in_client(staff) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("merchants:login"), {"username": staff.user.email, "password": "test-pass-123"})
    assert response.status_code == 302
    return client, response


def _session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_a_session_lasts_eight_idle_hours_by_default():
    assert settings.SESSION_COOKIE_AGE == EIGHT_HOURS


def test_the_idle_time_comes_from_the_environment():
    values = production_settings("SESSION_COOKIE_AGE", SESSION_IDLE_MINUTES="30")

    assert values["SESSION_COOKIE_AGE"] == 30 * 60


def test_the_session_cookie_is_http_only_same_site_lax_and_lives_the_idle_time(owner):
    _, response = _signed_in_client(owner)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == EIGHT_HOURS


def test_cookies_are_secure_in_production():
    values = production_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY")

    assert values == {"SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True}


def test_cookies_are_not_secure_on_a_plain_http_lan():
    values = production_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", HTTPS="0")

    assert values == {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False}


def test_using_the_session_moves_its_expiry_on(owner):
    client, _ = _signed_in_client(owner)
    row = _session_row(client)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(hours=1))  # 7 idle hours

    response = client.get(reverse("merchants:home"))

    assert response.status_code == 200
    expiry = _session_row(client).expire_date
    assert expiry > timezone.now() + timedelta(seconds=EIGHT_HOURS) - timedelta(minutes=1)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == EIGHT_HOURS


def test_a_session_used_minutes_ago_is_not_written_again(owner):
    client, _ = _signed_in_client(owner)
    before = _session_row(client).expire_date

    response = client.get(reverse("merchants:home"))

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert _session_row(client).expire_date == before


def test_a_session_falls_behind_by_at_most_a_few_minutes_before_it_is_moved_on(owner):
    client, _ = _signed_in_client(owner)
    row = _session_row(client)
    stale = timezone.now() + timedelta(seconds=EIGHT_HOURS) - MAX_LAG - timedelta(seconds=5)
    Session.objects.filter(pk=row.pk).update(expire_date=stale)

    client.get(reverse("merchants:home"))

    assert _session_row(client).expire_date > stale + MAX_LAG


def test_a_session_idle_for_longer_signs_the_person_out(owner):
    client, _ = _signed_in_client(owner)
    Session.objects.filter(pk=_session_row(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("merchants:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("merchants:login"))
