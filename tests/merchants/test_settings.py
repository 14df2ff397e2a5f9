"""Settings come from the environment at import time, so each case imports them in a fresh process."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings as django_settings

BASE_DIR = str(django_settings.BASE_DIR)
PRINT_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run Python in the project with only `env` set (plus PATH and the settings module)."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "loyalty.settings"} | env
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def _settings(env: dict[str, str], *names: str) -> dict:
    result = _run(env, "-c", PRINT_SETTINGS, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _production_env(**extra: str) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "shop.example.com",
        "EMAIL_URL": "smtp+tls://mailer:password@mail.example.com:587",
        "REDIS_URL": "redis://cache.example.com:6379/0",  # the shared cache rate limits count in (not connected to)
    } | extra


def test_database_url_selects_postgresql_with_persistent_checked_connections():
    database = _settings({"DEBUG": "1", "DATABASE_URL": "postgres://shop:pw@db.example.com:5432/loyalty"}, "DATABASES")[
        "DATABASES"
    ]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example.com", 5432, "loyalty")
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_no_database_url_selects_sqlite_in_the_project_folder():
    database = _settings({"DEBUG": "1"}, "DATABASES")["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == os.path.join(BASE_DIR, "db.sqlite3")
    assert "busy_timeout" in database["OPTIONS"]["init_command"]


def test_celery_broker_defaults_to_the_filesystem_transport():
    values = _settings({"DEBUG": "1"}, "CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS")

    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"].endswith(os.path.join(".celery", "broker"))


def test_celery_broker_uses_redis_url_when_set():
    values = _settings({"DEBUG": "1", "REDIS_URL": "redis://cache.example.com:6379/0"}, "CELERY_BROKER_URL")

    assert values["CELERY_BROKER_URL"] == "redis://cache.example.com:6379/0"


def test_celery_broker_url_wins_over_redis_url():
    env = {"DEBUG": "1", "REDIS_URL": "redis://cache.example.com:6379/0", "CELERY_BROKER_URL": "redis://q:6379/1"}

    assert _settings(env, "CELERY_BROKER_URL")["CELERY_BROKER_URL"] == "redis://q:6379/1"


def test_production_without_a_secret_key_refuses_to_start():
    result = _run({}, "-c", "from django.conf import settings; settings.DEBUG")

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set SECRET_KEY (or DEBUG=1 for local development)." in result.stderr


def test_debug_without_a_secret_key_starts_with_the_development_key():
    values = _settings({"DEBUG": "1"}, "DEBUG", "SECRET_KEY")

    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("dev-only-")


def test_email_url_configures_the_default_smtp_mailer():
    mailers = _settings({"DEBUG": "1", "EMAIL_URL": "smtp+tls://u:p@mail.example.com:587"}, "MAILERS")["MAILERS"]

    assert mailers["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailers["default"]["OPTIONS"] == {
        "host": "mail.example.com",
        "port": 587,
        "username": "u",
        "password": "p",
        "use_tls": True,
    }


def test_no_email_url_prints_mail_on_the_console():
    mailers = _settings({"DEBUG": "1"}, "MAILERS")["MAILERS"]

    assert mailers == {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend", "OPTIONS": {}}}


def test_production_settings_are_secure_by_default():
    values = _settings(
        _production_env(),
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "ALLOWED_HOSTS",
    )

    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 60 * 60 * 24 * 365,
        "ALLOWED_HOSTS": ["shop.example.com"],
    }


def test_deploy_check_passes_with_production_variables():
    result = _run(_production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_deploy_check_refuses_a_production_without_an_email_server():
    env = _production_env()
    del env["EMAIL_URL"]

    result = _run(env, "manage.py", "check", "--deploy")

    assert result.returncode != 0
    assert "mail.E001" in result.stderr
