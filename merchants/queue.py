"""Tasks queued after the commit, and never lost to a broker that is down.

enqueue() writes a QueuedTask row in the caller's transaction and, once it commits, hands the task to
the broker and deletes the row. With Redis down the hand-over fails fast (bounded by the broker
timeouts in settings), the request carries on, and the row stays: queued_resend(), beat's job every
minute, queues what is left once Redis is back. A task may so run twice (a crash between queuing and
deleting); tasks are idempotent by design.
"""

import logging
from datetime import datetime, timedelta

from celery import Task, current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .models import QueuedTask

log = logging.getLogger(__name__)

# A row younger than this may still be on its way out (its commit's hand-over): the sweep leaves it.
GRACE = timedelta(seconds=30)


def enqueue(task: Task, *args: object, at_once: bool = False) -> None:
    """task.delay(*args) after the commit, kept in the database until the broker has it. at_once: a
    request outside any transaction (nothing to wait for) hands it over now."""
    row = QueuedTask.objects.create(name=task.name, args=list(args))
    if at_once:
        _hand_over(row)
    else:
        transaction.on_commit(lambda: _hand_over(row))


def _hand_over(row: QueuedTask) -> bool:
    try:
        current_app.tasks[row.name].apply_async(row.args)
    except BrokerError as error:
        log.warning("broker unreachable (%s): %s stays queued in the database", error, row)
        return False
    QueuedTask.objects.filter(pk=row.pk).delete()
    return True


def queued_resend(*, now: datetime | None = None) -> int:
    """Queue the tasks the broker could not take when they were asked for; returns how many went."""
    now = now or timezone.now()
    sent = 0
    for row in QueuedTask.objects.filter(created_at__lt=now - GRACE).order_by("pk")[:1000]:
        if not _hand_over(row):
            break  # still down: the next minute tries again
        sent += 1
    return sent
