"""Who may do what: one table of actions by role, each cell checked through the real URL, and the
same table printed in README.md ("Who may do what"), which a test keeps identical to this one.

A ✓ cell must succeed (2xx, or a redirect that is not to a sign-in page) and, for a write, change
what the action says. A — cell must be refused the way its channel refuses, and change nothing:
console pages answer 403 to staff of too low a role and send everyone else to sign in; the API
answers 401 without a key and 403 to a read-only key's writes; the member's card is a 404 to anyone
but the member.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from campaigns.models import Campaign, Channel, Segment
from members.models import Member
from members.portal import SESSION_KEY as PORTAL_KEY
from members.portal import SESSION_MEMBER, SESSION_MERCHANT
from merchants.actors import Actor
from merchants.middleware import SESSION_KEY
from merchants.models import Alert, ApiKey, ApiScope, AuditLog, Invitation, Merchant, Role, WebhookEndpoint
from merchants.services import alert_raise, api_key_create
from rewards import ledger
from rewards.approvals import adjustment_submit
from rewards.imports.models import ImportJob
from rewards.models import Account, AdjustmentRequest, Purchase, Redemption, Refund, Reward, Tier
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, RewardFactory, StaffFactory

pytestmark = pytest.mark.django_db

ACTORS = ("owner", "manager", "cashier", "member", "anonymous", "api_full", "api_read")
HEADINGS = {
    "owner": "owner",
    "manager": "manager",
    "cashier": "cashier",
    "member": "member",
    "anonymous": "anonymous",
    "api_full": "API key (full)",
    "api_read": "API key (read-only)",
}
STAFF = ("owner", "manager", "cashier")
KEYS = ("api_full", "api_read")


@dataclass
class World:
    """One shop with a member who has points, a purchase and a voucher, and what the actions name."""

    merchant: Merchant
    member: Member
    reward: Reward
    voucher: Redemption
    purchase: Purchase
    segment: Segment
    campaign: Campaign
    revocable: ApiKey
    approval: AdjustmentRequest
    alert: Alert
    staff: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def _program_form(**changes: str) -> dict[str, str]:
    """The program page's form as the browser posts it: 1 point per unit, nothing expires."""
    return {
        "mode": "points",
        "points_per_unit": "1",
        "rounding": "down",
        "min_purchase": "0",
        "max_purchase": "1000000",
        "point_value": "0.01",
        "stamps_per_card": "10",
        "expiry_mode": "never",
        "expiry_months": "12",
        "welcome_bonus": "0",
        "birthday_bonus": "0",
        "referral_bonus": "0",
        "tier_basis": "spend",
        "tier_window_months": "12",
        "paid_tier_reminder_days": "7",
        "voucher_days": "30",
    } | changes


# Who may do what: ✓ allowed, — refused. The columns are ACTORS, in order:
#   owner, manager, cashier, member, anonymous (not signed in), API key (full), API key (read-only).
WHO_MAY = {
    "see the dashboard's numbers": "✓ ✓ — — — — —",
    "change the program's rules": "✓ — — — — — —",
    "manage tiers": "✓ — — — — — —",
    "manage the rewards catalog": "✓ ✓ — — — — —",
    "invite staff (cashiers)": "✓ ✓ — — — — —",
    "create an API key": "✓ — — — — — —",
    "revoke an API key": "✓ — — — — — —",
    "manage webhooks": "✓ — — — — — —",
    "import customers": "✓ ✓ — — — — —",
    "export members": "✓ ✓ — — — — —",
    "enrol a member at the counter": "✓ ✓ ✓ — — — —",
    "record a purchase at the counter": "✓ ✓ ✓ — — — —",
    "redeem a reward": "✓ ✓ ✓ — — — —",
    "void a voucher (a redemption)": "✓ ✓ — — — — —",
    "adjust points by hand": "✓ ✓ — — — — —",
    "refund a purchase": "✓ ✓ — — — — —",
    "create a campaign": "✓ ✓ — — — — —",
    "send a campaign": "✓ ✓ — — — — —",
    "view the activity log": "✓ — — — — — —",
    "download a member's data": "✓ ✓ — — — — —",
    "erase a member's personal data": "✓ — — — — — —",
    "see whom the retention setting would erase": "✓ — — — — — —",
    "approve a points adjustment": "✓ — — — — — —",
    "review an alert": "✓ — — — — — —",
    "a member sees their own card": "— — — ✓ — — —",
    "API: record a purchase": "— — — — — ✓ —",
    "API: read a member": "— — — — — ✓ ✓",
}


