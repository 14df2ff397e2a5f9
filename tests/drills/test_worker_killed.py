"""A real Celery worker SIGKILLed in the middle of the nightly expiry and of a campaign send, then a
fresh one run the way production runs it again (beat's next dispatch): nothing done twice, nothing lost.

The drill stops the worker at a chosen point by holding a row lock the job needs, so "mid-way" is
certain, not a race: the worker is killed while it waits on the lock.
"""

import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from campaigns import sending
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Offer, Segment
from campaigns.tasks import campaign_send_task, campaigns_due_task
from merchants.actors import Actor
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Program, Redemption
from rewards.tasks import rewards_daily_dispatch_task
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, RewardFactory

from .conftest import backends_waiting_on_a_lock, terminate

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

MEMBERS = 100
BATCH = 20  # the worker's expiry batch: five of them, the drill stops it in the third
END_OF_MESSAGE = b"-" * 79  # Django's file backend writes this line after each message


@pytest.fixture
def shop():
    merchant = MerchantFactory()
    LocationFactory(merchant=merchant)
    ProgramFactory(merchant=merchant)
    return merchant


def assert_balances_are_ledger_sums(merchant) -> None:
    sums = dict(
        PointsEntry.objects.filter(merchant=merchant)
        .values("account")
        .annotate(s=Sum("points"))
        .values_list("account", "s")
    )
    balances = dict(Account.objects.filter(merchant=merchant).values_list("pk", "balance"))
    assert balances == {pk: sums.get(pk, 0) for pk in balances}


def expiry_lines_per_account(merchant) -> Counter:
    lines = PointsEntry.objects.filter(merchant=merchant, kind=Kind.EXPIRE)
    return Counter(dict(lines.values("account").annotate(n=Count("pk")).values_list("account", "n")))


@pytest.fixture
def due_lots(shop) -> list[int]:
    """Each member: 100 points past their date and 30 points not yet due. Returns the account ids."""
    actor = Actor.job("drill")
    for i in range(MEMBERS):
        member = MemberFactory(merchant=shop, birthday=None)
        for points, days in ((100, -1), (30, 300)):
            ledger.points_credit(
                member=member, points=points, kind=Kind.BONUS, reason="drill", actor=actor,
                idempotency_key=f"drill:{i}:{points}", expires_at=timezone.now() + timedelta(days=days),
            )  # fmt: skip
    return list(Account.objects.filter(merchant=shop).order_by("pk").values_list("pk", flat=True))


def test_expiry_killed_mid_way_then_run_again_expires_every_due_lot_exactly_once(shop, due_lots, start_worker):
    worker = start_worker(DRILL_EXPIRY_BATCH=str(BATCH))
    in_third_batch = due_lots[2 * BATCH + 5]
    with transaction.atomic(), connection.cursor() as cursor:
        # FOR KEY SHARE: the tier review's set-based UPDATE passes, the expiry batch's FOR UPDATE waits.
        cursor.execute("SELECT id FROM rewards_account WHERE id = %s FOR KEY SHARE", [in_third_batch])
        rewards_daily_dispatch_task.delay()
        worker.wait_for(lambda: backends_waiting_on_a_lock(), "the expiry waiting in its third batch")
        assert sum(expiry_lines_per_account(shop).values()) == 2 * BATCH  # two batches committed
        worker.kill()
        orphans = backends_waiting_on_a_lock()
    terminate(orphans)  # its server process would die anyway at its next write to the dead client

    assert_balances_are_ledger_sums(shop)
    assert set(expiry_lines_per_account(shop).values()) == {1}
    assert Program.objects.get(merchant=shop).last_expiry_run is None  # the day is not marked done

    rerun = start_worker(DRILL_EXPIRY_BATCH=str(BATCH))
    rewards_daily_dispatch_task.delay()  # beat's next hourly dispatch finds the shop's day not done
    rerun.wait_for(lambda: Program.objects.get(merchant=shop).last_expiry_run, "the rerun finishing")

    assert expiry_lines_per_account(shop) == Counter(dict.fromkeys(due_lots, 1))
    assert set(PointsEntry.objects.filter(merchant=shop, kind=Kind.EXPIRE).values_list("points", flat=True)) == {-100}
    assert set(Account.objects.filter(merchant=shop).values_list("balance", flat=True)) == {30}
    assert_balances_are_ledger_sums(shop)


def emails_by_recipient(mail_dir) -> Counter:
    recipients = Counter()
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_bytes().split(END_OF_MESSAGE):
            if chunk.strip():
                recipients[message_from_bytes(chunk.strip(), policy=policy.default)["To"]] += 1
    return recipients


def test_campaign_send_killed_mid_batch_then_run_again_sends_each_member_exactly_one_message(shop, start_worker):
    """A voucher offer: the drill holds the lock of one member's account, so the worker stops while
    making that member's voucher, in the middle of a batch, with the batch's first messages sent."""
    members = [
        MemberFactory(merchant=shop, email=f"m{i}@example.com", email_consent=True, birthday=None) for i in range(30)
    ]
    for member in members:
        ledger.welcome_bonus(member=member, actor=Actor.job("drill"))  # opens the account
    segment = Segment.objects.create(merchant=shop, name="Everyone", rules={})
    campaign = Campaign.objects.create(
        merchant=shop, name="Coffee", segment=segment, channel=Channel.EMAIL, subject="Hi", body="Code {voucher_code}",
        holdout_percent=0, offer=Offer.VOUCHER, reward=RewardFactory(merchant=shop),
    )  # fmt: skip
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SENDING, started_at=timezone.now() - timedelta(minutes=1)
    )
    sending.audience_write(campaign=campaign)
    env = {"DRILL_SEND_BATCH": "10", "CAMPAIGN_CLAIM_SECONDS": "2", "CAMPAIGN_SEND_WORKERS": "1"}
    worker = start_worker(**env)
    mail_dir = start_worker.mail_dir
    sixteenth = Message.objects.filter(campaign=campaign).order_by("pk")[15]  # the 6th of the 2nd batch
    held = Account.objects.get(member_id=sixteenth.member_id)
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=held.pk)
        campaign_send_task.delay(campaign.pk)  # as campaign_start queues it
        worker.wait_for(lambda: backends_waiting_on_a_lock(), "the send waiting on the held account")
        assert sum(emails_by_recipient(mail_dir).values()) == 15
        worker.kill()
        orphans = backends_waiting_on_a_lock()
    terminate(orphans)

    statuses = Counter(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {MessageStatus.SENT: 15, MessageStatus.PENDING: 15}  # the batch's rest still to send

    rerun = start_worker(**env)
    time.sleep(2.5)  # past the dead worker's claim (CAMPAIGN_CLAIM_SECONDS)
    campaigns_due_task.delay()  # the minute's beat job finds the campaign stalled and queues it again
    rerun.wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT, "the campaign being sent"
    )
    assert emails_by_recipient(mail_dir) == Counter({member.email: 1 for member in members})
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 30
    assert Redemption.objects.filter(merchant=shop).count() == 30  # one voucher each, none twice
