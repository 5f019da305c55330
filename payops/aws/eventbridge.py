"""EventBridge: PutEvents in batches EventBridge accepts, with every entry's own result.

PutEvents can succeed as a call and still fail some entries (``FailedEntryCount``); the
result of each entry is reported back so the caller retries only those. moto does not enforce
the size limit, so payops measures entries itself, the way AWS documents it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from payops.aws.client import aws_client

MAX_ENTRIES_PER_CALL = 10
# "Time" counts as a fixed 14 bytes in AWS's entry size calculation.
_TIME_BYTES = 14


class EventTooLarge(ValueError):
    """An entry EventBridge would refuse for its size; it is never sent."""


@dataclass(frozen=True)
class EventEntry:
    key: str  # the caller's id for the entry, used to hand back its result
    source: str
    detail_type: str
    detail: str  # JSON text
    time: dt.datetime | None = None
    resources: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class EntryResult:
    key: str
    event_id: str = ""
    error_code: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.event_id) and not self.error_code


def max_request_bytes() -> int:
    return int(settings.PAYOPS_EVENT_MAX_BYTES)


def entry_size(entry: EventEntry) -> int:
    """Bytes this entry counts against the PutEvents limit (AWS's documented calculation)."""
    size = _TIME_BYTES if entry.time is not None else 0
    size += len(entry.source.encode()) + len(entry.detail_type.encode()) + len(entry.detail.encode())
    size += sum(len(resource.encode()) for resource in entry.resources)
    return size


def check_entry_size(entry: EventEntry) -> None:
    size = entry_size(entry)
    limit = max_request_bytes()
    if size > limit:
        raise EventTooLarge(
            f"{entry.detail_type} entry is {size:,} bytes; EventBridge accepts at most {limit:,} bytes per "
            "PutEvents entry. Keep the detail small: consumers fetch more through the API."
        )


def batches(entries: Iterable[EventEntry]) -> Iterator[list[EventEntry]]:
    """Group entries into PutEvents calls: at most 10 entries and the byte limit per call."""
    limit = max_request_bytes()
    batch: list[EventEntry] = []
    batch_bytes = 0
    for entry in entries:
        check_entry_size(entry)
        size = entry_size(entry)
        if batch and (len(batch) == MAX_ENTRIES_PER_CALL or batch_bytes + size > limit):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(entry)
        batch_bytes += size
    if batch:
        yield batch


def put_events(entries: Sequence[EventEntry], *, bus_name: str | None = None) -> list[EntryResult]:
    """One PutEvents call. Raises botocore's errors when the call itself fails."""
    if not 0 < len(entries) <= MAX_ENTRIES_PER_CALL:
        raise ValueError(f"PutEvents takes 1 to {MAX_ENTRIES_PER_CALL} entries, got {len(entries)}")
    bus = bus_name or settings.PAYOPS_EVENT_BUS_NAME
    request = []
    for entry in entries:
        item: dict[str, object] = {
            "Source": entry.source,
            "DetailType": entry.detail_type,
            "Detail": entry.detail,
            "EventBusName": bus,
        }
        if entry.time is not None:
            item["Time"] = entry.time
        if entry.resources:
            item["Resources"] = list(entry.resources)
        request.append(item)
    response = aws_client("events").put_events(Entries=request)
    results = response.get("Entries") or []
    if len(results) != len(entries):
        # The API promises one result per entry, in order; without that nothing can be trusted.
        message = f"PutEvents returned {len(results)} results for {len(entries)} entries"
        return [EntryResult(key=e.key, error_code="ResultMismatch", error_message=message) for e in entries]
    return [
        EntryResult(
            key=entry.key,
            event_id=str(result.get("EventId") or ""),
            error_code=str(result.get("ErrorCode") or ""),
            error_message=str(result.get("ErrorMessage") or ""),
        )
        for entry, result in zip(entries, results, strict=True)
    ]
