"""A campaign to the whole demo shop: seconds to write the outbox, and to send it through the
development email backend with parallel workers.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench .venv/bin/python bench/campaign_bench.py --workers 2

Needs the demo shop with its members (seed_demo, or bench/dashboard_bench.py leaves it). Every
member is given email consent for the run (an address where they have none). The outbox is written
as the send button writes it; sending runs --workers threads, each with its own connection, through
Django's locmem email backend (a real SMTP server would add its own time). Deletes the campaign after.
"""

import argparse
import os
import sys
import threading
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
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
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

        def worker() -> None:
            try:
                sending.campaign_send(campaign_id=campaign.pk)
            finally:
                connection.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        send_s = time.perf_counter() - started
        sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        print(f"Sent {sent:,} emails with {args.workers} workers in {send_s:.1f} s ({sent / send_s:,.0f} a second).")
    finally:
        Message.objects.filter(campaign=campaign).delete()
        campaign.delete()


if __name__ == "__main__":
    main()
