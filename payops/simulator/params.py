"""Decoding Stripe's form-encoded parameters.

The Stripe libraries flatten nested parameters into bracket keys
(``payment_method_data[billing_details][email]=…``, ``payment_method_types[0]=konbini``).
``decode_form`` rebuilds the nested structure and ``Params`` reads it with Stripe's error
messages. Like Stripe, the simulator refuses parameters it does not know: a misspelt parameter
in payops's gateway then fails in the demo rather than being silently ignored.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

from payops.simulator.errors import StripeApiError, invalid_param, missing_param

_KEY = re.compile(r"^(?P<root>[^\[\]]+)(?P<rest>(?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Parameters every Stripe endpoint accepts and the simulator ignores.
_ALWAYS_ALLOWED = {"expand"}


def decode_form(data: QueryDict) -> dict[str, Any]:
    """``a[b][0]=x`` → ``{"a": {"b": ["x"]}}``; ``a[]=x&a[]=y`` → ``{"a": ["x", "y"]}``."""
    tree: dict[str, Any] = {}
    for key, values in data.lists():
        match = _KEY.match(key)
        if not match:
            raise invalid_param(f"Invalid parameter name: {key}", param=key)
        path = [match["root"], *_SEGMENT.findall(match["rest"])]
        for value in values:
            _insert(tree, path, value, key)
    return _lists_from_indexed_dicts(tree)


def _insert(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    *parents, leaf = path
    for segment in parents:
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise invalid_param(f"Invalid parameter: {key}", param=key)
        node = child
    if leaf == "":
        # "a[]=x": append with the next free index.
        node[str(len(node))] = value
    elif isinstance(node.get(leaf), dict):
        raise invalid_param(f"Invalid parameter: {key}", param=key)
    else:
        node[leaf] = value


def _lists_from_indexed_dicts(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists_from_indexed_dicts(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


class Params:
    """Typed, path-aware access to decoded parameters that records which ones were read."""

    def __init__(self, data: dict[str, Any], *, prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix
        self._read: set[str] = set()
        self._children: list[Params] = []

    def _name(self, key: str) -> str:
        return f"{self._prefix}[{key}]" if self._prefix else key

    def _take(self, key: str) -> Any:
        self._read.add(key)
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def text(self, key: str, *, required: bool = False, choices: tuple[str, ...] = (), max_length: int = 5000) -> str:
        value = self._take(key)
        if value is None or value == "":
            if required:
                raise missing_param(self._name(key))
            return ""
        if not isinstance(value, str):
            raise invalid_param(f"Invalid string: {self._name(key)}", param=self._name(key))
        if len(value) > max_length:
            raise invalid_param(
                f"Invalid string: {self._name(key)}; must be at most {max_length} characters",
                param=self._name(key),
            )
        if choices and value not in choices:
            raise invalid_param(
                f"Invalid {self._name(key)}: must be one of {', '.join(choices)}",
                param=self._name(key),
            )
        return value

    def integer(self, key: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        value = self._take(key)
        if value is None or value == "":
            if required:
                raise missing_param(self._name(key))
            return None
        if not isinstance(value, str) or not re.fullmatch(r"-?\d{1,18}", value):
            raise invalid_param(f"Invalid integer: {value}", param=self._name(key), code="parameter_invalid_integer")
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid_param(
                f"This value must be greater than or equal to {minimum}.",
                param=self._name(key),
                code="parameter_invalid_integer",
            )
        return number

    def boolean(self, key: str) -> bool:
        value = self._take(key)
        if value in (None, "", "false"):
            return False
        if value == "true":
            return True
        raise invalid_param(f"Invalid boolean: {value}", param=self._name(key))

    def text_list(self, key: str) -> list[str]:
        value = self._take(key)
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid_param(f"Invalid array: {self._name(key)}", param=self._name(key))
        return value

    def nested(self, key: str) -> Params:
        """Parameters under ``key[...]``; an absent hash reads as empty."""
        value = self._take(key)
        if value in (None, ""):
            value = {}
        if not isinstance(value, dict):
            raise invalid_param(f"Invalid hash: {self._name(key)}", param=self._name(key))
        child = Params(value, prefix=self._name(key))
        self._children.append(child)
        return child

    def string_map(self, key: str) -> dict[str, str]:
        """A free-form hash such as ``metadata``: every key allowed, values strings."""
        value = self._take(key)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
            raise invalid_param(f"Invalid hash: {self._name(key)}", param=self._name(key))
        if len(value) > 50:
            raise invalid_param(f"Invalid {self._name(key)}: at most 50 keys", param=self._name(key))
        return dict(value)

    def raw(self, key: str) -> Any:
        """Accept a value without interpreting it (stored and echoed back as given)."""
        return self._take(key)

    def reject_unknown(self) -> None:
        for key in self._data:
            if key not in self._read and not (key in _ALWAYS_ALLOWED and not self._prefix):
                raise StripeApiError(
                    f"Received unknown parameter: {self._name(key)}",
                    param=self._name(key),
                    code="parameter_unknown",
                )
        for child in self._children:
            child.reject_unknown()
