"""The API's JSON parser: DRF's, refusing bodies nested too deeply to parse safely (issue 13.8)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from payops.json_depth import MAX_JSON_DEPTH, json_too_deep


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        body = stream.read() if stream is not None else b""
        if json_too_deep(body):
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels")
        return super().parse(io.BytesIO(body), media_type, parser_context)
