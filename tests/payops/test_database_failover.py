"""Issue 13.7: connections the database dropped (a restart, a failover) cost no user a 500.

Backends of this test's own database are terminated between requests (pg_terminate_backend,
never another database's); the next requests must all answer as if nothing happened: a pooled
connection is checked before a request gets it, a persistent one before it is reused.
"""

from __future__ import annotations

import psycopg
import pytest
import requests
from django.db import connection

from tests.factories import make_product
from tests.markers import requires_postgres
from tests.processes import PYTHON, Service, free_port, python_env, wait_for

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate_backends_of_this_test_database(*, keep_pid: int) -> int:
    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
            (keep_pid,),
        ).fetchall()
    return len(rows)


@pytest.fixture(
    params=[
        pytest.param(
            {"DATABASE_POOL": "true", "DATABASE_POOL_MIN_SIZE": "4", "DATABASE_POOL_MAX_SIZE": "4"}, id="pool"
        ),
        pytest.param({"DATABASE_POOL": "false", "DATABASE_CONN_MAX_AGE": "600"}, id="persistent"),
    ]
)
def web_server(request, tmp_path):
    """uvicorn serving payops from this test's database, its connections pooled or persistent."""
    port = free_port()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    server = Service(
        "web",
        [PYTHON, "-m", "uvicorn", "payops.asgi:application", "--port", str(port), "--no-access-log"],
        env=python_env(
            DATABASE_URL=url,
            **request.param,
            REDIS_URL="",
            PAYOPS_BASE_URL=f"http://127.0.0.1:{port}",
        ),
        workdir=tmp_path,
    )
    server.start()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/api/v1/products/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=60, what="uvicorn to serve")
        yield base, server
    finally:
        server.stop()


def test_no_request_gets_a_connection_the_database_dropped(web_server):
    base, server = web_server
    make_product(sku="TEA")
    session = requests.Session()
    # given warm connections
    assert {session.get(f"{base}/api/v1/products/", timeout=10).status_code for _ in range(8)} == {200}
    # when the database drops every one of them between requests
    with connection.cursor() as cursor:  # the test's own connection stays
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()
    assert terminate_backends_of_this_test_database(keep_pid=own_pid) >= 1
    # then no request sees a dead connection
    answers = [session.get(f"{base}/api/v1/products/", timeout=10).status_code for _ in range(20)]
    assert answers == [200] * 20, server.log()[-3000:]


def test_a_pool_full_of_dead_connections_hands_out_a_live_one_at_once():
    """After a failover every idle connection is dead. psycopg_pool's own check waits 1, 2, 4 s
    between them, so six dead ones outlast a 5 s timeout (PoolTimeout, a 503 for the shopper);
    payops's check drops them all at the first, and the next connection works."""
    from psycopg_pool import ConnectionPool

    from payops.db.postgresql.base import check_connection_or_sweep_pool

    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    pool = ConnectionPool(
        kwargs=dsn, min_size=6, max_size=6, timeout=5, check=check_connection_or_sweep_pool, open=True
    )
    try:
        pool.wait()
        held = [pool.getconn() for _ in range(6)]
        for conn in held:
            pool.putconn(conn)
        connection.ensure_connection()
        assert terminate_backends_of_this_test_database(keep_pid=connection.connection.info.backend_pid) >= 6

        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close()


def test_production_settings_use_the_backend_whose_pool_sweeps():
    from django.db import connections

    assert type(connections["default"]).__module__ == "payops.db.postgresql.base"