def allowed(label: str) -> set[str]:
    return {actor for actor, mark in zip(ACTORS, WHO_MAY[label].split(), strict=True) if mark == "✓"}


@dataclass(frozen=True)
class Action:
    """How a row is tried: the URL that does it, the request, and what it changes.

    `request` gives the path and the data; `effect` reads what the action changes (compared before
    and after: changed when allowed, unchanged when refused); a read has no effect to compare.
    """

    url: str
    request: Callable[[World], tuple[str, dict[str, Any] | None]]
    method: str = "post"
    effect: Callable[[World], object] | None = None


def _at(name: str, *args: Callable[[World], object], data: dict[str, Any] | None = None):
    """A request to `name` with the world's objects as its path's arguments."""
    return lambda w: (reverse(name, args=[arg(w) for arg in args]), data)


def _member(w: World) -> int:
    return w.member.pk


def _campaign_form(w: World) -> tuple[str, dict[str, Any]]:
    fields = {"name": "Hi", "segment": w.segment.pk, "channel": "email", "subject": "Hi", "body": "Hello"}
    return reverse("campaigns:campaign_create"), fields | {"holdout_percent": "10"}


def _customer_file(w: World) -> tuple[str, dict[str, Any]]:
    return reverse("rewards:import"), {"file": SimpleUploadedFile("list.csv", b"name,phone\nSiti,0123456780\n")}


HOW: dict[str, Action] = {
    "see the dashboard's numbers": Action("rewards:kpi_activity", _at("rewards:kpi_activity"), "get"),
    "change the program's rules": Action(
        "rewards:program",
        _at("rewards:program", data=_program_form(welcome_bonus="77")),
        effect=lambda w: ledger.program_for(w.merchant).welcome_bonus,
    ),
    "manage tiers": Action(
        "rewards:tier_create",
        _at("rewards:tier_create", data={"name": "Gold", "threshold": "500", "multiplier": "1.5"}),
        effect=lambda w: Tier.objects.for_merchant(w.merchant).count(),
    ),
    "manage the rewards catalog": Action(
        "rewards:reward_create",
        _at("rewards:reward_create", data={"name": "Mug", "kind": "perk", "points_cost": "50", "is_active": "on"}),
        effect=lambda w: Reward.objects.for_merchant(w.merchant).count(),
    ),
    "invite staff (cashiers)": Action(
        "merchants:staff_invite",
        _at("merchants:staff_invite", data={"email": "new@bubbles.example", "name": "New", "role": Role.CASHIER}),
        effect=lambda w: Invitation.objects.for_merchant(w.merchant).count(),
    ),
    "create an API key": Action(
        "merchants:api_keys",
        _at("merchants:api_keys", data={"name": "Web shop", "scope": ApiScope.FULL}),
        effect=lambda w: ApiKey.objects.for_merchant(w.merchant).count(),
    ),
    "revoke an API key": Action(
        "merchants:api_key_revoke",
        _at("merchants:api_key_revoke", lambda w: w.revocable.pk),
        effect=lambda w: ApiKey.objects.get(pk=w.revocable.pk).revoked_at,
    ),
    "manage webhooks": Action(
        "webhooks:list",
        _at("webhooks:list", data={"url": "https://pos.example/hook", "events": ["member.enrolled"]}),
        effect=lambda w: WebhookEndpoint.objects.for_merchant(w.merchant).count(),
    ),
    "import customers": Action(
        "rewards:import", _customer_file, effect=lambda w: ImportJob.objects.for_merchant(w.merchant).count()
    ),
    "export members": Action(
        "rewards:export_members",
        lambda w: (reverse("rewards:export_members", args=["csv"]), None),
        "get",
        effect=lambda w: AuditLog.objects.for_merchant(w.merchant).filter(action="data.export").count(),
    ),
    "enrol a member at the counter": Action(
        "rewards:counter_enrol",
        _at("rewards:counter_enrol", data={"key": "enrol-1", "first_name": "Nur", "phone": "0123456780"}),
        effect=lambda w: Member.objects.for_merchant(w.merchant).count(),
    ),
    "record a purchase at the counter": Action(
        "rewards:counter_purchase",
        _at("rewards:counter_purchase", _member, data={"key": "buy-1", "amount": "12.50"}),
        effect=lambda w: Purchase.objects.for_merchant(w.merchant).count(),
    ),
    "redeem a reward": Action(
        "rewards:counter_redeem",
        _at("rewards:counter_redeem", _member, lambda w: w.reward.pk, data={"key": "redeem-1"}),
        effect=lambda w: Redemption.objects.for_merchant(w.merchant).count(),
    ),
    "void a voucher (a redemption)": Action(
        "rewards:voucher_void",
        _at("rewards:voucher_void", _member, lambda w: w.voucher.pk, data={"key": "void-1"}),
        effect=lambda w: Redemption.objects.get(pk=w.voucher.pk).status,
    ),
    "adjust points by hand": Action(
        "rewards:adjust",
        _at("rewards:adjust", _member, data={"key": "adjust-1", "points": "5", "reason": "goodwill"}),
        effect=lambda w: Account.objects.get(member=w.member).balance,
    ),
    "refund a purchase": Action(
        "rewards:refund",
        _at("rewards:refund", _member, lambda w: w.purchase.pk, data={"key": "refund-1", "amount": "10"}),
        effect=lambda w: Refund.objects.for_merchant(w.merchant).count(),
    ),
    "create a campaign": Action(
        "campaigns:campaign_create",
        _campaign_form,
        effect=lambda w: Campaign.objects.for_merchant(w.merchant).count(),
    ),
    "send a campaign": Action(
        "campaigns:campaign_start",
        _at("campaigns:campaign_start", lambda w: w.campaign.pk),
        effect=lambda w: Campaign.objects.get(pk=w.campaign.pk).status,
    ),
    "view the activity log": Action("merchants:audit_log", _at("merchants:audit_log"), "get"),
    "download a member's data": Action(
        "members:data_json",
        _at("members:data_json", _member),
        "get",
        effect=lambda w: AuditLog.objects.for_merchant(w.merchant).filter(action="member.export").count(),
    ),
    "erase a member's personal data": Action(
        "members:erase",
        lambda w: (reverse("members:erase", args=[w.member.pk]), {"confirm": str(w.member)}),
        effect=lambda w: Member.objects.get(pk=w.member.pk).erased_at,
    ),
    "see whom the retention setting would erase": Action(
        "rewards:retention_preview",
        lambda w: (reverse("rewards:retention_preview"), {"erase_inactive_years": "2"}),
        "get",
    ),
    "approve a points adjustment": Action(
        "rewards:approval_approve",
        _at("rewards:approval_approve", lambda w: w.approval.pk),
        effect=lambda w: AdjustmentRequest.objects.get(pk=w.approval.pk).status,
    ),
    "review an alert": Action(
        "merchants:alert_review",
        _at("merchants:alert_review", lambda w: w.alert.pk),
        effect=lambda w: Alert.objects.get(pk=w.alert.pk).reviewed_at,
    ),
    "a member sees their own card": Action("portal:home", _at("portal:home"), "get"),
    "API: record a purchase": Action(
        "api:purchases",
        lambda w: (reverse("api:purchases"), {"member": w.member.pk, "amount": "10.00"}),
        effect=lambda w: Purchase.objects.for_merchant(w.merchant).count(),
    ),
    "API: read a member": Action("api:member", _at("api:member", _member), "get"),
}


