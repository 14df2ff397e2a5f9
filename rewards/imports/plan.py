"""What each row of an import would do: parse its cells, match it to a member, compare, decide.

The check (a dry run) and the apply run the same planning, so the counts the owner saw are the
counts the import writes, unless the shop changed in between (then the apply's own counts stand).
A row becomes one of: new, updated, unchanged, or invalid with its reasons in plain words.
"""

import hashlib
import json
import marshal
import sys
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from members import bulk
from members.models import Card, CardStatus, Channel, Member, MemberTag
from merchants.locales import number_text
from merchants.models import Merchant
from rewards.ledger import ImportState, Opening, import_states
from rewards.models import Tier

from .columns import IGNORE, NOTE, TARGETS
from .values import Cells

# Targets that are Member fields, set on the member as they are.
MEMBER_FIELDS = ("first_name", "last_name", "phone", "email", "birthday", "language", "card_number")
BALANCE_TARGETS = ("points", "stamps")
OPENING_TARGETS = (*BALANCE_TARGETS, "tier", "total_spent", "visits", "last_visit")
CONSENTS = {"email_consent": Channel.EMAIL, "sms_consent": Channel.SMS}
KEYS = ("phone", "email", "card_number")  # what tells one customer from another
# Values that are not JSON as read, and how Planner.pack writes them (unpack reads them back).
_PACK = {
    "birthday": date.isoformat,
    "joined": lambda moment: moment.date().isoformat(),
    "last_visit": lambda moment: moment.date().isoformat(),
    "total_spent": str,
    "tier": lambda tier: tier.pk if tier else None,
}


