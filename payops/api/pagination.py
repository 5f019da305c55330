"""Cursor pagination for staff lists: stable under inserts (new orders and webhook rows keep
arriving while someone pages), and no page number to fabricate or count."""

from __future__ import annotations

from django.core import signing
from rest_framework.exceptions import NotFound
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

    # DRF's cursor is base64 of a query string: a client could hand in any position, which the
    # database would then be asked to compare with a timestamp. Signed, only ours come back.
    def encode_cursor(self, cursor: Cursor) -> str:
        payload = {"o": cursor.offset, "r": int(cursor.reverse), "p": cursor.position}
        encoded = signing.dumps(payload, salt=_SALT, compress=True)
        return str(replace_query_param(self.base_url, self.cursor_query_param, encoded))

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
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
