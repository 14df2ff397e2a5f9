"""Every URL of the project, tried by shop B with shop A's objects: nothing of A's is found, shown or changed.

Shop A ("Charlie's Cafe") holds one of everything a URL can name: a member with a purchase, a voucher
and a physical card, a reward, a tier, a location, staff, an invitation, an API key, a webhook and a
delivery, a customer import, a segment and campaigns, a survey answer, and its dashboard counted.
Shop B ("Bubbles Laundromat") holds the same, so a URL with two ids is also tried with B's parent and
A's child. B's owner, signed in (once A's staff, deactivated, with a session that still names A), and
B's full-scope API key then request every URL pattern:

- a pattern that names an object (an id in the path) gets A's ids and must answer 404, change none
  of A's rows and show none of A's private strings (A_SECRETS);
- a member's private link (a signed token) gets A's member's id, or one of A's tokens made for
  another purpose, and opens nothing;
- a shop's public page (a slug) gets A's slug: A's public page, without A's private strings;
- a pattern without an object id must answer (no 4xx or 5xx unless stated) without A's private
  strings, even when the query names them (a search for A's member, a voucher code, a card number);
- the admin is for platform operators: every one of its URLs sends a shop owner to its login.

Forms of B's that name A's ids (IN_FORMS) are refused. The tables name every pattern: a new URL
fails `test_every_url_pattern_is_swept` until it is added to one of them.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from campaigns.models import Campaign, CampaignStatus, Channel, Message, Segment, SurveyAnswer
from campaigns.survey import SALT as SURVEY_SALT
from campaigns.survey import survey_token
from members.models import Card, Member
from members.portal import SALT as CARD_SALT
from members.portal import card_token, unsubscribe_token
from members.services import card_link, cards_create_batch
from merchants import webhooks
from merchants.actors import Actor
from merchants.middleware import SESSION_KEY
from merchants.models import ApiScope, Invitation, Merchant, Role, WebhookDelivery
from merchants.services import alert_raise, api_key_create
from rewards import ledger
from rewards.approvals import adjustment_submit
from rewards.counter import LOCATION as COUNTER_LOCATION
from rewards.imports.services import import_upload
from rewards.kpis.rollups import rollups_refresh
from rewards.models import Redemption
from tests.factories import (
    InvitationFactory,
    LocationFactory,
    MemberFactory,
    MerchantFactory,
    RewardFactory,
    StaffFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

# Shop A's strings that only shop A's own staff may ever see. Public pages of A may show A's name,
# rewards and locations; none of these.
A_SECRETS = {
    "member name": "Zenobia Quillfeather",
    "member email": "zenobia.q@charlie.example",
    "member phone": "+66 81 234 5678",
    "member phone (E.164)": "+66812345678",
    "card number": "ZQCARD7788",
    "staff email": "somchai.staff@charlie.example",
    "staff name": "Somchai Hiddenname",
    "invitation email": "niran.invitee@charlie.example",
    "webhook url": "https://hooks.charlie.example/secret-path",
    "api key name": "Charlie secret till",
    "import file": "charlie-private-list.csv",
    "imported customer": "Wiroj Private-Import",
    "segment name": "Charlie whales",
    "campaign name": "Charlie secret promo",
    "reward name": "Charlie free latte",
    "tier name": "Charlie Platinum",
    "location name": "Silom",
    "survey comment": "Charlie's croissants are secretly stale",
}
# What A's public pages (sign-up, how it works, member sign-in) show by design.
A_PUBLIC = {"reward name", "tier name", "location name"}


@dataclass
class Shop:
    """A shop and the objects its URLs name, by the role they play in a URL."""

    merchant: Merchant
    ids: dict[str, Any] = field(default_factory=dict)
    member: Member | None = None
    voucher_code: str = ""


def _shop(merchant: Merchant, *, names: dict[str, str] | None = None, phone: str, email: str, card: str) -> Shop:
    """One of everything a URL can name, in `merchant`; `names` makes A's strings recognisable."""
    names = names or {}
    owner = StaffFactory(merchant=merchant, role=Role.OWNER)
    clerk = StaffFactory(
        merchant=merchant,
        role=Role.CASHIER,
        user__email=names.get("staff email", f"clerk-{merchant.slug}@example.com"),
        user__name=names.get("staff name", f"Clerk {merchant.slug}"),
    )
    actor = Actor.for_staff(owner, location=merchant.locations.first())
    ledger.program_for(merchant)
    first, _sep, last = names.get("member name", f"Member {merchant.slug}").partition(" ")
    member = MemberFactory(
        merchant=merchant, first_name=first, last_name=last, phone=phone, email=email, enrolled_by=clerk.user
    )
    reward = RewardFactory(merchant=merchant, name=names.get("reward name", f"Reward {merchant.slug}"), points_cost=10)
    tier = TierFactory(merchant=merchant, name=names.get("tier name", f"Tier {merchant.slug}"), is_paid=True, fee=50)
    purchase = ledger.purchase_record(member=member, amount=Decimal(100), actor=actor, idempotency_key="sweep-buy")
    voucher = ledger.reward_redeem(member=member, reward=reward, actor=actor, idempotency_key="sweep-redeem")
    # Batches are named by the second they were made in: B's gets a name of its own, so A's names only A's.
    batch = cards_create_batch(merchant=merchant, count=1, actor=actor)[0].batch
    if not names:
        batch = f"{batch}-{merchant.slug}"
        Card.objects.for_merchant(merchant).update(batch=batch)
    physical = card_link(member=member, number=card, actor=actor)
    invitation = InvitationFactory(
        merchant=merchant, email=names.get("invitation email", f"inv-{merchant.slug}@x.example")
    )
    key, _raw = api_key_create(
        merchant=merchant, name=names.get("api key name", f"Till {merchant.slug}"), scope=ApiScope.FULL, by=None
    )
    endpoint = webhooks.endpoint_save(
        merchant=merchant,
        url=names.get("webhook url", f"https://{merchant.slug}.example/hook"),
        events=["purchase.recorded"],
        by=owner.user,
    )
    delivery = WebhookDelivery.objects.create(
        merchant=merchant, endpoint=endpoint, event="purchase.recorded", payload={"data": {}}, status="failed"
    )
    customer = names.get("imported customer", "Ali Import")
    upload = SimpleUploadedFile(
        names.get("import file", "customers.csv"), f"name,phone\n{customer},+60129990000\n".encode()
    )
    job = import_upload(merchant=merchant, actor=actor, upload=upload)
    segment = Segment.objects.create(
        merchant=merchant, name=names.get("segment name", f"All {merchant.slug}"), rules={}
    )
    campaign = Campaign.objects.create(
        merchant=merchant,
        name=names.get("campaign name", f"Promo {merchant.slug}"),
        segment=segment,
        channel=Channel.EMAIL,
        subject="Hi",
        body="Hello {first_name}",
        holdout_percent=0,
        created_by=owner.user,
    )
    message = Message.objects.create(
        merchant=merchant, campaign=campaign, member=member, occurrence=timezone.localdate(), channel=Channel.EMAIL
    )
    # The dashboard's cards: a started campaign, a survey answer, and the rollups counted.
    Campaign.objects.create(
        merchant=merchant,
        name=f"{campaign.name} (sent)",
        segment=segment,
        body="Hello",
        status=CampaignStatus.SENT,
        started_at=timezone.now(),
    )
    comment = names.get("survey comment", "Clean and quick")
    SurveyAnswer.objects.create(merchant=merchant, member=member, message=message, score=3, comment=comment)
    rollups_refresh(merchant_id=merchant.pk)
    # An adjustment waiting for the owner, and an alert for the owner to review.
    program = ledger.program_for(merchant)
    program.adjustment_approval_above = 10
    program.save(update_fields=["adjustment_approval_above"])
    manager = Actor.for_staff(StaffFactory(merchant=merchant, role=Role.MANAGER))
    approval = adjustment_submit(member=member, points=50, reason="sweep", actor=manager)
    alert = alert_raise(
        merchant_id=merchant.pk, pattern="voids", subject_type="staff", subject_id=clerk.user_id,
        subject_repr=str(clerk.user), day=timezone.localdate(), details={"count": 11, "limit": 10},
    )  # fmt: skip
    ids = {
        "member": member.pk,
        "purchase": purchase.pk,
        "voucher": voucher.pk,
        "reward": reward.pk,
        "tier": tier.pk,
        "card": physical.pk,
        "batch": batch,
        "location": merchant.locations.first().pk,
        "staff": clerk.pk,
        "owner": owner.pk,
        "invitation": invitation.pk,
        "api_key": key.pk,
        "webhook": endpoint.pk,
        "delivery": delivery.pk,
        "import_job": job.pk,
        "segment": segment.pk,
        "campaign": campaign.pk,
        "message": message.pk,
        "slug": merchant.slug,
        "merchant": merchant.pk,
        "approval": approval.pk,
        "alert": alert.pk,
    }
    return Shop(merchant=merchant, ids=ids, member=member, voucher_code=voucher.code)


