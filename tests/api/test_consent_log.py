"""Consent given or withdrawn through the API is logged like every other path, with the API as source."""

import pytest

from members.models import ConsentEvent

pytestmark = pytest.mark.django_db


def test_enrolling_with_consent_through_the_api_logs_it(api):
    body = api.post("/api/v1/members/", {"first_name": "Ben", "phone": "0129876543", "sms_consent": True}).json()

    events = ConsentEvent.objects.filter(member_id=body["id"])
    assert [(e.channel, e.granted, e.source) for e in events] == [("sms", True, "api")]


def test_withdrawing_consent_through_the_api_logs_it(api):
    body = api.post("/api/v1/members/", {"first_name": "Ben", "email": "ben@example.com", "email_consent": True}).json()

    api.patch(f"/api/v1/members/{body['id']}/", {"email_consent": False})

    latest = ConsentEvent.objects.filter(member_id=body["id"]).first()
    assert (latest.channel, latest.granted, latest.source) == ("email", False, "api")
