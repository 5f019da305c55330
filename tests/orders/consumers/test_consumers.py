import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction
from django.test import Client

from orders.consumers import CLOSE_FORBIDDEN, CLOSE_RATE_LIMITED, CLOSE_UNKNOWN_ORDER
from orders.services.order_events import Cause
from orders.services.transitions import order_mark_awaiting_payment, order_mark_paid
from payops.asgi import websocket_application
from tests.factories import make_order, make_payment

pytestmark = [pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
async def _close_db_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """The consumers' own behaviour, on the in-memory layer: a channels_redis layer is one object
    per process whose receive lock outlives each test's event loop. The Redis layer is exercised
    by the browser tests (tests/e2e) and bench/live_latency.py, with real processes."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    from django.core.cache import cache

    cache.clear()
    settings.PAYOPS_WS_CONNECTS_PER_MINUTE = 60


def _order():
    order = make_order(status="pending_payment")
    make_payment(order, method="konbini", status="requires_action")
    return order


async def connect(path, headers=(ORIGIN,)):
    communicator = WebsocketCommunicator(websocket_application(), path, headers=list(headers))
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_shopper_gets_a_snapshot_on_connect():
    order = await sync_to_async(_order)()
    communicator, connected = await connect(f"/ws/orders/{order.token}/")
    assert connected
    message = await communicator.receive_json_from()
    assert message["type"] == "order.snapshot"
    assert message["sequence"] == 0
    assert message["order"]["number"] == order.number
    assert message["order"]["status"] == "pending_payment"
    assert message["order"]["total"]["currency"] == "JPY"
    assert message["event"] is None
    assert set(message["html"]) == {"status", "next_step", "timeline"}
    assert str(order.pk) not in message["html"]["status"]
    await communicator.disconnect()


@pytest.mark.parametrize("token", ["x" * 32, "short", "../../etc"])
async def test_unknown_or_malformed_token_is_closed_with_a_code(token):
    communicator, _ = await connect(f"/ws/orders/{token}/")
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_UNKNOWN_ORDER}


async def test_committed_transitions_are_broadcast_with_increasing_sequence():
    order = await sync_to_async(_order)()
    communicator, _ = await connect(f"/ws/orders/{order.token}/")
    await communicator.receive_json_from()  # snapshot

    await sync_to_async(order_mark_awaiting_payment)(order_id=order.pk, cause=Cause.system("test"))
    await sync_to_async(order_mark_paid)(order_id=order.pk, cause=Cause.webhook("evt_live"))

    first = await communicator.receive_json_from()
    second = await communicator.receive_json_from()
    assert [first["type"], second["type"]] == ["order.updated", "order.updated"]
    assert first["event"]["to_status"] == "awaiting_payment"
    assert second["event"]["to_status"] == "paid"
    assert second["event"]["sequence"] == 2
    assert first["sequence"] <= second["sequence"] == 2
    assert second["order"]["status"] == "paid"
    assert "Paid" in second["html"]["status"] or "支払" in second["html"]["status"]
    await communicator.disconnect()


async def test_nothing_is_broadcast_for_a_rolled_back_change():
    order = await sync_to_async(_order)()
    communicator, _ = await connect(f"/ws/orders/{order.token}/")
    await communicator.receive_json_from()

    def change_then_fail():
        with transaction.atomic():
            order_mark_paid(order_id=order.pk, cause=Cause.system("test"))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await sync_to_async(change_then_fail)()
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_refresh_request_returns_the_current_state():
    order = await sync_to_async(_order)()
    communicator, _ = await connect(f"/ws/orders/{order.token}/")
    await communicator.receive_json_from()
    await communicator.send_json_to({"type": "refresh"})
    again = await communicator.receive_json_from()
    assert again["type"] == "order.snapshot"
    await communicator.disconnect()


async def test_connection_attempts_are_rate_limited(settings):
    settings.PAYOPS_WS_CONNECTS_PER_MINUTE = 2
    order = await sync_to_async(_order)()
    for _ in range(2):
        communicator, _ = await connect(f"/ws/orders/{order.token}/")
        assert (await communicator.receive_json_from())["type"] == "order.snapshot"
        await communicator.disconnect()
    communicator, _ = await connect(f"/ws/orders/{order.token}/")
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_RATE_LIMITED}


async def test_foreign_origin_is_refused(settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    order = await sync_to_async(_order)()
    _, connected = await connect(f"/ws/orders/{order.token}/", headers=[(b"origin", b"https://evil.example.net")])
    assert not connected


def _session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff without a level"])
async def test_merchant_socket_refuses_users_without_the_view_level(django_user_model, who):
    headers = [ORIGIN]
    if who != "anonymous":
        user = await sync_to_async(django_user_model.objects.create_user)(
            who.replace(" ", "-"), is_staff=who != "customer"
        )
        headers.append((b"cookie", await sync_to_async(_session_cookie)(user)))
    communicator, _ = await connect("/ws/merchant/", headers=headers)
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def _staff_with_view_level(django_user_model):
    from django.contrib.auth.models import Group

    from payops.staff.levels import GROUP_FOR_LEVEL, StaffLevel, ensure_staff_groups

    ensure_staff_groups()
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_FOR_LEVEL[StaffLevel.VIEW]))
    return user


async def test_staff_with_the_view_level_receive_every_order_change(django_user_model):
    staff = await sync_to_async(_staff_with_view_level)(django_user_model)
    cookie = await sync_to_async(_session_cookie)(staff)
    communicator, connected = await connect("/ws/merchant/", headers=[ORIGIN, (b"cookie", cookie)])
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    order = await sync_to_async(_order)()
    await sync_to_async(order_mark_paid)(order_id=order.pk, cause=Cause.webhook("evt_m"))
    message = await communicator.receive_json_from()
    assert message["order"]["number"] == order.number
    assert message["order"]["status"] == "paid"
    assert message["order"]["email"] == "shopper@example.com"
    assert message["event"]["type"] == "order.paid"
    await communicator.disconnect()
