"""Issue 13.5 at the transport: the state kombu leaves behind when Redis goes away under
unacknowledged messages must not turn a channel close into an AttributeError (which Celery does
not ignore, so the worker died); the real-worker proof is tests/payops/test_broker_outage.py."""

from __future__ import annotations

import pytest
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from payops.broker import Transport
from payops.celery import app
from tests.processes import PrivateRedis


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_celery_uses_the_payops_transport_for_redis_urls(redis_server):
    with app.connection_for_write(redis_server.url) as connection:
        assert isinstance(connection.transport, Transport)


def test_a_channel_closed_after_its_connection_went_away_does_not_crash(redis_server):
    connection = Connection(redis_server.url)
    channel = connection.channel()
    queue = Queue("broker-test", Exchange("broker-test"), "broker-test")
    producer = connection.Producer(channel)
    for n in range(2):
        producer.publish({"n": n}, exchange=queue.exchange, routing_key="broker-test", declare=[queue])
    held = [channel.basic_get("broker-test", no_ack=False) for _ in range(2)]  # unacknowledged
    assert all(held) and len(channel.qos._delivered) == 2

    # Redis goes away; kombu drops the channel's pools and detaches the transport from its client
    # (what Connection.collect() leaves behind when Celery handles the lost connection).
    redis_server.stop()
    channel._disconnect_pools()
    connection._do_close_transport()

    # Celery then closes its channels, ignoring connection errors only.
    ignore_errors(connection, channel.close)
    assert channel.closed