@pytest.fixture(scope="module")
def _shops(django_db_setup, django_db_blocker):
    """Both shops, built once for the module inside a transaction that is rolled back at its end;
    each test runs in a savepoint of it (pytest-django's own), so what a test changes is undone."""
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        a = MerchantFactory(name="Charlie's Cafe", country="TH", currency="THB", timezone="Asia/Bangkok")
        LocationFactory(merchant=a, name=A_SECRETS["location name"])
        b = MerchantFactory(name="Bubbles Laundromat")
        LocationFactory(merchant=b, name="SS2")
        names = {name: value for name, value in A_SECRETS.items() if not name.startswith("member phone")}
        shop_a = _shop(a, names=names, phone="+66812345678", email=A_SECRETS["member email"], card="ZQCARD7788")
        shop_b = _shop(b, phone="+60123456789", email="aminah@bubbles.example", card="BBCARD1122")
        _key, raw = api_key_create(merchant=b, name="B's till", scope=ApiScope.FULL, by=None)
        yield shop_a, shop_b, raw
        transaction.set_rollback(True)


@pytest.fixture
def shop_a(db, _shops) -> Shop:
    """Shop A ("Charlie's Cafe"): the shop whose objects are asked for."""
    return _shops[0]


@pytest.fixture
def shop_b(db, _shops) -> Shop:
    """Shop B ("Bubbles Laundromat"): the shop that asks."""
    return _shops[1]


@pytest.fixture
def intruder_key(db, _shops) -> str:
    """Shop B's full-scope API key."""
    return _shops[2]


def _signed_in(shop: Shop, staff_pk: int, **session: object) -> Client:
    client = Client()
    client.force_login(shop.merchant.staff.get(pk=staff_pk).user)
    stored = client.session
    stored.update({SESSION_KEY: shop.merchant.pk} | session)
    stored.save()
    return client


@pytest.fixture
def intruder(shop_a, shop_b) -> Client:
    """Shop B's owner, signed in. They once worked at A too (deactivated since), and their session
    still names A as their shop and A's location as their counter's: every request must still be
    B's, and B's alone."""
    owner = shop_b.merchant.staff.get(pk=shop_b.ids["owner"])
    StaffFactory(merchant=shop_a.merchant, user=owner.user, role=Role.OWNER, is_active=False)
    stale = {SESSION_KEY: shop_a.merchant.pk, COUNTER_LOCATION: shop_a.ids["location"]}
    return _signed_in(shop_b, owner.pk, **stale)


# ---------------------------------------------------------------------------------------------
# The tables: every pattern of the project, by how it is swept


@dataclass(frozen=True)
class ById:
    """A URL that names objects: each kwarg is filled with shop A's object of that role.

    With two kwargs or more, each one is also tried alone with A's id and B's ids for the others
    (B's member with A's voucher), since a view may check the parent and trust the child.
    """

    kwargs: dict[str, str]
    methods: tuple[str, ...] = ("get",)
    data: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    api: bool = False  # asked with shop B's API key instead of B's owner's session


GET, POST, BOTH = ("get",), ("post",), ("get", "post")

