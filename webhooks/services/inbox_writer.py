"""Writing verified deliveries to the inbox from the event loop (ADR 0012).

A delivery must be durable before it is acknowledged, so with a commit per delivery, ingest is
bounded by commits per second. ``GroupCommitInboxWriter`` writes the deliveries that arrive
while a commit is in flight together in the next transaction. Each delivery waits for its own
commit and never for a timer: a lone delivery is written at once, a burst costs one commit per
batch. Redeliveries are settled by the unique (provider, event_id) index, as on the ORM path.

``OrmInboxWriter`` is the same contract over the ORM (SQLite in the embedded profile).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections
from django.db.models import Field
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from webhooks.models import InboxEvent, InboxStatus
from webhooks.services.receive import InboxRecord, Receipt, enqueue_processing_batch, store_inbox_record

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (provider, event_id)

# Errors that belong to one row of a batch (a value the column refuses): the batch is written
# again row by row so that only the delivery at fault fails. Anything else (the database is
# down) fails the whole batch at once.
ROW_ERRORS = (psycopg.DataError, psycopg.IntegrityError)


ENQUEUE_GATHER_SECONDS = 0.02


class InboxWriter(Protocol):
    async def store(self, record: InboxRecord) -> Receipt: ...

    async def aclose(self) -> None: ...


class OrmInboxWriter:
    """The inbox through the ORM, in Django's thread for synchronous code."""

    async def store(self, record: InboxRecord) -> Receipt:
        return await sync_to_async(_store_with_fresh_connection)(record)

    async def aclose(self) -> None:
        return None


def _store_with_fresh_connection(record: InboxRecord) -> Receipt:
    # What Django does around each request: drop a connection that is broken or past its age.
    close_old_connections()
    try:
        return store_inbox_record(record)
    finally:
        close_old_connections()


