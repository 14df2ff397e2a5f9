"""The console speaks the person's own language, chosen once and kept on them; without a choice,
their browser's."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_console_is_in_the_persons_own_language(cashier_client, cashier):
    cashier.user.language = "th"
    cashier.user.save()
    assert html_lang(cashier_client.get(reverse("rewards:counter"))) == "th"


def test_without_a_choice_it_is_in_the_browsers_language(cashier_client, merchant):
    merchant.language = "hu"  # the shop's language is for its members, not for its staff's screens
    merchant.save()
    response = cashier_client.get(reverse("rewards:counter"), headers={"accept-language": "ms,en;q=0.5"})
    assert html_lang(response) == "ms"


def test_a_language_picked_is_kept_on_the_person(cashier_client, cashier, merchant):
    merchant.language = "ms"
    merchant.save()
    cashier_client.post(reverse("set_language"), {"language": "uk", "next": "/"})
    assert html_lang(cashier_client.get(reverse("rewards:counter"))) == "uk"
    cashier.user.refresh_from_db()
    assert cashier.user.language == "uk"