# Patterns that take an object id (or a print batch): A's ids answer 404, and nothing of A's changes.
# The POST data is valid, so a view that forgot its scope would change A's rows (and be caught).
BY_ID: dict[str, ById] = {
    # merchants: locations, staff, invitations, API keys, webhooks
    "merchants:location_edit": ById({"pk": "location"}, BOTH, {"name": "Taken over", "is_active": "on"}),
    "merchants:staff_edit": ById({"pk": "staff"}, BOTH, {"role": Role.OWNER, "is_active": "on"}),
    "merchants:invitation_resend": ById({"pk": "invitation"}, POST),
    "merchants:invitation_revoke": ById({"pk": "invitation"}, POST),
    "merchants:api_key_revoke": ById({"pk": "api_key"}, POST),
    "merchants:alert_review": ById({"pk": "alert"}, POST),
    "webhooks:detail": ById({"pk": "webhook"}, BOTH, {"url": "https://evil.example/x", "events": ["tier.changed"]}),
    "webhooks:delete": ById({"pk": "webhook"}, POST),
    "webhooks:resend": ById({"pk": "delivery"}, POST),
    # members: printed card sheets, erasure, a member's data download
    "members:card_print": ById({"batch": "batch"}),
    # A's member's name typed, as the owner confirms: only the scope stands between B and A's member.
    "members:erase": ById({"pk": "member"}, POST, {"confirm": A_SECRETS["member name"]}),
    "members:data_json": ById({"pk": "member"}),
    "members:data_csv": ById({"pk": "member"}),
    # campaigns and segments
    "campaigns:campaign": ById({"pk": "campaign"}),
    "campaigns:campaign_edit": ById({"pk": "campaign"}, BOTH, {"name": "Taken", "body": "x", "channel": "email"}),
    "campaigns:campaign_start": ById({"pk": "campaign"}, POST),
    "campaigns:campaign_cancel": ById({"pk": "campaign"}, POST),
    "campaigns:segment_edit": ById({"pk": "segment"}, BOTH, {"name": "Taken"}),
    "campaigns:segment_delete": ById({"pk": "segment"}, POST),
    # rewards: catalog and tiers
    "rewards:tier_edit": ById({"pk": "tier"}, BOTH, {"name": "Taken", "threshold": "1", "multiplier": "1"}),
    "rewards:reward_edit": ById({"pk": "reward"}, BOTH, {"name": "Taken", "kind": "perk", "points_cost": "1"}),
    # rewards: a member's page and its actions
    "rewards:member": ById({"pk": "member"}),
    "rewards:purchase_preview": ById({"pk": "member"}, query={"amount": "10"}),
    "rewards:purchase": ById({"pk": "member"}, POST, {"key": "sweep-1", "amount": "10"}),
    "rewards:redeem": ById({"pk": "member", "reward_pk": "reward"}, POST, {"key": "sweep-2"}),
    "rewards:voucher_use": ById({"pk": "member", "voucher_pk": "voucher"}, POST, {"key": "sweep-3"}),
    "rewards:voucher_void": ById({"pk": "member", "voucher_pk": "voucher"}, POST, {"key": "sweep-4"}),
    "rewards:tier_fee": ById({"pk": "member"}, POST, {"key": "sweep-5", "amount": "50"}),
    "rewards:adjust": ById({"pk": "member"}, POST, {"key": "sweep-6", "points": "5", "reason": "x"}),
    "rewards:refund": ById({"pk": "member", "purchase_pk": "purchase"}, BOTH, {"key": "sweep-7", "amount": "100"}),
    # rewards: adjustments waiting for the owner's approval
    "rewards:approval_approve": ById({"pk": "approval"}, POST),
    "rewards:approval_decline": ById({"pk": "approval"}, POST),
    # rewards: customer imports
    "rewards:import_job": ById({"pk": "import_job"}),
    "rewards:import_map": ById({"pk": "import_job"}, POST, {"col_0": "name", "col_1": "phone"}),
    "rewards:import_apply": ById({"pk": "import_job"}, POST),
    "rewards:import_cancel": ById({"pk": "import_job"}, POST),
    "rewards:import_resume": ById({"pk": "import_job"}, POST),
    "rewards:import_progress": ById({"pk": "import_job"}),
    "rewards:import_invalid": ById({"pk": "import_job"}),
    # rewards: the counter
    "rewards:counter_member": ById({"pk": "member"}),
    "rewards:counter_purchase": ById({"pk": "member"}, POST, {"key": "sweep-8", "amount": "10"}),
    "rewards:counter_redeem": ById({"pk": "member", "reward_pk": "reward"}, POST, {"key": "sweep-9"}),
    "rewards:counter_voucher_use": ById({"pk": "member", "voucher_pk": "voucher"}, POST, {"key": "sweep-10"}),
    "rewards:counter_card_link": ById({"pk": "member"}, POST, {"key": "sweep-11", "number": "NEWCARD001"}),
    "rewards:counter_card_replace": ById(
        {"pk": "member", "card_pk": "card"}, POST, {"key": "sweep-12", "number": "NEWCARD002"}
    ),
    "rewards:counter_purchase_undo": ById({"pk": "member", "purchase_pk": "purchase"}, POST),
    "rewards:counter_redemption_undo": ById({"pk": "member", "redemption_pk": "voucher"}, POST),
    # the API, with shop B's full-scope key
    "api:member": ById({"pk": "member"}, ("get", "patch"), {"first_name": "Taken"}, api=True),
    "api:member_history": ById({"pk": "member"}, api=True),
    "api:purchase": ById({"pk": "purchase"}, api=True),
    "api:purchase_refunds": ById({"pk": "purchase"}, POST, {"amount": "10.00", "reason": "x"}, api=True),
    "api:redemption": ById({"pk": "voucher"}, api=True),
    "api:redemption_use": ById({"pk": "voucher"}, POST, api=True),
    "api:redemption_void": ById({"pk": "voucher"}, POST, {"reason": "x"}, api=True),
}


@dataclass(frozen=True)
class ByToken:
    """A private link whose token is the key (no staff login): A's member's id, or one of A's tokens
    signed for another purpose, opens nothing. `expect` is the refusal's status."""

    tokens: Callable[[Shop, Shop], list[dict[str, str]]]
    methods: tuple[str, ...] = ("get",)
    expect: int = 404


