"""Redis gone: a throwaway redis-server of the drill's own (never the shared one) is the cache and the
broker, and is killed. Pages keep working (the cache fails open, loyalty.cache), queuing a task gives up
quickly, and the work asked for while Redis was down runs once it is back (merchants.queue)."""

import socket
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from loyalty.celery import app as celery_app
from members.models import Member
from merchants.models import QueuedTask
from merchants.queue import queued_resend
from tests.factories import MemberFactory, ProgramFactory
from tests.test_celery_worker import _drop_connection_pools

from .conftest import Worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class ThrowawayRedis:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--daemonize", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server(settings):
    """The cache and the broker on a redis-server of this test only, running until redis_server.kill()."""
    server = ThrowawayRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "loyalty.cache.PooledRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    conf = celery_app.conf
    names = ["task_always_eager", "broker_write_url", "broker_transport_options", "task_default_queue"]
    saved = {name: conf[name] for name in names}
    conf.update(
        task_always_eager=False,
        broker_write_url=server.url,
        broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2},
        task_default_queue=f"drill-{uuid.uuid4().hex[:12]}",
    )
    _drop_connection_pools()
    yield server
    _drop_connection_pools()
    conf.update(saved)
    server.kill()


@pytest.fixture
def shop(merchant):
    ProgramFactory(merchant=merchant)
    return merchant


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("owner_client", lambda shop, member: reverse("merchants:home")),
        ("cashier_client", lambda shop, member: reverse("rewards:counter")),
        ("cashier_client", lambda shop, member: reverse("rewards:counter_member", args=[member.pk])),
        ("client", lambda shop, member: reverse("public:signup", args=[shop.slug])),
        ("client", lambda shop, member: reverse("member_portal:login", args=[shop.slug])),
    ],
)
def test_pages_keep_working_with_redis_down(request, redis_server, shop, who, page):
    member = MemberFactory(merchant=shop)
    redis_server.kill()
    response = request.getfixturevalue(who).get(page(shop, member))
    assert response.status_code == 200


def test_a_purchase_at_the_counter_is_recorded_with_redis_down(redis_server, shop, cashier_client):
    member = MemberFactory(merchant=shop)
    redis_server.kill()
    url = reverse("rewards:counter_purchase", args=[member.pk])
    response = cashier_client.post(url, {"key": "k1", "amount": "25.00"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert member.account.balance == 25


def test_a_sign_up_with_redis_down_is_kept_and_its_card_link_goes_out_once_redis_is_back(
    redis_server, shop, client, tmp_path
):
    redis_server.kill()
    started = time.monotonic()
    response = client.post(
        reverse("public:signup", args=[shop.slug]),
        {
            "key": "form-1",
            "first_name": "Siti",
            "last_name": "Aminah",
            "email": "siti@example.com",
            "phone": "012-345 6789",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert time.monotonic() - started < 5  # queuing gave up quickly
    member = Member.objects.get(merchant=shop)
    assert list(QueuedTask.objects.values_list("name", "args")) == [
        ("members.tasks.card_link_send_task", [shop.pk, member.pk])
    ]

    redis_server.start()
    queue = celery_app.conf.task_default_queue
    worker = Worker(queue=queue, broker_url=redis_server.url, mail_dir=tmp_path, log=tmp_path / "worker.log")
    try:
        assert queued_resend(now=timezone.now() + timedelta(minutes=1)) == 1  # beat's job, a minute later
        worker.wait_for(lambda: list(tmp_path.glob("*.log")) != [tmp_path / "worker.log"], "the card link email")
    finally:
        worker.stop()
    emails = [path.read_text() for path in tmp_path.glob("*.log") if path.name != "worker.log"]
    assert len(emails) == 1
    assert "To: siti@example.com" in emails[0]
    assert not QueuedTask.objects.exists()