def _channel(action: Action) -> str:
    if action.url.startswith("api:"):
        return "api"
    if action.url.startswith("portal:"):
        return "portal"
    return "console"


# ---------------------------------------------------------------------------------------------
# The shop, built once for the module (each test runs in a savepoint of its transaction)


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        merchant = MerchantFactory(name="Bubbles Laundromat")
        LocationFactory(merchant=merchant, name="SS2")  # one location: the counter needs no choosing
        staff = {role: StaffFactory(merchant=merchant, role=role) for role in STAFF}
        boss = Actor.for_staff(staff["owner"])
        ledger.program_for(merchant)
        member = MemberFactory(merchant=merchant, first_name="Aminah", phone="+60123456789")
        ledger.points_adjust(member=member, points=200, reason="opening", actor=boss, idempotency_key="open")
        reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=10)
        voucher = ledger.reward_redeem(member=member, reward=reward, actor=boss, idempotency_key="voucher")
        purchase = ledger.purchase_record(member=member, amount=Decimal(40), actor=boss, idempotency_key="buy")
        segment = Segment.objects.create(merchant=merchant, name="Everyone", rules={})
        campaign = Campaign.objects.create(
            merchant=merchant, name="Come back", segment=segment, channel=Channel.EMAIL, subject="Hi", body="Hello"
        )
        revocable, _raw = api_key_create(merchant=merchant, name="Old till", scope=ApiScope.FULL, by=None)
        program = ledger.program_for(merchant)
        program.adjustment_approval_above = 100
        program.save(update_fields=["adjustment_approval_above"])
        approval = adjustment_submit(
            member=member, points=500, reason="lost card", actor=Actor.for_staff(staff["manager"])
        )
        alert = alert_raise(
            merchant_id=merchant.pk, pattern="voids", subject_type="staff", subject_id=staff["cashier"].user_id,
            subject_repr="Cashier", day=date(2026, 12, 1), details={"count": 11, "limit": 10},
        )  # fmt: skip
        keys = {
            "api_full": api_key_create(merchant=merchant, name="Till", scope=ApiScope.FULL, by=None)[1],
            "api_read": api_key_create(merchant=merchant, name="Reports", scope=ApiScope.READ, by=None)[1],
        }
        yield World(
            merchant, member, reward, voucher, purchase, segment, campaign, revocable, approval, alert, staff, keys
        )
        transaction.set_rollback(True)


