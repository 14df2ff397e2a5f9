"""A real Celery worker with small batches, so a drill can stop it between two of them.

Run as `python -m tests.drills.worker <celery worker arguments>`; DRILL_EXPIRY_BATCH and DRILL_SEND_BATCH
set the expiry job's and a campaign send's batch sizes (production's are thousands and hundreds);
DRILL_QUEUE is the queue it consumes and publishes to.
"""

import os
import sys

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    django.setup()
    from celery.__main__ import main

    from campaigns import sending
    from loyalty.celery import app
    from rewards import ledger

    app.conf.task_default_queue = os.environ["DRILL_QUEUE"]  # what it queues, it consumes

    ledger.EXPIRY_BATCH = int(os.environ.get("DRILL_EXPIRY_BATCH", ledger.EXPIRY_BATCH))
    sending.SEND_BATCH = int(os.environ.get("DRILL_SEND_BATCH", sending.SEND_BATCH))
    sys.argv = ["celery", "-A", "loyalty", *sys.argv[1:]]
    sys.exit(main())
