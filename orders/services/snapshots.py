"""Whether a snapshot of a Stripe object may replace the one stored: one rule for every kind.

Stripe stamps each event with its ``created`` second and delivers events late, twice and out of
order, so two events of one object can carry the same second. A snapshot replaces the stored
one when its event is newer. In the same second the timestamps cannot tell, so the snapshot
replaces the stored one only if it is at least as far along the object's own lifecycle (its
*progress*: a status stage, a refunded total): ties never move anything backwards, and the
result does not depend on which worker committed last. Callers decide this under the row lock.
"""

from __future__ import annotations

from typing import Any


def snapshot_supersedes(*, stored_created: int | None, created: int, stored_progress: Any, progress: Any) -> bool:
    if stored_created is None or created > stored_created:
        return True
    if created < stored_created:
        return False
    return bool(progress >= stored_progress)
