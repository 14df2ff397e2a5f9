"""Settings are read from the environment at import: production-like cases run Python in a fresh process."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

PRINT_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def production_env(**extra: str) -> dict[str, str]:
    """What a deployment sets: DEBUG off (the default), a real key, its host, a mail server and Redis."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.com",
        "EMAIL_URL": "smtp+tls://mailer:password@mail.example.com:587",
        "REDIS_URL": "redis://redis.example.com:6379/0",  # not connected to: the checks read settings only
    } | extra


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Python in the project with only `env` set (plus PATH and the settings module)."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "loyalty.settings"} | env
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_settings(*names: str, **env: str) -> dict:
    result = run_python(production_env(**env), "-c", PRINT_SETTINGS, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
