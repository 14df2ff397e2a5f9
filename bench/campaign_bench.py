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
"""

import argparse
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
from django.db import connection  # noqa: E402
from django.db.models import CharField, Value  # noqa: E402
from django.db.models.functions import Cast, Concat  # noqa: E402

from campaigns import sending  # noqa: E402
from campaigns.models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Segment  # noqa: E402
from campaigns.tasks import campaign_send_task  # noqa: E402
from members.models import Member  # noqa: E402
from merchants.models import Merchant  # noqa: E402
from rewards.management.commands.seed_demo import DEMO_SLUG  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if connection.vendor != "postgresql" or urlsplit(os.environ.get("DATABASE_URL", "")).hostname not in {
        "127.0.0.1",
        "localhost",
    }:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine with the demo shop.")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database the bench may use (redis://127.0.0.1:6379/14).")
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
        started = time.perf_counter()
        written = sending.audience_write(campaign=campaign)
        write_s = time.perf_counter() - started
        print(f"Outbox: {written:,} rows ({members.count():,} members, 10% held out) written in {write_s:.1f} s.")

        with tempfile.TemporaryDirectory() as folder:
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            workers = [start_worker(queue, Path(folder), n) for n in range(args.workers)]
            try:
                started = time.perf_counter()
                for _worker in workers:
                    campaign_send_task.apply_async((campaign.pk,), queue=queue)
                status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
                while status.get() != CampaignStatus.SENT:
                    if any(worker.poll() is not None for worker in workers):
                        sys.exit("a Celery worker stopped; its log is in the bench's folder")
                    time.sleep(0.05)
                send_s = time.perf_counter() - started
            finally:
                for worker in workers:
                    worker.terminate()
                    worker.wait(timeout=30)
        sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        print(f"Sent {sent:,} emails with {args.workers} workers in {send_s:.1f} s ({sent / send_s:,.0f} a second).")
    finally:
        Message.objects.filter(campaign=campaign).delete()
        campaign.delete()


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