def _card_links(a: Shop, b: Shop) -> list[dict[str, str]]:
    member = a.member
    return [
        {"token": str(member.pk)},
        {"token": unsubscribe_token(member)},  # never expires: must not open the card
        {"token": survey_token(member=member)},
        # Signed as only the server can: A's member with B's member's portal key must still not resolve.
        {"token": signing.dumps([member.pk, b.member.portal_key], salt=CARD_SALT, compress=True)},
    ]


def _unsubscribe_links(a: Shop, b: Shop) -> list[dict[str, str]]:
    return [{"token": str(a.member.pk)}, {"token": card_token(a.member)}, {"token": survey_token(member=a.member)}]


def _survey_links(a: Shop, b: Shop) -> list[dict[str, str]]:
    # The last is signed by us, as only the server can: A's member with B's message must still not resolve.
    crossed = signing.dumps({"member": a.member.pk, "message": b.ids["message"]}, salt=SURVEY_SALT)
    return [{"token": str(a.member.pk)}, {"token": card_token(a.member)}, {"token": crossed}]


def _invitation_links(a: Shop, b: Shop) -> list[dict[str, str]]:
    stored = Invitation.objects.get(pk=a.ids["invitation"]).token_hash  # the hash is not the token
    return [{"token": str(a.ids["invitation"])}, {"token": stored}]


def _reset_links(a: Shop, b: Shop) -> list[dict[str, str]]:
    user = a.merchant.staff.get(pk=a.ids["owner"]).user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    forged = default_token_generator.make_token(a.merchant.staff.get(pk=a.ids["staff"]).user)  # another user's
    return [{"uidb64": uid, "token": "set-password"}, {"uidb64": uid, "token": forged}]


BY_TOKEN: dict[str, ByToken] = {
    "portal:card": ByToken(_card_links),
    "portal:data_json": ByToken(_card_links),
    "portal:data_csv": ByToken(_card_links),
    "member_portal:details": ByToken(_card_links, ("get", "post")),
    "member_portal:delete": ByToken(_card_links, ("get", "post")),
    "member_portal:unsubscribe": ByToken(_unsubscribe_links, ("get", "post")),
    "member_portal:unsubscribe_undo": ByToken(_unsubscribe_links, POST),
    "survey:answer": ByToken(_survey_links, ("get", "post")),
    # An unknown invitation answers 410 with "This invitation link is not valid" (its page, not a 404).
    "merchants:invitation_accept": ByToken(_invitation_links, ("get", "post"), expect=410),
    # Django's reset page answers 200 with "invalid link" (checked below: no form to set a password).
    "merchants:password_reset_confirm": ByToken(_reset_links, expect=200),
}

# A shop's public pages, reached by its slug: A's public page is A's by design (its name, rules,
# rewards); it must never carry A's private strings. Status when asked by B's signed-in owner.
BY_SLUG: dict[str, int] = {
    "public:signup": 200,
    "public:done": 200,
    "public:manifest": 200,
    "public_rules:how": 200,
    "member_portal:login": 200,
    "member_portal:login_code": 302,  # no code asked for in this browser: back to A's sign-in page
}


@dataclass(frozen=True)
class Plain:
    """A URL without an object id: asked as shop B, it must not fail and must show nothing of A's.

    `query`/`data` may name A's things (a search, a code, an id in a form): they must find nothing.
    `expect` pins the status where it is the point (an id of A's in the body answers 404).
    """

    method: str = "get"
    query: Callable[[Shop], dict[str, Any]] | None = None
    data: Callable[[Shop], dict[str, Any]] | None = None
    kwargs: dict[str, str] = field(default_factory=dict)
    expect: int | None = None
    api: bool = False
    echoes: tuple[str, ...] = ()  # A's strings the request gives B (then B's own): shown back, no leak
    htmx: bool = False  # asked again as an HTMX request (which answers with a partial of its own)
    empty: bool = False  # an API search for A's values: no results at all


def _search(a: Shop) -> dict[str, str]:
    return {"q": A_SECRETS["member name"]}


