"""The subset of JSONPath that Amazon States Language reference paths use: ``$`` and ``$.a.b``.

InputPath, ResultPath, Choice variables and Wait's SecondsPath/TimestampPath all use these.
Documents are treated as immutable: ``set_path`` returns a new one.
"""

from __future__ import annotations

import re
from typing import Any

_PATH = re.compile(r"^\$(\.[A-Za-z0-9_-]+)*$")


class PathError(Exception):
    """A path that is malformed or does not exist in the document."""


def validate_path(path: str) -> None:
    if not _PATH.match(path):
        raise PathError(f"{path!r} is not a reference path ($ or $.field.field)")


def _parts(path: str) -> list[str]:
    validate_path(path)
    return path.split(".")[1:]


def get_path(document: Any, path: str) -> Any:
    value = document
    for part in _parts(path):
        if not isinstance(value, dict) or part not in value:
            raise PathError(f"{path} is not present in the data")
        value = value[part]
    return value


def has_path(document: Any, path: str) -> bool:
    try:
        get_path(document, path)
    except PathError:
        return False
    return True


def set_path(document: Any, path: str | None, value: Any) -> Any:
    """ResultPath semantics: ``None`` discards the value, ``$`` replaces the whole document,
    ``$.a.b`` sets a field (creating the objects on the way)."""
    if path is None:
        return document
    parts = _parts(path)
    if not parts:
        return value
    root = dict(document) if isinstance(document, dict) else {}
    node = root
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = value
    return root
