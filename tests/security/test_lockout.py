"""Staff sign-in locks after repeated failures, per email and client address, and lifts after the cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import translation

from merchants.models import Role
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"  # UserFactory's
LOCKED = "Too many failed sign-ins to this account."


@pytest.fixture
def staff(merchant):
    return StaffFactory(merchant=merchant, role=Role.OWNER, user__email="owner@bubbles.example")


def _client(address: str = "203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=address)


def _sign_in(client: Client, email: str, password: str, url: str = "") -> object:
    return client.post(url or reverse("merchants:login"), {"username": email, "password": password})


def _fail(client: Client, email: str, times: int, url: str = "") -> None:
    for _ in range(times):
        _sign_in(client, email, "wrong-password", url)


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _age_attempts(minutes: int) -> None:
    """Time travel: the recorded failures happened `minutes` earlier."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_the_limit_is_five_failures_and_the_cool_off_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_failures_still_let_the_right_password_in(staff):
    client = _client()
    _fail(client, staff.user.email, 4)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_after_five_failures_even_the_right_password_is_refused(staff):
    client = _client()
    _fail(client, staff.user.email, 5)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_locked_out_page_says_why_and_for_how_long(staff):
    client = _client()
    _fail(client, staff.user.email, 5)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.text
    assert "paused for 15 minutes" in response.text
    assert f'value="{staff.user.email}"' in response.text  # the form is still there, with the email
    assert reverse("merchants:password_reset") in response.text


def test_the_fifth_failure_itself_shows_the_lockout_message(staff):
    client = _client()
    _fail(client, staff.user.email, 4)

    response = _sign_in(client, staff.user.email, "wrong-password")

    assert response.status_code == 429
    assert LOCKED in response.text


def test_the_lockout_message_is_translated(staff, monkeypatch):
    client = _client()
    _fail(client, staff.user.email, 5)
    # Whatever the catalog says for the message is what the page shows.
    monkeypatch.setattr(translation, "ngettext", lambda singular, plural, number: f"[{number}] {singular[:24]}")

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert "[15] Too many failed sign-ins" in response.text


def test_a_lockout_from_one_address_does_not_lock_the_owner_out_elsewhere(staff):
    _fail(_client("198.51.100.66"), staff.user.email, 6)
    counter = _client("203.0.113.7")

    response = _sign_in(counter, staff.user.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(counter)


def test_failures_for_one_email_do_not_lock_another_account_from_the_same_address(staff, merchant):
    colleague = StaffFactory(merchant=merchant, role=Role.CASHIER)
    client = _client()
    _fail(client, staff.user.email, 5)

    response = _sign_in(client, colleague.user.email, PASSWORD)

    assert response.status_code == 302


def test_failures_count_whatever_the_case_of_the_email(staff):
    client = _client()
    for email in ["OWNER@bubbles.example", "Owner@Bubbles.example", " owner@bubbles.example", "owner@BUBBLES.example"]:
        _sign_in(client, email, "wrong-password")
    _sign_in(client, staff.user.email, "wrong-password")

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 429


def test_the_lock_lifts_after_the_cool_off(staff):
    client = _client()
    _fail(client, staff.user.email, 5)
    _age_attempts(16)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_lock_holds_until_the_cool_off_is_over(staff):
    client = _client()
    _fail(client, staff.user.email, 5)
    _age_attempts(14)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 429


def test_tries_while_locked_do_not_extend_the_lock(staff):
    client = _client()
    _fail(client, staff.user.email, 5)
    _age_attempts(10)
    _fail(client, staff.user.email, 3)  # refused, and not counted
    _age_attempts(6)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 302


def test_a_successful_sign_in_clears_the_count(staff):
    client = _client()
    _fail(client, staff.user.email, 4)
    assert _sign_in(client, staff.user.email, PASSWORD).status_code == 302
    client.post(reverse("merchants:logout"))
    _fail(client, staff.user.email, 4)

    response = _sign_in(client, staff.user.email, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_axes_reset_unlocks_at_once(staff):
    from axes.utils import reset

    client = _client()
    _fail(client, staff.user.email, 5)

    reset(username=staff.user.email)

    assert _sign_in(client, staff.user.email, PASSWORD).status_code == 302


def test_the_admin_login_locks_too(db):
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = _client()
    _fail(client, admin.email, 5, url=reverse("admin:login"))

    response = _sign_in(client, admin.email, PASSWORD, url=reverse("admin:login"))

    assert response.status_code == 429
    assert LOCKED in response.text
    assert not _signed_in(client)
