"""payops's own settings plus two constant endpoints, for bench/api.py's baselines only."""

from payops.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