class GroupCommitInboxWriter:
    """Inbox rows written by a few PostgreSQL connections, each committing whatever arrived
    while the previous commit was in flight; new rows are handed to Celery after the commit."""

    def __init__(
        self,
        *,
        connection_params: dict[str, Any],
        connections: int = 2,
        max_batch: int = 500,
        timeout: float = 5.0,
        enqueue: Callable[[Sequence[int]], None] = enqueue_processing_batch,
    ) -> None:
        self._pool = AsyncConnectionPool(
            kwargs={**connection_params, "autocommit": True},
            min_size=connections,
            max_size=connections,
            timeout=timeout,
            open=False,
            name="webhook-inbox",
        )
        self._connections, self._max_batch, self._enqueue = connections, max_batch, enqueue
        self._insert = InboxInsert.for_model()
        self._queue: asyncio.Queue[tuple[InboxRecord, asyncio.Future[Receipt]]] = asyncio.Queue()
        self._to_enqueue: list[int] = []
        self._enqueue_wanted = asyncio.Event()
        # One thread: Celery's client blocks, and the event loop must not.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-enqueue")
        self._tasks: list[asyncio.Task[None]] = []
        self._held: dict[asyncio.Task[Any] | None, psycopg.AsyncConnection[Any]] = {}
        self._opened = False
        self._starting: asyncio.Future[None] | None = None

    @classmethod
    def from_django_settings(cls, **options: Any) -> GroupCommitInboxWriter:
        params = connections["default"].get_connection_params()
        # Django's own cursor class and adapters are for its synchronous connections.
        for django_only in ("cursor_factory", "context"):
            params.pop(django_only, None)
        # Django turns prepared statements off (for poolers in transaction mode). Planning this
        # statement costs more than running it for a small batch, so prepare it unless told not to.
        if settings.WEBHOOK_INGEST_PREPARED_STATEMENTS:
            params["prepare_threshold"] = 1
        return cls(connection_params=params, **options)

    async def store(self, record: InboxRecord) -> Receipt:
        if not self._opened:
            await self._open()
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((record, future))
        return await future

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            if self._to_enqueue:  # stored rows not handed over yet
                ids, self._to_enqueue = self._to_enqueue, []
                await asyncio.get_running_loop().run_in_executor(self._executor, self._enqueue_from_thread, ids)
        except Exception:  # the rows are safe; the sweep takes them
            logger.warning("could not enqueue inbox events on close", exc_info=True)
        finally:
            self._executor.shutdown(wait=True)
            for conn in self._held.values():
                await self._pool.putconn(conn)
            self._held.clear()
            await self._pool.close()

    def _enqueue_from_thread(self, ids: Sequence[int]) -> None:
        try:
            self._enqueue(ids)
        finally:
            # Eager tasks (tests, the embedded profile) run in this thread: close what they opened.
            connections.close_all()

    async def _open(self) -> None:
        # Concurrent first deliveries wait for one start; a start that failed is tried again by
        # the next delivery instead of leaving deliveries queued with no writer.
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        except BaseException:
            if self._starting is starting and starting.done():
                self._starting = None
            raise

    async def _start(self) -> None:
        await self._pool.open()
        self._tasks = [asyncio.create_task(self._write_batches()) for _ in range(self._connections)]
        self._tasks.append(asyncio.create_task(self._hand_over_to_workers()))
        self._opened = True

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as exc:  # a bug here must fail these deliveries, not stop the writer
                logger.exception("inbox writer failed on a batch of %s", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        """This writer task's connection, kept between batches (a pool checkout per batch costs
        as much as a small insert); a broken one goes back to the pool, which replaces it."""
        task = asyncio.current_task()
        conn = self._held.get(task)
        if conn is not None and conn.closed:
            await self._pool.putconn(conn)
            conn = None
        if conn is None:
            conn = self._held[task] = await self._pool.getconn()
        return conn

    async def _write(self, batch: list[tuple[InboxRecord, asyncio.Future[Receipt]]]) -> None:
        outcomes: Sequence[Receipt | BaseException]
        try:
            outcomes = await self._insert_batch([record for record, _ in batch])
        except ROW_ERRORS as exc:
            if len(batch) > 1:
                for one in batch:
                    await self._write([one])
                return
            outcomes = [exc]
        except Exception as exc:
            outcomes = [exc] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the request was cancelled (the sender went away); the row stays
                continue
            if isinstance(outcome, Receipt):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)
        self._to_enqueue += [
            r.inbox_id
            for r in outcomes
            if isinstance(r, Receipt) and r.inbox_id and not r.duplicate and r.status == InboxStatus.RECEIVED
        ]
        if self._to_enqueue:
            self._enqueue_wanted.set()

    async def _insert_batch(self, records: list[InboxRecord]) -> list[Receipt]:
        """Receipts in the order of ``records``, after the commit."""
        first: dict[Key, InboxRecord] = {}
        for record in records:
            first.setdefault((record.provider, record.event_id), record)
        # Rows in one order in every transaction: two batches holding the same two new events
        # wait for each other in turn instead of deadlocking.
        new_rows = [first[key] for key in sorted(first)]
        conn = await self._connection()
        # One statement in autocommit: durable when it returns. It also reports the rows that
        # were stored before it began, so a redelivery costs no second round trip.
        inserted, existing = await self._insert.run(conn, new_rows)
        late = [key for key in first if key not in inserted and key not in existing]
        if late:  # committed by another writer while this statement waited on the unique index
            existing |= await self._insert.lookup(conn, late)
        receipts = []
        for record in records:
            key = (record.provider, record.event_id)
            if key in inserted and first[key] is record:
                receipts.append(Receipt(inbox_id=inserted[key][0], duplicate=False, status=inserted[key][1]))
            elif key in inserted or key in existing:
                inbox_id, status = inserted.get(key) or existing[key]
                receipts.append(Receipt(inbox_id=inbox_id, duplicate=True, status=status))
            else:  # neither inserted nor there: the conflicting row went away meanwhile
                raise psycopg.IntegrityError(f"inbox event {key} neither stored nor found")
        return receipts

    async def _hand_over_to_workers(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._enqueue_wanted.wait()
            # A broker message costs the server more than storing a row: gather what commits
            # in the next moments into one (processing starts that much later; the
            # acknowledgement does not wait for this at all).
            await asyncio.sleep(ENQUEUE_GATHER_SECONDS)
            self._enqueue_wanted.clear()
            ids, self._to_enqueue = self._to_enqueue, []
            if ids:
                try:
                    await loop.run_in_executor(self._executor, self._enqueue_from_thread, ids)
                except Exception:  # the rows are safe; the sweep takes them
                    logger.warning("could not enqueue inbox events %s", ids, exc_info=True)


class InboxInsert:
    """One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for any number of rows, built from the
    model so the two stay in step.

    The batch travels as a single JSON parameter, an array of rows, each payload embedded as it
    arrived: per-parameter encoding in the driver costs more than the insert itself for small
    batches, and this way it is one string however many rows there are.
    """

    # Row fields in the JSON array, in order, with the SQL that reads each; the other columns take
    # received_at from a parameter and the model's (constant) defaults.
    ROW = (
        ("provider", "e->>0"),
        ("event_id", "e->>1"),
        ("type", "e->>2"),
        ("api_version", "e->>3"),
        ("livemode", "(e->>4)::boolean"),
        ("event_created", "(e->>5)::bigint"),
        ("status", "e->>6"),
        ("outcome", "e->>7"),
        ("payload", "e->8"),
    )

    def __init__(self, statement: str, constants: list[Any], lookup: str) -> None:
        self._statement, self._constants, self._lookup = statement, constants, lookup

    @classmethod
    def for_model(cls) -> InboxInsert:
        meta = InboxEvent._meta
        connection = connections["default"]
        supplied = [_field(name) for name, _ in cls.ROW] + [_field("received_at")]
        constant_fields = []
        for field in meta.concrete_fields:
            if field.primary_key or field in supplied:
                continue
            if field.has_default() and callable(field.default):
                raise ImproperlyConfigured(f"InboxEvent.{field.name} has a computed default: add it to InboxInsert.ROW")
            if field.null and not field.has_default():
                continue  # NULL, as the ORM would write
            constant_fields.append(field)

        def column(name: str) -> sql.Identifier:
            return _identifier(_field(name))

        table = sql.Identifier(meta.db_table)
        # Rows that were stored before the statement began are in its snapshot; the INSERT's own
        # rows are not (a data-modifying WITH is invisible to the rest of its statement), so the
        # second SELECT finds exactly the redeliveries of earlier events.
        statement = sql.SQL(
            "WITH batch AS (SELECT {row} FROM jsonb_array_elements(%s::jsonb) AS e), "
            "inserted AS (INSERT INTO {table} ({columns}) SELECT batch.*, %s{constants} FROM batch "
            "ON CONFLICT ({provider}, {event_id}) DO NOTHING RETURNING {provider}, {event_id}, {id}, {status}) "
            "SELECT true, * FROM inserted UNION ALL "
            "SELECT false, t.{provider}, t.{event_id}, t.{id}, t.{status} FROM {table} AS t "
            "JOIN batch ON (t.{provider}, t.{event_id}) = (batch.{provider}, batch.{event_id})"
        ).format(
            table=table,
            columns=sql.Composed([_identifier(f) for f in (*supplied, *constant_fields)]).join(", "),
            row=sql.SQL(", ").join([sql.SQL("{} AS {}").format(sql.SQL(read), column(name)) for name, read in cls.ROW]),
            constants=sql.SQL("").join([sql.SQL(", %s") for _ in constant_fields]),
            provider=column("provider"),
            event_id=column("event_id"),
            id=column("id"),
            status=column("status"),
        )
        lookup = sql.SQL(
            "SELECT {provider}, {event_id}, {id}, {status} FROM {table} "
            "WHERE ({provider}, {event_id}) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        ).format(
            table=table,
            provider=column("provider"),
            event_id=column("event_id"),
            id=column("id"),
            status=column("status"),
        )
        constants = [f.get_db_prep_save(f.get_default(), connection) for f in constant_fields]
        # Rendered once: composing the statement on every execute would cost more than the insert.
        return cls(statement.as_string(), constants, lookup.as_string())

    async def run(
        self, conn: psycopg.AsyncConnection[Any], records: list[InboxRecord]
    ) -> tuple[dict[Key, tuple[int, str]], dict[Key, tuple[int, str]]]:
        """(rows inserted now, rows stored before) by key."""
        rows = ",".join(_json_row(record) for record in records)
        cursor = await conn.execute(self._statement, [f"[{rows}]", dt.datetime.now(dt.UTC), *self._constants])
        inserted: dict[Key, tuple[int, str]] = {}
        existing: dict[Key, tuple[int, str]] = {}
        for is_new, provider, event_id, pk, status in await cursor.fetchall():
            (inserted if is_new else existing)[(provider, event_id)] = (pk, status)
        return inserted, existing

    async def lookup(self, conn: psycopg.AsyncConnection[Any], keys: list[Key]) -> dict[Key, tuple[int, str]]:
        cursor = await conn.execute(self._lookup, [[p for p, _ in keys], [e for _, e in keys]])
        return {(provider, event_id): (pk, status) for provider, event_id, pk, status in await cursor.fetchall()}


def _field(name: str) -> Field[Any, Any]:
    field = InboxEvent._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _identifier(field: Field[Any, Any]) -> sql.Identifier:
    assert field.column is not None
    return sql.Identifier(field.column)


def _json_row(record: InboxRecord) -> str:
    """``[provider, event_id, type, api_version, livemode, created, status, outcome, payload]``,
    the payload spliced in as received: it is a JSON value already (parsed before we got here)."""
    status = InboxStatus.IGNORED.value if record.ignored_reason else InboxStatus.RECEIVED.value
    fields = json.dumps(
        [
            record.provider,
            record.event_id,
            record.type,
            record.api_version,
            record.livemode,
            record.event_created,
            status,
            record.ignored_reason,
        ]
    )
    payload = record.raw_payload if record.raw_payload is not None else json.dumps(record.payload)
    return f"{fields[:-1]},{payload}]"
