"""A campaign to the whole demo shop: seconds to write the outbox, and to send it with parallel
Celery workers through the development email backend.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/campaign_bench.py --workers 2

Needs the demo shop with its members (seed_demo, or bench/dashboard_bench.py leaves it). Every
member is given email consent for the run (an address where they have none). The outbox is written
as the send button writes it. Sending is timed as production runs it: --workers real Celery worker
processes (started before the clock starts) take the campaign's send tasks from a queue of the
bench's own and share its outbox; each email is built and written to a folder (Django's file
backend: a real SMTP server would add its own time). Deletes the campaign after.

Two references, measured in the same run: the outbox's rows written by one INSERT ... SELECT over
the members (the same filter, a hash for the held-out share, rolled back), and the emails alone:
each with its subject, text and unsubscribe header, written through the file backend by one
process with no outbox, claims or templates, timed over --mail-sample of them (default 5,000) and
scaled to the number sent.
--json writes every figure to a file (bench/run.py reads it).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.mail import EmailMessage  # noqa: E402
from django.core.mail.backends.filebased import EmailBackend  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import CharField, Value  # noqa: E402
from django.db.models.functions import Cast, Concat  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns import sending  # noqa: E402
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment  # noqa: E402
from campaigns.tasks import campaign_send_task  # noqa: E402
from members.models import Member  # noqa: E402
from members.portal import unsubscribe_url  # noqa: E402
from merchants.models import Merchant  # noqa: E402
from rewards.management.commands.seed_demo import DEMO_SLUG  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mail-sample", type=int, default=5000, help="emails timed for the mail-only reference")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or urlsplit(os.environ.get("DATABASE_URL", "")).hostname not in {
        "127.0.0.1",
        "localhost",
    }:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine with the demo shop.")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database the bench may use (redis://127.0.0.1:6379/14).")
    figures = measure(args.workers, args.mail_sample)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def measure(workers: int, mail_sample: int = 5000) -> dict:
    """Write the outbox of a campaign to the whole demo shop, send it, and time both references."""
    shop = Merchant.objects.get(slug=DEMO_SLUG)
    members = Member.objects.for_merchant(shop).filter(erased_at__isnull=True)
    members.filter(email="").update(email=Concat(Value("m"), Cast("pk", CharField()), Value("@example.com")))
    members.update(email_consent=True)
    segment, _ = Segment.objects.get_or_create(merchant=shop, name="Bench: everyone", defaults={"rules": {}})
    campaign = Campaign.objects.create(
        merchant=shop, name=f"Bench {uuid.uuid4().hex[:6]}", segment=segment, channel=Channel.EMAIL,
        subject="Hi {first_name}", body="You have {balance} points at {shop}.", holdout_percent=10,
        status=CampaignStatus.SENDING,
    )  # fmt: skip
    try:
        reference_outbox = outbox_reference(campaign)
        started = time.perf_counter()
        written = sending.audience_write(campaign=campaign)
        write_s = time.perf_counter() - started
        print(
            f"Outbox: {written:,} rows ({members.count():,} members, 10% held out) written in {write_s:.1f} s "
            f"(one INSERT ... SELECT: {reference_outbox:.1f} s)."
        )

        with tempfile.TemporaryDirectory() as folder:
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            processes = [start_worker(queue, Path(folder), n) for n in range(workers)]
            try:
                started = time.perf_counter()
                for _worker in processes:
                    campaign_send_task.apply_async((campaign.pk,), queue=queue)
                status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
                while status.get() != CampaignStatus.SENT:
                    if any(worker.poll() is not None for worker in processes):
                        sys.exit("a Celery worker stopped; its log is in the bench's folder")
                    time.sleep(0.05)
                send_s = time.perf_counter() - started
            finally:
                for worker in processes:
                    worker.terminate()
                    worker.wait(timeout=30)
        sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        print(f"Sent {sent:,} emails with {workers} workers in {send_s:.1f} s ({sent / send_s:,.0f} a second).")
        sample = min(mail_sample, sent)
        reference_send = mail_reference(campaign, sample) * sent / sample if sample else 0.0
        print(
            f"The same number of emails through the file backend alone, one process: {reference_send:.1f} s "
            f"({sample:,} timed)."
        )
    finally:
        Message.objects.filter(campaign=campaign).delete()
        campaign.delete()
    return {
        "members": members.count(),
        "outbox_rows": written,
        "outbox_s": write_s,
        "outbox_reference_s": reference_outbox,
        "workers": workers,
        "sent": sent,
        "send_s": send_s,
        "send_reference_s": reference_send,
        "mail_sample": sample,
    }


def outbox_reference(campaign: Campaign) -> float:
    """Seconds for the outbox's rows in one INSERT ... SELECT (same filter, hashed holdout), rolled back."""
    params = {
        "shop": campaign.merchant_id,
        "campaign": campaign.pk,
        "today": timezone.localdate(timezone=campaign.merchant.tzinfo),
        "held": MessageStatus.HELD_OUT,
        "pending": MessageStatus.PENDING,
        "percent": campaign.holdout_percent,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO campaigns_message (merchant_id, campaign_id, member_id, occurrence, channel, status, "
            "attempts, error, points, context, variant) SELECT merchant_id, %(campaign)s, id, %(today)s, 'email', "
            "CASE WHEN abs(hashtext(%(campaign)s || ':' || id)) %% 100 < %(percent)s THEN %(held)s ELSE %(pending)s END, "
            "0, '', 0, '{}', 'a' FROM members_member WHERE merchant_id = %(shop)s AND erased_at IS NULL "
            "AND email_consent AND email <> '' ON CONFLICT DO NOTHING",
            params,
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def mail_reference(campaign: Campaign, count: int) -> float:
    """Seconds to write `count` of the shop's emails through the file backend, one process, one
    connection (so one file) per email as EmailMessage.send() opens."""
    shop = campaign.merchant
    members = list(
        Member.objects.for_merchant(shop).filter(email_consent=True).exclude(email="").select_related("account")[:count]
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for member in members:
            balance = member.account.balance if hasattr(member, "account") else 0
            email = EmailMessage(
                f"Hi {member.first_name}", f"You have {balance} points at {shop.name}.", None, [member.email]
            )
            email.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url(member)}>"
            EmailBackend(alias="bench", file_path=folder).send_messages([email])
        return time.perf_counter() - started


def start_worker(queue: str, folder: Path, n: int) -> subprocess.Popen:
    """A real Celery worker process (one task at a time, as the Procfile runs them), ready."""
    log = folder / f"worker-{n}.log"
    mail = folder / "mail"
    mail.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "loyalty",
        "worker",
        "-P",
        "solo",
        "-Q",
        queue,
        "-n",
        f"bench{n}@%h",
    ]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "INFO"]
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "EMAIL_URL": f"filemail://{mail}"}
    with log.open("w") as out:
        worker = subprocess.Popen(
            command, cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while " ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the Celery worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return worker


if __name__ == "__main__":
    main()