@pytest.fixture
def world(db, _world) -> World:
    return _world


def client_for(actor: str, world: World) -> Client:
    """The actor's browser or till: a staff session, a member's card session, nobody, or a key."""
    if actor in KEYS:
        return Client(HTTP_AUTHORIZATION=f"Bearer {world.keys[actor]}")
    client = Client()
    if actor == "anonymous":
        return client
    if actor in STAFF:
        client.force_login(world.staff[actor].user)
        values = {SESSION_KEY: world.merchant.pk}
    else:  # the member: this browser opened their card link before
        values = {SESSION_MEMBER: world.member.pk, SESSION_MERCHANT: world.merchant.pk}
        values[PORTAL_KEY] = world.member.portal_key
    session = client.session
    session.update(values)
    session.save()
    return client


def _send(client: Client, action: Action, path: str, data: dict[str, Any] | None, *, api: bool):
    if action.method == "get":
        return client.get(path, data or {})
    if api:
        body = json.dumps(data or {})
        headers = {"Idempotency-Key": f"matrix-{action.url}"}
        return client.post(path, body, content_type="application/json", headers=headers)
    return client.post(path, data or {})


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{reverse(settings.LOGIN_URL)}?")


# ---------------------------------------------------------------------------------------------
# The cells


CELLS = [(label, actor) for label in WHO_MAY for actor in ACTORS]


@pytest.mark.parametrize(("label", "actor"), CELLS, ids=[f"{HOW[label].url}-{actor}" for label, actor in CELLS])
def test_cell(label, actor, world):
    action = HOW[label]
    path, data = action.request(world)
    before = action.effect(world) if action.effect else None

    response = _send(client_for(actor, world), action, path, data, api=_channel(action) == "api")

    status = response.status_code
    after = action.effect(world) if action.effect else None
    if actor in allowed(label):
        assert 200 <= status < 400, f"allowed, but answered {status}"
        assert not _to_sign_in(response), "allowed, but sent to sign in"
        assert after != before or action.effect is None, "allowed, answered, but nothing changed"
        return
    channel = _channel(action)
    if channel == "console" and actor in STAFF:
        assert status == 403
    elif channel == "console":
        assert _to_sign_in(response), f"refused, but answered {status}"
    elif channel == "api":
        assert status == (403 if actor == "api_read" else 401)
    else:
        assert status == 404
    assert after == before


def test_the_member_is_shown_their_own_card(world):
    response = client_for("member", world).get(reverse("portal:home"), follow=True)

    assert response.status_code == 200
    assert response.context["member"] == world.member


# ---------------------------------------------------------------------------------------------
# The README's copy of the table


README = Path(settings.BASE_DIR) / "README.md"
SECTION = "## Who may do what"


def markdown_table() -> list[str]:
    """The table as README.md shows it: one row per action, ✓ where allowed, — where denied."""
    lines = [
        "| action | " + " | ".join(HEADINGS[actor] for actor in ACTORS) + " |",
        "|---|" + "---|" * len(ACTORS),
    ]
    for label in WHO_MAY:
        cells = ["✓" if actor in allowed(label) else "—" for actor in ACTORS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def readme_table() -> list[str]:
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


def test_the_readme_shows_this_table():
    expected = "\n".join(markdown_table())

    assert readme_table() == markdown_table(), f"README.md's {SECTION!r} table should read:\n{expected}"


def test_every_row_is_tried_by_a_request():
    assert set(HOW) == set(WHO_MAY)


def test_every_row_has_one_mark_per_actor():
    assert {label: marks for label, marks in WHO_MAY.items() if len(marks.split()) != len(ACTORS)} == {}
    assert {mark for marks in WHO_MAY.values() for mark in marks.split()} <= {"✓", "—"}
