"""Shared fixtures: two shops, and a signed-in client per role in the first one."""

import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import translation

from loyalty.celery import app as celery_app
from members.sms import MemoryBackend
from merchants.middleware import SESSION_KEY
from merchants.models import Role

from .factories import LocationFactory, MerchantFactory, StaffFactory


def pytest_collection_modifyitems(config, items) -> None:
    """Row locks and concurrency are PostgreSQL's guarantees; SQLite runs skip those tests."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_keepdb(request) -> bool:
    """--reuse-db keeps PostgreSQL's test database. SQLite's is a file (so the Celery worker test
    can share it) rebuilt every run, in a fraction of a second, so an edited migration always applies."""
    reuse = request.config.getvalue("reuse_db") and not request.config.getvalue("create_db")
    return bool(reuse) and connection.vendor != "sqlite"


@pytest.fixture(autouse=True)
def _fast_and_plain(settings):
    """MD5 hashing and plain static storage: tests need speed, not a collectstatic manifest."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.SMS_BACKEND = "members.sms.MemoryBackend"
    MemoryBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test starts with an empty in-process cache (rolled-back rows must not linger there)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_cache(settings):
    """The cache as production has it: Redis (REDIS_URL), shared by every worker. Rate limits are tested
    on it too, where a count must be seen by other processes; skipped when no Redis is configured."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (CI does)")
    settings.CACHES = {
        "default": {"BACKEND": "loyalty.cache.PooledRedisCache", "LOCATION": os.environ["REDIS_URL"], "KEY_PREFIX": "t"}
    }
    cache.clear()  # this Redis database is the test run's own
    yield cache
    cache.clear()


@pytest.fixture(autouse=True)
def _english_to_start():
    """Each test starts in English. A request in another language leaves it active in the thread
    (LocaleMiddleware activates one per request and never deactivates), so a later test calling a
    service directly would otherwise read its messages in that language."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP (production's HTTPS redirect would answer every request
    with a 301), and WhiteNoise finds static files without a collectstatic run."""
    settings.SECURE_SSL_REDIRECT = False
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process, at commit; one integration test runs a real worker instead."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def merchant(db):
    merchant = MerchantFactory(name="Bubbles Laundromat")
    LocationFactory(merchant=merchant, name="SS2")
    return merchant


@pytest.fixture
def other_merchant(db):
    merchant = MerchantFactory(name="Charlie's Cafe", country="TH", currency="THB", timezone="Asia/Bangkok")
    LocationFactory(merchant=merchant, name="Silom")
    return merchant


def _client_for(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    session = client.session
    session[SESSION_KEY] = staff.merchant_id
    session.save()
    return client


@pytest.fixture
def owner(merchant):
    return StaffFactory(merchant=merchant, role=Role.OWNER)


@pytest.fixture
def manager(merchant):
    return StaffFactory(merchant=merchant, role=Role.MANAGER)


@pytest.fixture
def cashier(merchant):
    return StaffFactory(merchant=merchant, role=Role.CASHIER)


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def cashier_client(cashier):
    return _client_for(cashier)