# Patterns with no object id in the path, each for its reason.
WITHOUT_ID: dict[str, Plain] = {
    # Sign-in, sign-up and passwords: about the signed-in person only.
    "merchants:signup": Plain(),
    "merchants:login": Plain(),
    "merchants:logout": Plain("post"),
    "merchants:password_reset": Plain(),
    "merchants:password_reset_done": Plain(),
    "merchants:password_reset_complete": Plain(),
    "merchants:password_change": Plain(),
    "merchants:password_change_done": Plain(),
    "merchants:healthz": Plain(),
    "set_language": Plain("post", data=lambda a: {"language": "en", "next": "/"}),
    # Shop B's own console pages and forms.
    "merchants:home": Plain(),
    "merchants:merchant_create": Plain(),
    "merchants:country_defaults": Plain(query=lambda a: {"country": "TH"}),
    "merchants:settings": Plain(),
    "merchants:switch": Plain("post", data=lambda a: {"merchant": a.ids["merchant"]}, expect=404),
    "merchants:locations": Plain(),
    "merchants:location_create": Plain(),
    "merchants:staff": Plain(),
    "merchants:staff_invite": Plain(),
    # The activity log filtered by A's staff member, A's member's name: refused, finds nothing of A's.
    "merchants:audit_log": Plain(
        query=lambda a: {"actor": a.merchant.staff.get(pk=a.ids["staff"]).user_id, "q": A_SECRETS["member name"]},
        htmx=True,
    ),
    "merchants:alerts": Plain(),
    "rewards:approvals": Plain(),
    "merchants:api_keys": Plain(),
    "webhooks:list": Plain(),
    "poster:page": Plain(),
    "poster:pdf": Plain(),
    "poster:png": Plain(),
    "members:list": Plain(query=_search, htmx=True),
    "members:create": Plain(),
    "members:cards": Plain(),
    "members:card_batch": Plain("post", data=lambda a: {"key": "sweep-batch", "count": "1"}),
    "campaigns:campaigns": Plain(),
    "campaigns:campaign_create": Plain(
        "post", data=lambda a: {"name": "Mine", "segment": a.ids["segment"], "channel": "email", "body": "x"}
    ),
    "campaigns:segments": Plain(),
    "campaigns:segment_create": Plain(),
    "campaigns:segment_count": Plain(query=lambda a: {"tiers": a.ids["tier"]}),
    "campaigns:segment_preset": Plain("post", data=lambda a: {"preset": "champions"}),
    "rewards:program": Plain(),
    "rewards:tiers": Plain(),
    "rewards:tier_create": Plain(),
    "rewards:catalog": Plain(),
    "rewards:reward_create": Plain(),
    "rewards:shortfalls": Plain(),
    "rewards:retention_preview": Plain(query=lambda a: {"erase_inactive_years": "1"}),
    "rewards:import": Plain(),
    "rewards:import_template": Plain(),
    "rewards:export": Plain(),
    # A scanned card number of A's opens nothing (it would open the member's panel, or redirect to it).
    "rewards:counter": Plain(query=lambda a: {"q": A_SECRETS["card number"], "open": "1"}, htmx=True),
    "rewards:counter_location": Plain("post", data=lambda a: {"location": a.ids["location"]}, expect=404),
    # Enrolling A's member's phone and email in B: a new member of B, never "already a member" of A.
    "rewards:counter_enrol": Plain(
        "post",
        data=lambda a: {"key": "sweep-enrol", "first_name": "New", "phone": "+66812345678", "email": "zq@b.example"},
        echoes=("member phone", "member phone (E.164)"),
    ),
    # Exports: the format is not an object; CSV so the check can read the file.
    "rewards:export_members": Plain(kwargs={"fmt": "csv"}),
    "rewards:export_ledger": Plain(kwargs={"fmt": "csv"}),
    "rewards:export_vouchers": Plain(kwargs={"fmt": "csv"}),
    # The dashboard's cards (HTMX partials), and each card's tables as CSV (EXTRA_QUERIES).
    "members:kpi_enrolment": Plain(query=lambda a: {"period": "90"}),
    "rewards:kpi_activity": Plain(query=lambda a: {"period": "90"}),
    "rewards:kpi_redemption": Plain(query=lambda a: {"period": "90"}),
    "rewards:kpi_retention": Plain(query=lambda a: {"period": "90"}),
    "rewards:kpi_liability": Plain(query=lambda a: {"period": "90"}),
    "rewards:kpi_tiers": Plain(query=lambda a: {"period": "90"}),
    "campaigns:kpi_campaigns": Plain(query=lambda a: {"period": "90"}),
    "campaigns:kpi_nps": Plain(query=lambda a: {"period": "90"}),
    # The member's card without a link: this browser opened no card.
    "portal:home": Plain(expect=404),
    # The API's lists and creates, with B's key; A's ids in the body are not found.
    "api:members": Plain(query=lambda a: {"phone": A_SECRETS["member phone (E.164)"]}, api=True, empty=True),
    "api:rewards": Plain(api=True),
    "api:redemptions": Plain(query=lambda a: {"code": a.voucher_code}, api=True, empty=True),
    "api:purchases": Plain("post", data=lambda a: {"member": a.ids["member"], "amount": "10.00"}, expect=404, api=True),
    "api:adjustments": Plain(
        "post", data=lambda a: {"member": a.ids["member"], "points": 5, "reason": "x"}, expect=404, api=True
    ),
    # The API's schema and its docs: no shop data at all.
    "api_schema": Plain(),
    "api_docs": Plain(),
    "api_redoc": Plain(),
}
# Lists and searches asked again with another of A's values (each must find nothing of A's).
EXTRA_QUERIES: dict[str, list[Callable[[Shop], dict[str, Any]]]] = {
    "members:list": [lambda a: {"q": A_SECRETS["member phone (E.164)"]}, lambda a: {"q": A_SECRETS["card number"]}],
    "rewards:counter": [lambda a: {"q": A_SECRETS["member name"]}, lambda a: {"q": a.member.card_number, "open": "1"}],
    "merchants:audit_log": [
        lambda a: {"action": "api_key.create"},
        lambda a: {"object_type": "merchants.apikey", "q": A_SECRETS["api key name"]},
    ],
    "api:members": [lambda a: {"email": A_SECRETS["member email"]}, lambda a: {"card": A_SECRETS["card number"]}],
}
KPI_TABLES = {
    "members:kpi_enrolment": ["enrolment", "channels", "staff"],
    "rewards:kpi_activity": ["activity"],
    "rewards:kpi_redemption": ["points", "rewards"],
    "rewards:kpi_retention": ["cohorts"],
    "rewards:kpi_liability": ["liability"],
    "rewards:kpi_tiers": ["tiers"],
    "campaigns:kpi_nps": ["scores", "comments"],
}
for _name, _tables in KPI_TABLES.items():
    EXTRA_QUERIES[_name] = [lambda a, table=table: {"period": "90", "table": table} for table in _tables]
KPI_CARDS = [*KPI_TABLES, "campaigns:kpi_campaigns"]
EXTRA_BODIES: dict[str, list[Callable[[Shop], dict[str, Any]]]] = {
    "api:purchases": [lambda a: {"member": a.ids["member"], "amount": 10}],  # the full path, not the hot one
}
# Redeeming through the API with A's member or A's reward: 404 either way.
API_REDEEM = "api:redemptions"

ADMIN_NAMESPACE = "admin"  # the platform operators' Django admin: a shop owner is never let in


# ---------------------------------------------------------------------------------------------
# Walking the URL configuration


def url_patterns() -> dict[str, str]:
    """Every pattern of the project, by its namespaced name (unnamed ones by their route)."""
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                walk(entry, route, inner or namespace)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                found[name or f"{namespace}:<unnamed {route}>"] = route

    walk(get_resolver(), "", "")
    return found


def _is_admin(name: str) -> bool:
    return name.split(":", 1)[0] == ADMIN_NAMESPACE


SWEPT = set(BY_ID) | set(BY_TOKEN) | set(BY_SLUG) | set(WITHOUT_ID)


def test_every_url_pattern_is_swept() -> None:
    """A new URL pattern must be added to one of the tables above (and so be swept)."""
    names = {name for name in url_patterns() if not _is_admin(name)}

    assert names - SWEPT == set(), "add these new URL patterns to a table in tests/test_access_sweep.py"
    assert SWEPT - names == set(), "these patterns are gone: remove them from the tables"


def test_the_tables_do_not_overlap() -> None:
    tables = [set(BY_ID), set(BY_TOKEN), set(BY_SLUG), set(WITHOUT_ID)]
    assert sum(map(len, tables)) == len(SWEPT)


