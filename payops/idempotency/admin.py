import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from payops.idempotency.models import IdempotencyRecord

# Parts of a stored answer that let whoever reads them act as the shopper: the PaymentIntent's
# client secret, and the order token (alone and inside the status-page URL). The Payment and
# Order admins hide the same values.
SECRET_NAMES = frozenset({"client_secret", "token", "status_url", "location"})
REDACTED = "[redacted]"


def redacted(value: Any) -> Any:
    """``value`` (a stored JSON answer or its headers) with every secret-bearing member replaced."""
    if isinstance(value, dict):
        return {
            name: REDACTED if str(name).lower() in SECRET_NAMES and item not in (None, "") else redacted(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read only: what a client's key answered, to help with "why did my retry get this?"."""

    list_display = ["key", "principal", "method", "path", "state", "response_status", "created_at", "expires_at"]
    list_filter = ["state", "method"]
    search_fields = ["key", "principal", "path"]
    readonly_fields = [
        *(f.name for f in IdempotencyRecord._meta.fields if f.name not in ("response_body", "response_headers")),
        "stored_answer",
        "stored_headers",
    ]
    exclude = ["response_body", "response_headers"]

    @admin.display(description=_("Response body (secrets redacted)"))
    def stored_answer(self, record: IdempotencyRecord) -> SafeString:
        return _as_json(redacted(record.response_body))

    @admin.display(description=_("Response headers (secrets redacted)"))
    def stored_headers(self, record: IdempotencyRecord) -> SafeString:
        return _as_json(redacted(record.response_headers))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdempotencyRecord | None = None) -> bool:
        return False


def _as_json(value: Any) -> SafeString:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, default=str))
