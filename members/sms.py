"""Text messages through a pluggable backend: SMS_BACKEND names a class with send(to, body).

Development prints them (console) or keeps them in a local outbox folder; production plugs in a
provider's backend class without touching the callers.
"""

import json
import logging
import sys
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class ConsoleBackend:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}:\n{body}\n{'-' * 40}\n")
        sys.stdout.flush()


class OutboxBackend:
    """One JSON file per message in SMS_OUTBOX_DIR: a local outbox to read in development or tests."""

    def send(self, to: str, body: str) -> None:
        folder = Path(settings.SMS_OUTBOX_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        (folder / f"{stamp}.json").write_text(json.dumps({"to": to, "body": body}, ensure_ascii=False))


class MemoryBackend:
    """Keeps messages in `outbox`, like Django's locmem email backend; for tests."""

    outbox: list[dict[str, str]] = []

    def send(self, to: str, body: str) -> None:
        MemoryBackend.outbox.append({"to": to, "body": body})


@cache
def _backend(path: str):
    return import_string(path)()


def sms_send(*, to: str, body: str) -> None:
    _backend(settings.SMS_BACKEND).send(to, body)
