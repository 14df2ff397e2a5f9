"""A real Celery worker process, on Redis, sends an invitation email (unit tests run tasks eagerly)."""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from loyalty.celery import app as celery_app
from merchants.models import Role, token_hash
from merchants.services import invitation_create

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = 15  # a database of its own, emptied before and after the test
LINK = re.compile(r"https?://\S+/invite/(?P<token>[\w-]+)/")
END_OF_MESSAGE = b"-" * 79  # Django's file backend writes this line after each message
TIMEOUT = 30


@pytest.fixture
def broker_url():
    parts = urlsplit(REDIS_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1).close()
    except OSError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}); set REDIS_URL to run this test")
    url = parts._replace(path=f"/{REDIS_DB}").geturl()
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        client.flushdb()
        yield url
        client.flushdb()


def _drop_connection_pools() -> None:
    # Celery keeps the broker connection it opened first; drop it so publishing uses the broker
    # configured now, and later (eager) tests keep no Redis connection open.
    for pool in (celery_app._pool, celery_app.amqp._producer_pool):
        if pool is not None:
            pool.force_close_all()
    kombu_pools.reset()  # kombu keeps pools per broker URL: a closed one must not be handed out again
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def own_queue(broker_url: str, prefix: str) -> Iterator[str]:
    """Publish for real to a queue of this test only, which no leftover worker listens to."""
    conf = celery_app.conf
    names = ["task_always_eager", "broker_write_url", "broker_transport_options", "task_default_queue"]
    saved = {name: conf[name] for name in names}
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    # broker_write_url, not broker_url: Celery lets a CELERY_BROKER_URL variable override broker_url.
    conf.update(
        task_always_eager=False, broker_write_url=broker_url, broker_transport_options={}, task_default_queue=name
    )
    _drop_connection_pools()
    try:
        yield name
    finally:
        _drop_connection_pools()
        conf.update(saved)


@pytest.fixture
def queue(broker_url: str):
    with own_queue(broker_url, "test-worker") as name:
        yield name


def _database_url() -> str:
    """The test database (not the development one) as a DATABASE_URL for the worker."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        assert not connection.creation.is_in_memory_db(db["NAME"]), "a worker process cannot open an in-memory DB"
        return f"sqlite:///{db['NAME']}"
    assert connection.vendor == "postgresql", f"no DATABASE_URL scheme for {connection.vendor}"
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(*, queue: str, broker_url: str, mail_dir: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": "celery-worker-test-" + uuid.uuid4().hex,
        "EMAIL_URL": f"filemail://{mail_dir}",
    }
    command = [sys.executable, "-m", "celery", "-A", "loyalty", "worker", "--pool=solo", "--concurrency=1"]
    command += ["-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(worker: subprocess.Popen) -> None:
    worker.terminate()  # a warm shutdown: finish the current task, then exit
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _wait_for_email(mail_dir: Path, worker: subprocess.Popen, log: Path) -> bytes:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.log"):
            content = path.read_bytes()
            if END_OF_MESSAGE in content:
                return content
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"no email from the worker within {TIMEOUT} s; its log:\n{log.read_text()[-3000:]}")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # the worker reads committed rows through its own connection
def test_worker_sends_the_invitation_email_with_a_working_link(owner, queue, broker_url, tmp_path):
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    worker = _start_worker(queue=queue, broker_url=broker_url, mail_dir=mail_dir, log=log)
    try:
        invitation = invitation_create(
            merchant=owner.merchant, by=owner, email="new.cashier@example.com", role=Role.CASHIER
        )
        email = message_from_bytes(_wait_for_email(mail_dir, worker, log), policy=policy.default)
    finally:
        _stop(worker)
    assert email["To"] == "new.cashier@example.com"
    link = LINK.search(email.get_body(("plain",)).get_content())
    assert link, "no invitation link in the email"
    assert token_hash(link["token"]) == invitation.token_hash


def _emails(mail_dir: Path) -> list:
    messages = []
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_bytes().split(END_OF_MESSAGE):
            if chunk.strip():
                messages.append(message_from_bytes(chunk.strip(), policy=policy.default))
    return messages


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_workers_send_a_campaign_each_message_once(owner, queue, broker_url, tmp_path):
    """A campaign queued on two real workers: they share the outbox (each claims its own batches)
    and every member gets exactly one message, with their own name in it."""
    from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus, Segment
    from campaigns.services import campaign_start
    from merchants.actors import Actor
    from tests.factories import MemberFactory, ProgramFactory

    merchant = owner.merchant
    ProgramFactory(merchant=merchant)
    members = [
        MemberFactory(merchant=merchant, first_name=f"M{i}", email=f"m{i}@example.com", email_consent=True)
        for i in range(30)
    ]
    segment = Segment.objects.create(merchant=merchant, name="Everyone")
    campaign = Campaign.objects.create(
        merchant=merchant, name="Hello", segment=segment, subject="Hi", body="Dear {first_name}", holdout_percent=0
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [_start_worker(queue=queue, broker_url=broker_url, mail_dir=mail_dir, log=log) for log in logs]
    try:
        campaign_start(campaign=campaign, actor=Actor.for_staff(owner))
        deadline = time.monotonic() + TIMEOUT
        while Campaign.objects.get(pk=campaign.pk).status != CampaignStatus.SENT:
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    pytest.fail(f"a worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the campaign was not sent within {TIMEOUT} s:\n{logs[0].read_text()[-2000:]}")
            time.sleep(0.2)
    finally:
        for worker in workers:
            _stop(worker)
    sent = _emails(mail_dir)
    assert sorted(email["To"] for email in sent) == sorted(member.email for member in members)
    assert all(
        email.get_body(("plain",)).get_content().startswith(f"Dear {email['To'][:-12].upper()}") for email in sent
    )
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 30
