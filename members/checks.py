"""`manage.py check --deploy`: rate limits need a cache every web process shares."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS = ("LocMemCache", "DummyCache", "FileBasedCache")


@register(Tags.security, deploy=True)
def rate_limits_shared(app_configs: object = None, **kwargs: object) -> list[Warning]:
    """Each process of a per-process cache counts on its own: four gunicorn workers allow four times the
    limits (members.ratelimit). A file cache is shared on one machine only, and its increments race."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith(PER_PROCESS):
        return []
    return [
        Warning(
            "The cache is not shared between processes: sign-up, one-time code and voucher lookup limits "
            "hold per process only.",
            hint="Set REDIS_URL so every web process counts in one Redis.",
            id="members.W001",
        )
    ]
