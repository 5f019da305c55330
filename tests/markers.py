import pytest
from django.db import connection

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)",
)
