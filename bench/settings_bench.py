"""Production settings plus the bench's bare reference view (bench/bare.py)."""

from loyalty.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare"
