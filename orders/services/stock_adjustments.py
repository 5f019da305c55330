"""Stock counted by hand: a person corrects what the warehouse holds, and the change is logged.

The log is Django's admin log (``LogEntry``): one row per adjustment with the staff user, the
product, and a message that says before, after, by how much and why; it is the product's
history in the admin too. The form's key is in the message, so a second submit of the same
form is recognised and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from orders.errors import ActionNotAllowed
from orders.models import Product
from orders.services.staff_actions import StaffRequest, ensure_staff_level

MESSAGE_PREFIX = "stock_on_hand"
MAX_DELTA = 1_000_000


@dataclass(frozen=True)
class StockAdjusted:
    """``repeated``: this request had run already, nothing changed now."""

    sku: str
    before: int
    after: int
    repeated: bool = False


@dataclass(frozen=True)
class StockAdjustment:
    product_id: int
    before: int
    after: int
    reason: str


def stock_adjustments(product_ids: list[int] | None = None) -> QuerySet[LogEntry]:
    """The adjustment log, newest first (optionally of some products)."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Product), change_message__startswith=MESSAGE_PREFIX
    )
    if product_ids is not None:
        entries = entries.filter(object_id__in=[str(pk) for pk in product_ids])
    return entries.select_related("user").order_by("-action_time", "-pk")


@transaction.atomic
def product_adjust_stock(request: StaffRequest, *, product_id: int, delta: int, reason: str) -> StockAdjusted:
    """Change the units on hand by ``delta`` (negative: fewer). Reserved units cannot be counted away."""
    staff = ensure_staff_level(request, "stock_adjust")
    reference = request.reference
    reason = reason.strip()
    if not reason:
        raise ActionNotAllowed(_("Say why the stock changes (recount, damaged, delivery)."), field="reason")
    if delta == 0 or abs(delta) > MAX_DELTA:
        raise ActionNotAllowed(_("The change must be a whole number other than zero."), field="delta")
    product = Product.objects.select_for_update().get(pk=product_id)
    if stock_adjustments([product.pk]).filter(change_message__endswith=f"[{reference}]").exists():
        return StockAdjusted(product.sku, product.stock_on_hand, product.stock_on_hand, repeated=True)
    after = product.stock_on_hand + delta
    if after < product.stock_reserved:
        raise ActionNotAllowed(
            _("%(sku)s has %(reserved)d units reserved for orders; on hand cannot go below that (asked: %(after)d).")
            % {"sku": product.sku, "reserved": product.stock_reserved, "after": after},
            field="delta",
        )
    before = product.stock_on_hand
    product.stock_on_hand = after
    product.save(update_fields=["stock_on_hand", "updated_at"])
    LogEntry.objects.create(
        user_id=staff.pk,
        content_type=ContentType.objects.get_for_model(Product),
        object_id=str(product.pk),
        object_repr=str(product)[:200],
        action_flag=CHANGE,
        change_message=f"{MESSAGE_PREFIX} {before} → {after} ({delta:+d}): {reason[:500]} [{reference}]",
    )
    return StockAdjusted(product.sku, before, after)


def parse_adjustment(entry: LogEntry) -> StockAdjustment | None:
    """Read an adjustment back from its log message."""
    try:
        head, _, rest = entry.change_message.partition(": ")
        numbers = head.removeprefix(MESSAGE_PREFIX).split()
        reason = rest.rsplit(" [", 1)[0]
        return StockAdjustment(int(entry.object_id or 0), int(numbers[0]), int(numbers[2]), reason)
    except (ValueError, IndexError):
        return None
