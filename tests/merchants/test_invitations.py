"""Inviting staff by email: the link works once, says why when it cannot, and joins the right shop."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.emails import invitation_email_send
from merchants.middleware import SESSION_KEY
from merchants.models import Invitation, Role, Staff, User, token_hash
from tests.factories import InvitationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

JOIN = {"name": "Wei Ling", "password1": "laundry-day-42", "password2": "laundry-day-42"}


def _invite(client, capture, **data):
    with capture(execute=True):
        return client.post(reverse("merchants:staff_invite"), {"name": "", "role": Role.CASHIER} | data)


def _accept_path(email) -> str:
    match = re.search(r"https?://\S+(/invite/[\w-]+/)", email.body)
    assert match, email.body
    return match.group(1)


@pytest.fixture
def invited(owner_client, mailoutbox, django_capture_on_commit_callbacks):
    """An owner invited weiling@example.com as a manager; returns the link's path from the email."""
    _invite(owner_client, django_capture_on_commit_callbacks, email="weiling@example.com", role=Role.MANAGER)
    return _accept_path(mailoutbox[-1])


def _pending(merchant, email="weiling@example.com", role=Role.CASHIER, **fields) -> tuple[Invitation, str]:
    token = f"token-for-{email}"
    invitation = InvitationFactory(merchant=merchant, email=email, role=role, token_hash=token_hash(token), **fields)
    return invitation, reverse("merchants:invitation_accept", args=[token])


def test_inviting_sends_one_email_to_the_invitee(owner_client, mailoutbox, django_capture_on_commit_callbacks):
    _invite(owner_client, django_capture_on_commit_callbacks, email="weiling@example.com")

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["weiling@example.com"]
    assert mailoutbox[0].subject == "You are invited to join Bubbles Laundromat"


def test_invitation_email_holds_a_link_to_accept(owner_client, mailoutbox, django_capture_on_commit_callbacks):
    _invite(owner_client, django_capture_on_commit_callbacks, email="weiling@example.com")

    assert f"{settings.SITE_URL.rstrip('/')}/invite/" in mailoutbox[0].body


