"""On PostgreSQL, a row that points at a member or an account must belong to the same shop as it does."""

import pytest
from django.db import IntegrityError, connection, transaction

from members.models import ConsentEvent, MemberTag, Tag
from rewards.models import Account, PointsEntry, TierChange

from .factories import MemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def account(merchant):
    return Account.objects.create(merchant=merchant, member=MemberFactory(merchant=merchant))


def _refused(obj) -> bool:
    """Saved, then checked at commit as the deferred keys are: True if the database refused it."""
    try:
        with transaction.atomic():
            obj.save()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError:
        return True
    return False


def test_an_account_of_another_shops_member_is_refused(merchant, other_merchant):
    stranger = MemberFactory(merchant=other_merchant)

    assert _refused(Account(merchant=merchant, member=stranger))


def test_a_ledger_line_filed_under_another_shop_is_refused(account, other_merchant):
    line = PointsEntry(merchant=other_merchant, account=account, kind="adjust", points=5, balance_after=5)

    assert _refused(line)


def test_a_ledger_line_in_its_accounts_shop_is_taken(account):
    line = PointsEntry(merchant=account.merchant, account=account, kind="adjust", points=5, balance_after=5)

    assert not _refused(line)


def test_a_tier_change_filed_under_another_shop_is_refused(account, other_merchant):
    assert _refused(TierChange(merchant=other_merchant, account=account, reason="import"))


def test_a_consent_filed_under_another_shop_is_refused(merchant, other_merchant):
    member = MemberFactory(merchant=merchant)

    assert _refused(ConsentEvent(merchant=other_merchant, member=member, channel="email", granted=True))


def test_a_tag_link_filed_under_another_shop_is_refused(merchant, other_merchant):
    member = MemberFactory(merchant=merchant)
    tag = Tag.objects.create(merchant=other_merchant, name="vip")

    assert _refused(MemberTag(merchant=other_merchant, member=member, tag=tag))