def _filled(name: str) -> set[str]:
    """The kwargs the tables give a pattern's route."""
    if name in BY_ID:
        return set(BY_ID[name].kwargs)
    if name in BY_SLUG:
        return {"slug"}
    if name in BY_TOKEN:
        return {"uidb64", "token"} if name == "merchants:password_reset_confirm" else {"token"}
    return set(WITHOUT_ID[name].kwargs)


def test_each_pattern_gets_exactly_the_kwargs_its_route_takes() -> None:
    """So no pattern that names an object can sit in WITHOUT_ID, nor one kwarg go untried."""
    routes = url_patterns()
    mismatched = {
        name: route
        for name, route in routes.items()
        if name in SWEPT and set(re.findall(r"<(?:\w+:)?(\w+)>", route)) != _filled(name)
    }
    assert mismatched == {}


# ---------------------------------------------------------------------------------------------
# Asking


def _api_client(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


_idempotency = iter(range(1, 1_000_000))


def _send(client: Client, method: str, url: str, *, data=None, query=None, api: bool = False, **extra):
    """One request as the browser or the till sends it; `extra`: follow=True, headers={...}."""
    if api and method in ("post", "patch"):
        headers = {"Idempotency-Key": f"sweep-{next(_idempotency)}"}
        return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json", headers=headers)
    if method == "get":
        return client.get(url, query or {}, **extra)
    if method == "patch":
        return client.patch(url, json.dumps(data or {}), content_type="application/json")
    return client.post(url + (f"?{urlencode(query)}" if query else ""), data or {}, **extra)


def _body(response) -> str:
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", errors="replace")


def _leaks(response, *, public: bool = False, asked: frozenset[str] = frozenset()) -> list[str]:
    """A's private strings found in a response (body and headers). `asked`: the values the request
    itself sent (a search box shows what was searched for); `public`: A's own public page."""
    text = _body(response) + " ".join(f"{k}: {v}" for k, v in response.items())
    text = text.replace("&#x27;", "'").replace("&amp;", "&")
    return [
        f"{label} ({value!r})"
        for label, value in A_SECRETS.items()
        if value in text and value not in asked and not (public and label in A_PUBLIC)
    ]


def _tenant_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if any(f.name == "merchant" and f.concrete and f.is_relation for f in model._meta.get_fields())
    ]


def snapshot(merchant: Merchant) -> dict[str, object]:
    """Every row of the shop's tables, and the shop itself: what a request from another shop must not change.

    On PostgreSQL one query sums each table up as a digest of its rows; elsewhere the rows are read.
    """
    tenant_models = _tenant_models()
    if connection.vendor == "postgresql":
        # Table and column names come from the models, the shop's id is a parameter.
        table = column = connection.ops.quote_name
        digest = "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {} t WHERE t.{} = %s)"
        digests = [
            digest.format(table(m._meta.db_table), column(m._meta.get_field("merchant").column)) for m in tenant_models
        ]
        sql = "SELECT t::text, {} FROM {} t WHERE t.id = %s".format(", ".join(digests), table(Merchant._meta.db_table))  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [merchant.pk] * (len(digests) + 1))
            values = cursor.fetchone()
        return dict(zip(["merchant", *(m._meta.label for m in tenant_models)], values, strict=True))
    rows: dict[str, object] = {"merchant": list(Merchant.objects.filter(pk=merchant.pk).values())}
    for model in tenant_models:
        rows[model._meta.label] = list(model.objects.filter(merchant=merchant).order_by("pk").values_list())
    return rows


def _kwarg_sets(probe: ById, a: Shop, b: Shop) -> list[dict[str, Any]]:
    """All of A's ids; then, with several kwargs, each of A's ids alone among B's."""
    sets = [{kwarg: a.ids[role] for kwarg, role in probe.kwargs.items()}]
    if len(probe.kwargs) > 1:
        for own in probe.kwargs:
            sets.append({kwarg: (a if kwarg == own else b).ids[role] for kwarg, role in probe.kwargs.items()})
    return sets


# ---------------------------------------------------------------------------------------------
# The sweep


@pytest.mark.parametrize("name", sorted(BY_ID))
def test_another_shops_object_is_not_found(name, shop_a, shop_b, intruder, intruder_key):
    probe = BY_ID[name]
    client = _api_client(intruder_key) if probe.api else intruder
    before = snapshot(shop_a.merchant)
    problems = []
    for kwargs in _kwarg_sets(probe, shop_a, shop_b):
        url = reverse(name, kwargs=kwargs)
        for method in probe.methods:
            response = _send(client, method, url, data=probe.data, query=probe.query, api=probe.api)
            if response.status_code != 404:
                problems.append(f"{method.upper()} {url} answered {response.status_code}")
            if leaks := _leaks(response):
                problems.append(f"{method.upper()} {url} shows {leaks}")

    assert problems == []
    assert snapshot(shop_a.merchant) == before


@pytest.mark.parametrize("name", sorted(BY_TOKEN))
def test_another_shops_member_link_opens_nothing(name, shop_a, shop_b, intruder):
    probe = BY_TOKEN[name]
    before = snapshot(shop_a.merchant)
    problems = []
    for kwargs in probe.tokens(shop_a, shop_b):
        url = reverse(name, kwargs=kwargs)
        for method in probe.methods:
            response = _send(intruder, method, url, data={"first_name": "Taken", "score": "0"})
            if response.status_code != probe.expect:
                problems.append(f"{method.upper()} {url} answered {response.status_code}")
            if response.context and response.context.get("validlink"):
                problems.append(f"{url} offers to set A's owner's password")
            if leaks := _leaks(response):
                problems.append(f"{method.upper()} {url} shows {leaks}")

    assert problems == []
    assert snapshot(shop_a.merchant) == before


@pytest.mark.parametrize("name", sorted(BY_SLUG))
def test_another_shops_public_page_shows_only_public_things(name, shop_a, intruder):
    before = snapshot(shop_a.merchant)

    response = intruder.get(reverse(name, kwargs={"slug": shop_a.merchant.slug}))

    assert response.status_code == BY_SLUG[name]
    assert _leaks(response, public=True) == []
    assert snapshot(shop_a.merchant) == before


