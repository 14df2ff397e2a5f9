"""Failure drills: real worker processes killed mid-job, a dropped database connection, Redis gone.

They run on PostgreSQL only (marked postgres): the worker and the test share its committed rows, and
the drills use its locks and pg_terminate_backend to stop work at a chosen point.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.test_celery_worker import _database_url, own_queue

TIMEOUT = 30
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")


@pytest.fixture
def broker_url():
    """The drills' own Redis database (REDIS_URL's), emptied before and after."""
    with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
        try:
            client.ping()
        except redis.ConnectionError as error:
            pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error})")
        client.flushdb()
        yield REDIS_URL
        client.flushdb()


@pytest.fixture
def queue(broker_url: str):
    """Publish for real to a queue of this test only; its workers consume and publish there too."""
    with own_queue(broker_url, "drill") as name:
        yield name


class Worker:
    """One `celery worker` process on the drill's queue, writing email to files in mail_dir."""

    def __init__(self, *, queue: str, broker_url: str, mail_dir: Path, log: Path, **env: str) -> None:
        self.log = log
        environment = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "SECRET_KEY": "drill-" + uuid.uuid4().hex,
            "EMAIL_URL": f"filemail://{mail_dir}",
            "DRILL_QUEUE": queue,
            **env,
        }
        command = [sys.executable, "-m", "tests.drills.worker", "worker", "--pool=solo", "--concurrency=1"]
        command += ["-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=environment, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no rollback but the database's own."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_for(self, condition: Callable[[], object], what: str) -> object:
        return self.wait_until(condition, what, worker=self)

    @staticmethod
    def wait_until(condition: Callable[[], object], what: str, worker: "Worker | None" = None) -> object:
        """What condition() returned once it was true; the test fails after TIMEOUT, or when the worker died."""
        deadline = time.monotonic() + TIMEOUT
        while not (result := condition()):
            if worker and worker.process.poll() is not None:
                pytest.fail(f"the worker exited with {worker.process.returncode}:\n{worker.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                log = worker.log.read_text()[-3000:] if worker else ""
                pytest.fail(f"{what}: not within {TIMEOUT} s; the database's sessions: {sessions()}\n{log}")
            time.sleep(0.05)
        return result


@pytest.fixture
def start_worker(queue, broker_url, tmp_path):
    """start_worker(**env) -> Worker; every worker started is stopped at the end."""
    workers = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start(**env: str) -> Worker:
        worker = Worker(queue=queue, broker_url=broker_url, mail_dir=mail_dir, log=tmp_path / "worker.log", **env)
        workers.append(worker)
        return worker

    start.mail_dir = mail_dir
    yield start
    for worker in workers:
        worker.stop()


def sessions() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot otherwise
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def backends_waiting_on_a_lock() -> list[int]:
    """Process ids of the test database's other sessions that wait for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the drill asks from inside its transaction
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(pids: list[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