@dataclass(slots=True)
class Row:
    line: int
    cells: list[str]
    reason: str = ""  # "customers.csv, row 12": where ledger entries and consents say they came from
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    member: Member | None = None  # the member it matched, or the new one it makes
    is_new: bool = False
    changes: dict[str, Any] = field(default_factory=dict)  # member fields to set
    opening: Opening | None = None
    consents: list[tuple[str, bool]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # tags to add
    card: str = ""  # a physical card to link to an existing member
    parse_errors: int = 0  # errors[:parse_errors] came from reading the cells, the rest from planning

    @property
    def changed(self) -> bool:
        return bool(self.is_new or self.changes or self.opening or self.consents or self.tags or self.card)

    def reset(self) -> None:
        """Forget the plan, keep what was read from the cells: the row can be planned again."""
        del self.errors[self.parse_errors :]
        self.member, self.is_new, self.changes, self.opening = None, False, {}, None
        self.consents, self.tags, self.card = [], [], ""


class Directory:
    """Who in the shop has which phone, email, card and referral code.

    Read once per import, in one streamed query, and kept up to date as the import writes, so that
    matching a chunk never searches the members table (whose statistics a big import outruns: the
    planner would scan the whole shop for every chunk). Someone enrolled at the counter meanwhile
    is caught by the unique constraints: the chunk fails, refresh() reads its keys again, and the
    chunk is planned anew.
    """

    def __init__(self, merchant: Merchant) -> None:
        self.merchant = merchant
        self.phones: dict[str, int] = {}
        self.emails: dict[str, int] = {}
        self.cards: dict[str, int] = {}  # members' own card numbers and their active physical cards
        self.referrals: set[str] = set()
        self.printed: set[str] = set()  # physical cards not handed out yet: not free for a new member
        self.blocked: set[str] = set()
        self.reserved: set[str] = set()  # codes drawn for this import's new members
        members = Member.objects.for_merchant(merchant).order_by()
        for pk, phone, email, card, referral in members.values_list(
            "pk", "phone", "email", "card_number", "referral_code"
        ).iterator(chunk_size=20_000):
            self._add(pk, phone, email, card, referral)
        self._cards(Card.objects.for_merchant(merchant))

    def _add(self, pk: int, phone: str, email: str, card: str, referral: str) -> None:
        if phone:
            self.phones[phone] = pk
        if email:
            self.emails[email.lower()] = pk
        if card:
            self.cards[card.upper()] = pk
        if referral:
            self.referrals.add(referral)

    def _cards(self, cards) -> None:
        for number, member_id, status in cards.values_list("number", "member_id", "status").iterator(chunk_size=20_000):
            number = number.upper()
            if status == CardStatus.BLOCKED:
                self.blocked.add(number)
            elif member_id:
                self.cards[number] = member_id
            else:
                self.printed.add(number)

    def add(self, member: Member, card: str = "") -> None:
        """A member the import just wrote (new, or with a new phone, email or card)."""
        self._add(member.pk, member.phone, member.email, member.card_number, member.referral_code)
        if card:
            self.cards[card] = member.pk

    def refresh(self, rows: list[Row]) -> None:
        """Read the keys of these rows again from the database (someone else wrote meanwhile)."""
        phones = [p for r in rows if (p := r.values.get("phone"))]
        emails = [e for r in rows if (e := r.values.get("email"))]
        cards = [c for r in rows if (c := r.values.get("card_number"))]
        members = Member.objects.for_merchant(self.merchant).annotate(lower_email=Lower("email")).order_by()
        found = members.filter(Q(phone__any=phones) | Q(lower_email__any=emails) | Q(card_number__any=cards))
        for pk, phone, email, card, referral in found.values_list(
            "pk", "phone", "email", "card_number", "referral_code"
        ):
            self._add(pk, phone, email, card, referral)
        self._cards(Card.objects.for_merchant(self.merchant).filter(number__any=cards))

    def taken(self, code: str) -> bool:
        return (
            code in self.cards
            or code in self.printed
            or code in self.blocked
            or code in self.referrals
            or code in self.reserved
        )


class Planner:
    """Plans an import's rows chunk by chunk; remembers across chunks who appeared in which row."""

    def __init__(self, *, merchant: Merchant, headers: list[str], mapping: list[str], file_name: str, job_id: int):
        self.merchant = merchant
        self.headers = headers
        self.columns = [(i, target) for i, target in enumerate(mapping) if target != IGNORE]
        self.file_name = file_name
        self.reason_format = _("%(file)s, row %(line)s")  # translated once, not per row
        self.job_id = job_id
        self.cells = Cells(merchant)
        self.tiers = {t.name.casefold(): t for t in Tier.objects.for_merchant(merchant) if not t.is_paid}
        self.tier_names = ", ".join(sorted(t.name for t in self.tiers.values()))
        # Per kind of key (phone, email, card_number): each value seen so far -> the line that has it.
        self.seen: dict[str, dict[str, int]] = {kind: {} for kind in KEYS}
        self.seen_members: dict[int, int] = {}  # member id -> the line that matched them
        self.directory = Directory(merchant)
        self.readers = {
            "first_name": self.cells.name,
            "last_name": self.cells.name,
            "full_name": self.cells.full_name,
            "phone": self.cells.phone,
            "email": self.cells.email,
            "card_number": self._card,
            "birthday": self.cells.date,
            "language": self.cells.language,
            "points": self.cells.whole,
            "stamps": self.cells.whole,
            "tier": self._tier,
            "joined": self._moment,
            "last_visit": self._moment,
            "total_spent": self.cells.money,
            "visits": self.cells.whole,
            "email_consent": self.cells.yes_no,
            "sms_consent": self.cells.yes_no,
            "consent": self.cells.yes_no,
            "tags": self.cells.tags,
            "notes": self.cells.text,
            NOTE: self.cells.text,
        }

    # -----------------------------------------------------------------------------------------
    # Cells

    def _card(self, raw: str) -> str:
        number = self.cells.text(raw).replace(" ", "").upper()
        if len(number) > 32:
            raise ValidationError(
                _("“%(value)s” is longer than a card number can be (32 characters).") % {"value": raw}
            )
        return number

    def _tier(self, raw: str) -> Tier | None:
        name = self.cells.text(raw)
        if not name:
            return None
        tier = self.tiers.get(name.casefold())
        if tier is None:
            if not self.tiers:
                raise ValidationError(_("“%(value)s”: your program has no tiers yet.") % {"value": name})
            raise ValidationError(
                _("No tier is called “%(value)s” (your tiers: %(tiers)s).") % {"value": name, "tiers": self.tier_names}
            )
        return tier

    def _moment(self, raw: str) -> datetime | None:
        day = self.cells.date(raw)
        return datetime.combine(day, time.min, tzinfo=self.merchant.tzinfo) if day else None

    def parse(self, line: int, cells: list[str]) -> Row:
        row = Row(line, cells, reason=self._reason(line))
        for index, target in self.columns:
            raw = cells[index]
            if not raw.strip():
                continue
            try:
                value = self.readers[target](raw)
            except ValidationError as error:
                row.errors.extend([f"{self.headers[index]}: {message}" for message in error.messages])
                error.__traceback__ = None  # it would keep this frame, and the row, alive until a collection
                continue
            if value is None or value == "" or value == []:
                continue
            if target == NOTE:
                row.notes.append(f"{self.headers[index]}: {value}")
            elif target == "notes":
                row.notes.append(value)
            elif target == "tags":
                row.tag_names.extend(value)
            elif target == "full_name":
                first, last = value
                row.values.setdefault("first_name", first)
                if last:
                    row.values.setdefault("last_name", last)
            elif target == "consent":
                for name in CONSENTS:
                    row.values.setdefault(name, value)
            else:
                row.values[target] = value
        if not row.errors and not any(row.values.get(k) for k in ("phone", "email", "card_number")):
            row.errors.append(
                _("No phone number, email or card number: without one, this customer can't be told apart from others.")
            )
        row.parse_errors = len(row.errors)
        return row

    # -----------------------------------------------------------------------------------------
    # The check's reading of the file, kept for the import (the file is parsed once)

    def fingerprint(self) -> str:
        """What reading the cells depended on. The import reuses the check's reading only if
        none of it changed since (the shop's country, currency, time zone, tiers, the date)."""
        context = [
            self.merchant.country,
            self.merchant.currency,
            self.merchant.language,
            self.merchant.timezone,
            self.cells.today.isoformat(),
            self.columns,
            self.headers,
            sorted((t.pk, name) for name, t in self.tiers.items()),
            sys.version_info[:2],  # pack()'s marshal format
        ]
        return hashlib.sha256(json.dumps(context).encode()).hexdigest()

    def pack(self, rows: list[Row]) -> bytes:
        """A chunk's rows as read from the cells, marshalled and compressed (zlib's fastest level):
        marshal writes and reads these lists of strings and numbers several times faster than JSON,
        and compressed they are fewer bytes for the database to take, store and give back. Only
        this code writes and reads them, with the same Python (the fingerprint names its version)."""
        packed = []
        for row in rows:
            values = {name: _PACK[name](value) if name in _PACK else value for name, value in row.values.items()}
            packed.append([row.line, row.cells, values, row.notes, row.tag_names, row.errors[: row.parse_errors]])
        return zlib.compress(marshal.dumps(packed), 1)

    def unpack(self, data: bytes) -> list[Row]:
        rows = []
        tz, tiers = self.merchant.tzinfo, {t.pk: t for t in self.tiers.values()}
        unpack = {
            "birthday": date.fromisoformat,
            "joined": lambda day: datetime.combine(date.fromisoformat(day), time.min, tzinfo=tz),
            "last_visit": lambda day: datetime.combine(date.fromisoformat(day), time.min, tzinfo=tz),
            "total_spent": Decimal,
            "tier": tiers.get,
        }
        # pack()'s own bytes, from our database; JSON from a check stored before chunks were marshalled.
        packed = json.loads(data) if data.startswith(b"[") else marshal.loads(zlib.decompress(data))  # noqa: S302
        for line, cells, values, notes, tag_names, errors in packed:
            for name in unpack.keys() & values.keys():
                values[name] = unpack[name](values[name])
            row = Row(line, cells, self._reason(line), errors, values, notes, tag_names, parse_errors=len(errors))
            rows.append(row)
        return rows

    # -----------------------------------------------------------------------------------------
    # Matching and comparing, a chunk at a time (a few queries per chunk, none per row)

    def plan(self, rows: list[Row], *, lock: bool) -> None:
        """Match the chunk's valid rows to members and work out what each would change.

        With `lock` (the import, not the check), the matched members' accounts are row-locked until
        the caller's transaction ends, so what the plan read (balances, earlier imports) is still
        true when it is written, and new members get their card numbers, referral codes and keys.
        """
        valid = []
        for row in rows:  # in file order: a later row that repeats an earlier customer is the one refused
            if not row.errors:
                self._check_seen(row)
            if not row.errors:
                self._remember_keys(row)
                valid.append(row)
        by_phone, by_email, by_card, blocked = self._lookup(valid)
        for row in valid:
            v = row.values
            found = {
                what: member
                for what, member in (
                    ("phone", by_phone.get(v.get("phone"))),
                    ("email", by_email.get(v.get("email"))),
                    ("card", by_card.get(v.get("card_number"))),
                )
                if member is not None
            }
            if v.get("card_number") in blocked:
                row.errors.append(
                    _("Card %(number)s is blocked: it was reported lost or replaced.") % {"number": v["card_number"]}
                )
            elif len({m.pk for m in found.values()}) > 1:
                names = ", ".join(f"{_label(what)}: {member}" for what, member in found.items())
                row.errors.append(
                    _("The phone number, email and card number of this row belong to different members (%(names)s).")
                    % {"names": names}
                )
            elif found:
                row.member = next(iter(found.values()))
                if (earlier := self.seen_members.get(row.member.pk)) is not None:
                    row.errors.append(_("The same customer as row %(line)s.") % {"line": earlier})
            else:
                row.is_new = True
        matched = [r.member.pk for r in valid if r.member is not None and not r.errors]
        states = import_states(merchant=self.merchant, member_ids=matched, lock=lock)
        tags = defaultdict(set)
        for member_id, name in (
            MemberTag.objects.for_merchant(self.merchant)
            .filter(member_id__any=matched)
            .values_list("member_id", "tag__name")
        ):
            tags[member_id].add(name.casefold())
        for row in valid:
            if row.errors:
                continue
            if row.is_new:
                self._plan_new(row)
            else:
                self._plan_update(row, states.get(row.member.pk), tags[row.member.pk])
            if not row.errors and row.member is not None and row.member.pk:
                self.seen_members[row.member.pk] = row.line
        if lock:
            self._codes_assign([r for r in valid if r.is_new and not r.errors])

    def _codes_assign(self, fresh: list[Row]) -> None:
        """Card numbers, referral codes and private-link keys for a chunk's new members, drawn at
        once and reserved in the directory, so no later chunk draws the same."""
        d = self.directory
        cards = bulk.codes_new(count=sum(1 for r in fresh if not r.values.get("card_number")), length=10, taken=d.taken)
        referrals = bulk.codes_new(count=len(fresh), length=6, taken=d.taken)
        portal_keys = bulk.portal_keys_new(len(fresh))
        for row in fresh:
            row.changes.setdefault("card_number", row.values.get("card_number") or cards.pop())
            row.changes["referral_code"] = referrals.pop()
            row.changes["portal_key"] = portal_keys.pop()
            d.reserved.add(row.changes["card_number"])
            d.reserved.add(row.changes["referral_code"])

    def recall(self, rows: list[Row]) -> None:
        """Rows an earlier attempt already imported: remember their phones, emails and cards."""
        for row in rows:
            if not row.errors:
                self._remember_keys(row)

    def snapshot(self) -> tuple[dict, dict]:
        return {kind: dict(values) for kind, values in self.seen.items()}, dict(self.seen_members)

    def restore(self, memory: tuple[dict, dict]) -> None:
        self.seen, self.seen_members = memory[0], memory[1]

    def _check_seen(self, row: Row) -> None:
        for kind in KEYS:
            value = row.values.get(kind)
            if value and (earlier := self.seen[kind].get(value)) is not None:
                row.errors.append(
                    _("The same customer as row %(line)s (the same %(what)s).")
                    % {"line": earlier, "what": _label(kind)}
                )
                return

    def _remember_keys(self, row: Row) -> None:
        for kind in KEYS:
            if value := row.values.get(kind):
                self.seen[kind].setdefault(value, row.line)

    def _lookup(self, rows: list[Row]) -> tuple[dict, dict, dict, set]:
        """The members the chunk's phones, emails and cards belong to: ids from the directory, then
        one fetch of those members by primary key."""
        d = self.directory
        by_phone = {p: d.phones[p] for r in rows if (p := r.values.get("phone")) and p in d.phones}
        by_email = {e: d.emails[e] for r in rows if (e := r.values.get("email")) and e in d.emails}
        by_card = {c: d.cards[c] for r in rows if (c := r.values.get("card_number")) and c in d.cards}
        ids = {*by_phone.values(), *by_email.values(), *by_card.values()}
        members = {m.pk: m for m in Member.objects.for_merchant(self.merchant).filter(pk__any=ids).order_by()}
        # A member erased or changed since the directory was read is simply no longer found by that key.
        pick = lambda found: {key: members[pk] for key, pk in found.items() if pk in members}  # noqa: E731
        return pick(by_phone), pick(by_email), pick(by_card), d.blocked

    def _reason(self, line: int) -> str:
        return self.reason_format % {"file": self.file_name, "line": line}

    def _opening(self, row: Row) -> Opening | None:
        v = row.values
        if not any(k in v for k in OPENING_TARGETS):
            return None
        balance = next((v[k] for k in BALANCE_TARGETS if k in v), None)
        return Opening(
            member=row.member,
            balance=balance,
            tier=v.get("tier"),
            set_tier="tier" in v,
            spend=v.get("total_spent"),
            visits=v.get("visits"),
            last_visit=v.get("last_visit"),
            reason=row.reason,
            key=f"import:{self.job_id}:{row.line}",
            is_new=row.is_new,
        )

    def _consent_errors(self, row: Row, phone: str, email: str) -> None:
        if row.values.get("email_consent") and not email:
            row.errors.append(_("Email offers are “yes” but the row has no email."))
        if row.values.get("sms_consent") and not phone:
            row.errors.append(_("SMS offers are “yes” but the row has no phone number."))

    def _plan_new(self, row: Row) -> None:
        v = row.values
        self._consent_errors(row, v.get("phone", ""), v.get("email", ""))
        row.changes = {name: v[name] for name in MEMBER_FIELDS if name in v}
        if "joined" in v:
            row.changes["joined_at"] = v["joined"]
        if row.notes:
            row.changes["notes"] = "\n".join(row.notes)
        row.consents = [(channel, True) for name, channel in CONSENTS.items() if v.get(name)]
        row.tags = _dedupe(row.tag_names)
        row.opening = self._opening(row)

    def _plan_update(self, row: Row, state: ImportState | None, has_tags: set[str]) -> None:
        v, member = row.values, row.member
        self._consent_errors(row, v.get("phone") or member.phone, v.get("email") or member.email)
        card = v.get("card_number")  # a card of theirs, linked below (their own number stays as it is)
        row.changes = {
            name: v[name]
            for name in MEMBER_FIELDS
            if name != "card_number" and name in v and getattr(member, name) != v[name]
        }
        if card and card not in self.directory.cards and card not in self.directory.printed:  # nobody has it
            row.card = card
        if "joined" in v and v["joined"] < member.joined_at:
            row.changes["joined_at"] = v["joined"]
        new_notes = [line for line in row.notes if line not in member.notes]
        if new_notes:
            row.changes["notes"] = "\n".join(filter(None, [member.notes, *new_notes]))
        for name, channel in CONSENTS.items():
            if name in v and getattr(member, f"{channel}_consent") != v[name]:
                row.consents.append((channel, v[name]))
        row.tags = [t for t in _dedupe(row.tag_names) if t.casefold() not in has_tags]
        opening = self._opening(row)
        if opening is not None and _opening_changes(opening, state):
            if state is not None and opening.balance is not None:
                delta = opening.balance - state.imported
                if state.account.balance + delta < 0:
                    row.errors.append(
                        _(
                            "They have %(balance)s now, and earlier imports gave them %(imported)s: an imported balance "
                            "of %(target)s would take them below zero."
                        )
                        % {
                            "balance": number_text(state.account.balance),
                            "imported": number_text(state.imported),
                            "target": number_text(opening.balance),
                        }
                    )
            row.opening = opening


def counts_of(rows: list[Row]) -> dict[str, int]:
    """How a planned chunk's rows divide: what the import of them would report."""
    counts = {"new": 0, "updated": 0, "unchanged": 0, "invalid": 0}
    for row in rows:
        kind = "invalid" if row.errors else "new" if row.is_new else "updated" if row.changed else "unchanged"
        counts[kind] += 1
    return counts


def _opening_changes(opening: Opening, state: ImportState | None) -> bool:
    """Would this opening change the account? (No account yet: only if it brings something.)"""
    if state is None:
        return bool(opening.balance or opening.tier or opening.spend or opening.visits or opening.last_visit)
    account = state.account
    return (
        (opening.balance is not None and opening.balance != state.imported)
        or (opening.set_tier and account.tier_id != (opening.tier.pk if opening.tier else None))
        or (opening.spend is not None and opening.spend != account.opening_spend)
        or (opening.visits is not None and opening.visits != account.opening_visits)
        or (
            opening.last_visit is not None
            and (account.last_purchase_at is None or opening.last_visit > account.last_purchase_at)
        )
    )


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _label(kind: str) -> str:
    return {"phone": _("phone number"), "email": _("email"), "card": _("card number"), "card_number": _("card number")}[
        kind
    ]


def mapping_problems(*, mapping: list[str], is_stamps: bool, has_tiers: bool) -> list[str]:
    """Why a column mapping can't be used, in plain words (nothing: it can)."""
    chosen = [t for t in mapping if t not in (IGNORE, NOTE)]
    problems = []
    if not {"phone", "email", "card_number"} & set(chosen):
        problems.append(_("Choose the column with phone numbers, emails or card numbers: members are matched by them."))
    for target in sorted({t for t in chosen if chosen.count(t) > 1}):
        problems.append(_("Two columns are set to “%(target)s”: choose one.") % {"target": TARGETS[target]})
    if "points" in chosen and is_stamps:
        problems.append(_("Your program is a stamp card: set the balance column to “Stamps”, or don't import it."))
    if "stamps" in chosen and not is_stamps:
        problems.append(_("Your program gives points: set the balance column to “Points balance”, or don't import it."))
    if "tier" in chosen and not has_tiers:
        problems.append(
            _("Your program has no tiers yet: add them on the Tiers page first, or don't import the tier column.")
        )
    if "full_name" in chosen and {"first_name", "last_name"} & set(chosen):
        problems.append(_("Choose either a full name column or first and last name columns, not both."))
    return problems