@pytest.mark.parametrize("name", sorted(WITHOUT_ID))
def test_a_page_without_ids_shows_nothing_of_another_shop(name, shop_a, shop_b, intruder, intruder_key):
    probe = WITHOUT_ID[name]
    client = _api_client(intruder_key) if probe.api else intruder
    url = reverse(name, kwargs=probe.kwargs)
    queries = [probe.query, *EXTRA_QUERIES.get(name, [])] if probe.query else [None]
    bodies = [probe.data, *EXTRA_BODIES.get(name, [])] if probe.data else [None]
    before = snapshot(shop_a.merchant)
    problems = []
    for query in queries:
        for data in bodies:
            params, body = query(shop_a) if query else None, data(shop_a) if data else None
            asked = {str(v) for v in [*(params or {}).values(), *(body or {}).values()]}
            asked |= {A_SECRETS[label] for label in probe.echoes}
            ways = [{"headers": {"HX-Request": "true"}}] if probe.htmx else []
            for extra in [{} if probe.api else {"follow": True}, *ways]:
                response = _send(client, probe.method, url, query=params, data=body, api=probe.api, **extra)
                status, asked_for = response.status_code, f"{probe.method.upper()} {url} {params or ''} {extra}"
                if status != probe.expect if probe.expect is not None else status >= 400:
                    problems.append(f"{asked_for} answered {status}")
                if leaks := _leaks(response, asked=frozenset(asked)):
                    problems.append(f"{asked_for} shows {leaks}")
                if probe.empty and response.json()["count"] != 0:
                    problems.append(f"{asked_for} found {response.json()['results']}")

    assert problems == []
    assert snapshot(shop_a.merchant) == before


NOT_A_CHOICE = "not one of the available choices."
NO_REFERRER = "No member has the referral code"


@dataclass(frozen=True)
class InForm:
    """A form (or API body) of shop B's that names one of A's objects: refused as any unknown value
    is (`says` is the refusal, on the page or in the API's answer), or taken as B's own value."""

    name: str
    data: Callable[[Shop, Shop], dict[str, Any]]
    expect: int
    says: str = NOT_A_CHOICE
    kwargs: dict[str, str] = field(default_factory=dict)  # B's own objects in the path
    api: bool = False


def _campaign_with_their_reward(a: Shop, b: Shop) -> dict[str, Any]:
    fields = {"name": "Mine", "segment": b.ids["segment"], "channel": "email", "subject": "Hi", "body": "x"}
    return fields | {"offer": "voucher", "reward": a.ids["reward"], "offer_days": "7", "holdout_percent": "0"}


def _referred_by_them(a: Shop, b: Shop) -> dict[str, Any]:
    return {"key": "in-form-referral", "first_name": "Nok", "referral_code": a.member.referral_code}


# A's ids and codes in B's forms: none may reach A's rows. A card number is unique per shop only,
# so A's card number linked or enrolled in B is B's own card (and A's card stays as it was).
B_MEMBER = {"pk": "member"}
IN_FORMS = [
    InForm("campaigns:campaign_create", _campaign_with_their_reward, 200),
    InForm("campaigns:segment_create", lambda a, b: {"name": "Mine", "tiers": [a.ids["tier"]]}, 200),
    InForm(
        "rewards:reward_create",
        lambda a, b: {"name": "M", "kind": "perk", "points_cost": "5", "min_tier": a.ids["tier"]},
        200,
    ),
    InForm("rewards:tier_fee", lambda a, b: {"key": "f1", "tier": a.ids["tier"], "amount": "50"}, 200, kwargs=B_MEMBER),
    InForm(
        "rewards:purchase",
        lambda a, b: {"key": "f2", "amount": "10", "location": a.ids["location"]},
        200,
        kwargs=B_MEMBER,
    ),
    InForm(
        "rewards:counter_card_link", lambda a, b: {"key": "f3", "number": A_SECRETS["card number"]}, 302, "", B_MEMBER
    ),
    InForm(
        "rewards:counter_enrol",
        lambda a, b: {"key": "f5", "first_name": "N", "card": A_SECRETS["card number"]},
        302,
        "",
    ),
    InForm("rewards:counter_enrol", _referred_by_them, 200, NO_REFERRER),
    InForm("members:create", _referred_by_them, 200, NO_REFERRER),
    InForm("api:members", _referred_by_them, 400, NO_REFERRER, api=True),
    InForm(
        "api:purchases",
        lambda a, b: {"member": b.ids["member"], "amount": "10.00", "location": a.ids["location"]},
        400,
        "No location of this shop",
        api=True,
    ),
]


@pytest.mark.parametrize("probe", IN_FORMS, ids=[f"{probe.name}#{i}" for i, probe in enumerate(IN_FORMS)])
def test_another_shops_id_in_a_form_reaches_nothing(probe, shop_a, shop_b, intruder, intruder_key):
    client = _api_client(intruder_key) if probe.api else intruder
    url = reverse(probe.name, kwargs={kwarg: shop_b.ids[role] for kwarg, role in probe.kwargs.items()})
    data = probe.data(shop_a, shop_b)
    before = snapshot(shop_a.merchant)

    response = _send(client, "post", url, data=data, api=probe.api)

    print(
        probe.name,
        response.status_code,
        response.context and response.context.get("form") and dict(response.context["form"].errors),
        response.content[:300] if probe.api else "",
    )
    assert response.status_code == probe.expect
    assert probe.says in _body(response).replace("&#x27;", "'")
    assert _leaks(response, asked=frozenset(A_SECRETS[k] for k in ("card number",))) == []
    assert snapshot(shop_a.merchant) == before


def test_signing_up_at_b_with_a_members_referral_code_is_refused(shop_a, shop_b):
    before = snapshot(shop_a.merchant)

    response = Client().post(
        reverse("public:signup", args=[shop_b.merchant.slug]),
        {"key": "f7", "first_name": "Nok", "phone": "+60123400001", "referral_code": shop_a.member.referral_code},
    )

    assert response.status_code == 200
    assert "referral_code" in response.context["form"].errors
    assert snapshot(shop_a.merchant) == before


