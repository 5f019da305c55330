"""CI must run the chaos suite, not skip it for want of a service: .ci/run sets
PAYOPS_CHAOS_REQUIRED=1, and then a missing PostgreSQL or redis-server is a failure."""

import os
import shutil

import pytest
from django.db import connection


def test_ci_has_what_the_chaos_suite_needs() -> None:
    if os.environ.get("PAYOPS_CHAOS_REQUIRED") != "1":
        pytest.skip("only where PAYOPS_CHAOS_REQUIRED=1 (CI)")
    assert connection.vendor == "postgresql", "the chaos suite needs PostgreSQL: set DATABASE_URL"
    assert shutil.which("redis-server"), "the chaos suite needs redis-server on PATH"