def test_inviting_stores_a_pending_invitation_without_the_token(
    owner_client, merchant, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(owner_client, django_capture_on_commit_callbacks, email="WeiLing@Example.com", role=Role.MANAGER)

    invitation = Invitation.objects.for_merchant(merchant).get()
    token = _accept_path(mailoutbox[0]).split("/")[-2]
    assert (invitation.email, invitation.role, invitation.is_pending) == ("weiling@example.com", Role.MANAGER, True)
    assert invitation.token_hash == token_hash(token) != token


def test_invitation_link_shows_the_join_form(client, invited):
    response = client.get(invited)

    assert response.status_code == 200
    assert "Join Bubbles Laundromat" in response.text
    assert set(response.context["form"].fields) == {"name", "password1", "password2"}


def test_joining_creates_the_user_with_the_password(client, invited):
    client.post(invited, JOIN)

    user = User.objects.get(email="weiling@example.com")
    assert user.name == "Wei Ling"
    assert user.check_password("laundry-day-42")


def test_joining_adds_the_user_to_the_staff_with_the_invited_role(client, invited, merchant):
    client.post(invited, JOIN)

    staff = Staff.objects.for_merchant(merchant).get(user__email="weiling@example.com")
    assert (staff.role, staff.is_active) == (Role.MANAGER, True)


def test_joining_signs_in_and_lands_on_the_shops_home(client, invited, merchant):
    response = client.post(invited, JOIN)

    assert response.url == reverse("merchants:home")
    assert get_user(client).email == "weiling@example.com"
    assert client.session[SESSION_KEY] == merchant.pk


def test_joining_marks_the_invitation_accepted(client, invited, merchant):
    client.post(invited, JOIN)

    invitation = Invitation.objects.for_merchant(merchant).get()
    assert invitation.accepted_at is not None
    assert not invitation.is_pending


def test_joining_with_a_weak_password_is_refused(client, invited):
    response = client.post(invited, JOIN | {"password1": "password", "password2": "password"})

    assert "This password is too common." in response.text
    assert not User.objects.filter(email="weiling@example.com").exists()


def test_using_the_link_twice_says_it_was_used_and_creates_nothing(client, invited):
    client.post(invited, JOIN)
    users, staff = User.objects.count(), Staff.objects.count()

    response = Client().post(invited, JOIN | {"name": "Someone Else"})

    assert response.status_code == 410
    assert "This invitation has already been used." in response.text
    assert (User.objects.count(), Staff.objects.count()) == (users, staff)
    assert User.objects.get(email="weiling@example.com").name == "Wei Ling"


def test_expired_link_says_it_expired(client, merchant):
    _invitation, path = _pending(merchant, expires_at=timezone.now() - timedelta(minutes=1))

    response = client.post(path, JOIN)

    assert response.status_code == 410
    assert "This invitation has expired." in response.text
    assert not User.objects.filter(email="weiling@example.com").exists()


def test_revoked_link_says_it_was_withdrawn(client, merchant):
    _invitation, path = _pending(merchant, revoked_at=timezone.now())

    response = client.post(path, JOIN)

    assert response.status_code == 410
    assert "This invitation was withdrawn." in response.text
    assert not User.objects.filter(email="weiling@example.com").exists()


def test_made_up_link_says_it_is_not_valid(client, merchant):
    response = client.get(reverse("merchants:invitation_accept", args=["made-up-token"]))

    assert response.status_code == 410
    assert "This invitation link is not valid." in response.text


def test_withdrawing_closes_the_link(owner_client, client, invited, merchant):
    invitation = Invitation.objects.for_merchant(merchant).get()

    owner_client.post(reverse("merchants:invitation_revoke", args=[invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "This invitation was withdrawn." in client.get(invited).text


def test_resending_sends_a_new_link(owner_client, invited, merchant, mailoutbox, django_capture_on_commit_callbacks):
    invitation = Invitation.objects.for_merchant(merchant).get()

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("merchants:invitation_resend", args=[invitation.pk]))

    assert len(mailoutbox) == 2
    assert _accept_path(mailoutbox[1]) != invited


def test_resending_stops_the_old_link(owner_client, client, invited, merchant, django_capture_on_commit_callbacks):
    invitation = Invitation.objects.for_merchant(merchant).get()

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("merchants:invitation_resend", args=[invitation.pk]))

    response = client.post(invited, JOIN)
    assert response.status_code == 410
    assert "This invitation link is not valid." in response.text
    assert not User.objects.filter(email="weiling@example.com").exists()


def test_resent_link_lets_the_invitee_join(
    owner_client, client, invited, merchant, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = Invitation.objects.for_merchant(merchant).get()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("merchants:invitation_resend", args=[invitation.pk]))

    client.post(_accept_path(mailoutbox[1]), JOIN)

    assert Staff.objects.for_merchant(merchant).filter(user__email="weiling@example.com").exists()


def test_resending_a_withdrawn_invitation_is_refused(owner_client, merchant, mailoutbox):
    invitation, _path = _pending(merchant, revoked_at=timezone.now())

    response = owner_client.post(reverse("merchants:invitation_resend", args=[invitation.pk]), follow=True)

    assert "This invitation is no longer open." in response.text
    assert Invitation.objects.get(pk=invitation.pk).token_hash == invitation.token_hash
    assert mailoutbox == []


def test_inviting_the_same_address_again_withdraws_the_first_invitation(
    owner_client, merchant, django_capture_on_commit_callbacks
):
    first, _path = _pending(merchant)

    _invite(owner_client, django_capture_on_commit_callbacks, email="weiling@example.com")

    first.refresh_from_db()
    assert first.revoked_at is not None
    assert Invitation.objects.for_merchant(merchant).filter(revoked_at__isnull=True).count() == 1


def test_invitation_for_an_existing_account_asks_to_sign_in(client, merchant):
    UserFactory(email="weiling@example.com")
    _invitation, path = _pending(merchant)

    response = client.get(path)

    assert "You already have an account with this address." in response.text
    assert f"{reverse('merchants:login')}?next=" in response.text


def test_posting_a_new_password_for_an_existing_account_is_refused(client, merchant):
    user = UserFactory(email="weiling@example.com")
    invitation, path = _pending(merchant)

    response = client.post(path, JOIN)

    assert "You already have an account: sign in to accept." in response.text
    assert not Staff.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.check_password("laundry-day-42")
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_signed_in_invitee_sees_an_accept_button(client, merchant):
    client.force_login(UserFactory(email="weiling@example.com"))
    _invitation, path = _pending(merchant)

    response = client.get(path)

    assert response.context["form"] is None
    assert "Accept invitation" in response.text


def test_signed_in_invitee_accepts_and_joins(client, merchant, other_merchant):
    user = UserFactory(email="weiling@example.com")
    StaffFactory(merchant=other_merchant, user=user, role=Role.OWNER)
    client.force_login(user)
    invitation, path = _pending(merchant, role=Role.MANAGER)

    response = client.post(path)

    assert response.url == reverse("merchants:home")
    assert Staff.objects.for_merchant(merchant).get(user=user).role == Role.MANAGER
    assert client.session[SESSION_KEY] == merchant.pk
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_accepting_brings_back_a_former_staff_members_access(client, merchant):
    former = StaffFactory(merchant=merchant, user__email="weiling@example.com", role=Role.CASHIER, is_active=False)
    client.force_login(former.user)
    _invitation, path = _pending(merchant, role=Role.MANAGER)

    client.post(path)

    former.refresh_from_db()
    assert (former.role, former.is_active) == (Role.MANAGER, True)


def test_accepting_while_signed_in_as_someone_else_is_refused(client, merchant):
    stranger = UserFactory(email="stranger@example.com")
    client.force_login(stranger)
    invitation, path = _pending(merchant)

    response = client.post(path)

    assert response.status_code == 200
    assert "This invitation is for weiling@example.com. Sign in with that address to accept it." in response.text
    assert not Staff.objects.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_inviting_someone_already_on_the_staff_is_a_form_error(
    owner_client, cashier, mailoutbox, django_capture_on_commit_callbacks
):
    response = _invite(owner_client, django_capture_on_commit_callbacks, email=cashier.user.email.upper())

    assert response.status_code == 200
    assert f"{cashier.user.email} already works in this shop." in response.context["form"].non_field_errors()
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_inviting_a_former_staff_member_is_allowed(
    owner_client, merchant, mailoutbox, django_capture_on_commit_callbacks
):
    former = StaffFactory(merchant=merchant, is_active=False)

    _invite(owner_client, django_capture_on_commit_callbacks, email=former.user.email)

    assert Invitation.objects.for_merchant(merchant).get().email == former.user.email
    assert len(mailoutbox) == 1


def test_email_is_not_sent_for_an_invitation_withdrawn_before_sending(merchant, mailoutbox):
    invitation, _path = _pending(merchant, revoked_at=timezone.now())

    sent = invitation_email_send(merchant_id=merchant.pk, invitation_id=invitation.pk, token="token")

    assert sent is False
    assert mailoutbox == []
