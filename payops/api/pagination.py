"""Cursor pagination for staff lists: stable under inserts (new orders and webhook rows keep
arriving while someone pages), and no page number to fabricate or count."""

from __future__ import annotations

from typing import Any

from django.core import signing
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, _positive_int
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

_SALT = "payops.api.cursor"


class NewestFirstCursorPagination(CursorPagination):
    """Newest first; the pk breaks ties between rows created in the same microsecond."""

    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # DRF's text; the problem handler turns its NotFound into a 404 problem.
    invalid_cursor_message = "The cursor is invalid or expired; start again from the first page."

    def get_page_size(self, request: Request) -> int:
        """DRF silently falls back to the default for a bad page_size; we say what is wrong."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Give a whole number from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The `next` or `previous` link's cursor; omit for the first page."
        return parameters

    # DRF's cursor is base64 of a query string: a client could hand in any position, which the
    # database would then be asked to compare with a timestamp. Signed, only ours come back.
    def encode_cursor(self, cursor: Cursor) -> str:
        payload = {"o": cursor.offset, "r": int(cursor.reverse), "p": cursor.position}
        encoded = signing.dumps(payload, salt=_SALT, compress=True)
        return str(replace_query_param(str(self.base_url), self.cursor_query_param, encoded))

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None  # absent or empty: the first page
        try:
            data = signing.loads(encoded, salt=_SALT)
            offset = _positive_int(data["o"], cutoff=self.offset_cutoff)
            return Cursor(offset=offset, reverse=bool(data["r"]), position=data["p"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise NotFound(self.invalid_cursor_message) from None


def newest_first(field: str) -> type[NewestFirstCursorPagination]:
    """The same pagination over a model whose timestamp field has another name."""
    return type(
        f"NewestFirstBy{field.title().replace('_', '')}",
        (NewestFirstCursorPagination,),
        {"ordering": (f"-{field}", "-pk")},
    )