# The sweep's own check: asked by shop A's owner (or key), these pages do show A's strings, so the
# sweep above would see them if shop B were shown them.
OWN_VIEW = {
    "members:list": ({"q": "Zenobia"}, "member name"),
    "rewards:counter": ({"q": "ZQCARD7788", "open": "1"}, "member name"),
    "rewards:export_members": ({}, "member phone (E.164)"),
    "rewards:export_vouchers": ({}, "reward name"),
    "merchants:staff": ({}, "invitation email"),
    "merchants:api_keys": ({}, "api key name"),
    "merchants:alerts": ({}, "staff name"),
    "merchants:audit_log": ({"action": "api_key.create"}, "api key name"),
    "rewards:approvals": ({}, "member name"),
    "webhooks:list": ({}, "webhook url"),
    "rewards:import": ({}, "import file"),
    "campaigns:segments": ({}, "segment name"),
    "campaigns:campaigns": ({}, "campaign name"),
    "members:kpi_enrolment": ({"table": "staff"}, "staff name"),
    "rewards:kpi_redemption": ({"table": "rewards"}, "reward name"),
    "rewards:kpi_tiers": ({}, "tier name"),
    "campaigns:kpi_campaigns": ({}, "campaign name"),
    "campaigns:kpi_nps": ({"table": "comments"}, "survey comment"),
    "api:members": ({"card": "ZQCARD7788"}, "member email"),
}


@pytest.mark.parametrize("name", sorted(OWN_VIEW))
def test_shop_a_sees_its_own_strings_where_the_sweep_looks(name, shop_a):
    query, label = OWN_VIEW[name]
    kwargs = WITHOUT_ID[name].kwargs
    if name.startswith("api:"):
        _key, raw = api_key_create(merchant=shop_a.merchant, name="A's own", scope=ApiScope.READ, by=None)
        client = _api_client(raw)
    else:
        client = _signed_in(shop_a, shop_a.ids["owner"])

    response = client.get(reverse(name, kwargs=kwargs), query, follow=not name.startswith("api:"))

    assert response.status_code == 200
    assert A_SECRETS[label] in _body(response).replace("&#x27;", "'")


def test_shop_a_finds_its_own_voucher_by_code_where_the_sweep_looks(shop_a):
    _key, raw = api_key_create(merchant=shop_a.merchant, name="A's own", scope=ApiScope.READ, by=None)

    response = _api_client(raw).get(reverse(API_REDEEM), {"code": shop_a.voucher_code})

    assert [found["id"] for found in response.json()["results"]] == [shop_a.ids["voucher"]]


@pytest.mark.parametrize("name", [*KPI_CARDS, "merchants:home"])
def test_a_dashboard_filtered_by_another_shops_location_is_not_found(name, shop_a, intruder):
    response = intruder.get(reverse(name), {"location": shop_a.ids["location"]})

    assert response.status_code == 404
    assert _leaks(response) == []


@pytest.mark.parametrize(
    ("member", "reward"), [("a", "a"), ("a", "b"), ("b", "a")], ids=["both-A", "A-member", "A-reward"]
)
def test_redeeming_through_the_api_with_another_shops_ids_is_not_found(member, reward, shop_a, shop_b, intruder_key):
    shops = {"a": shop_a, "b": shop_b}
    before = snapshot(shop_a.merchant)
    vouchers = Redemption.objects.for_merchant(shop_b.merchant).count()

    response = _send(
        _api_client(intruder_key),
        "post",
        reverse(API_REDEEM),
        data={"member": shops[member].ids["member"], "reward": shops[reward].ids["reward"]},
        api=True,
    )

    assert response.status_code == 404
    assert _leaks(response) == []
    assert snapshot(shop_a.merchant) == before
    assert Redemption.objects.for_merchant(shop_b.merchant).count() == vouchers


# ---------------------------------------------------------------------------------------------
# The admin


def _admin_kwargs(name: str, route: str, shop: Shop) -> dict[str, str]:
    """Values for an admin pattern's kwargs: A's row of the admin page's model where there is one."""
    kwargs = {}
    model = _admin_model(name)
    for kwarg in re.findall(r"\(\?P<(\w+)>|<(?:\w+:)?(\w+)>", route):
        kwarg = next(k for k in kwarg if k)
        if kwarg in ("object_id", "id"):
            kwargs[kwarg] = str(_admin_object(model, shop))
        elif kwarg == "app_label":
            kwargs[kwarg] = "members"
        elif kwarg == "content_type_id":
            kwargs[kwarg] = "1"
        else:
            kwargs[kwarg] = "anything/"
    return kwargs


def _admin_model(name: str) -> type[models.Model] | None:
    for model in apps.get_models():
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def _admin_object(model: type[models.Model] | None, shop: Shop) -> int:
    if model is Merchant:
        return shop.merchant.pk
    if model is not None and any(f.name == "merchant" for f in model._meta.concrete_fields):
        row = model.objects.filter(merchant=shop.merchant).order_by("pk").first()
        if row is not None:
            return row.pk
    return shop.member.pk


def _admin_url(name: str, route: str, shop: Shop) -> str:
    kwargs = _admin_kwargs(name, route, shop)
    if "<unnamed" not in name:
        return reverse(name, kwargs=kwargs)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m.group(1)], route)
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)\$?", lambda m: kwargs[m.group(1)], path).lstrip("^")


def test_a_shop_owner_is_sent_to_the_admins_login_from_every_admin_url(shop_a, intruder):
    """The admin is one rule for all its URLs (one per registered model and action): a shop owner
    is no platform operator, whatever object id the URL names."""
    routes = url_patterns()
    names = sorted(name for name in routes if _is_admin(name))
    login = reverse("admin:login")
    before = snapshot(shop_a.merchant)
    problems = []
    for name in names:
        url = _admin_url(name, routes[name], shop_a)
        response = intruder.get(url)
        if not (response.status_code == 302 and response["Location"].startswith(f"{login}?")):
            response = intruder.get(url, follow=True)  # the login itself, logout, the old-style redirects
            if response.request["PATH_INFO"] != login:
                problems.append(f"{url} ended at {response.request['PATH_INFO']} ({response.status_code})")
        if leaks := _leaks(response):
            problems.append(f"{url} shows {leaks}")

    assert len(names) > 50  # the walk reached the admin's patterns
    assert problems == []
    assert snapshot(shop_a.merchant) == before
