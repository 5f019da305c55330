"""The OpenAPI description of what every endpoint shares: problems, idempotency, throttling.

``PayopsAutoSchema`` (DRF's ``DEFAULT_SCHEMA_CLASS``) adds to each operation the errors that
the plumbing can answer whatever the view (authentication, permissions, throttling, invalid
input, idempotency conflicts, pagination cursors), with an example each, and the
``Idempotency-Key`` request header and ``Idempotent-Replayed`` / ``Retry-After`` response
headers. A view documents only its own, domain-specific errors.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import permissions, serializers

from payops.api.problems import PROBLEM_CONTENT_TYPE, problem_body


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": 'Messages per input field, by path: "email", "items[0].quantity"; '
        '"request" for the request as a whole.',
        "example": {"items[0].quantity": ["Ensure this value is greater than or equal to 1."]},
    }
)
class FieldErrorsField(serializers.DictField):
    pass


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error (``application/problem+json``)."""

    type = serializers.CharField(
        help_text="A stable URN naming the kind of problem, e.g. urn:payops:problem:validation-error. "
        "Branch on this, not on the title or detail."
    )
    title = serializers.CharField(help_text="A short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, for a person to read.")
    errors = FieldErrorsField(required=False, help_text="Present for invalid input.")  # type: ignore[assignment]  # an API field named like a Serializer attribute


def _problem(status: int, slug: str, title: str, detail: str, description: str, **extra: Any) -> OpenApiResponse:
    example = problem_body(status_code=status, slug=slug, title=title, detail=detail, **extra)
    return OpenApiResponse(
        ProblemSerializer,
        description=description,
        examples=[OpenApiExample(slug, value=example, summary=title)],
    )


def documented_problem(
    status: int, slug: str, title: str, detail: str, description: str, *, serializer: Any = None, **extra: Any
) -> OpenApiResponse:
    """A documented domain error for a view's ``extend_schema(responses=...)``."""
    response = _problem(status, slug, title, detail, description, **extra)
    if serializer is not None:
        response.response = serializer
    return response


VALIDATION_ERROR = _problem(
    400,
    "validation-error",
    "The request has invalid fields",
    "email: Enter a valid email address.",
    "Invalid input: `errors` lists the messages per field. Also `malformed-request` (unparsable JSON) "
    "and `invalid-idempotency-key`.",
    errors={"email": ["Enter a valid email address."]},
)
NOT_AUTHENTICATED = _problem(
    401,
    "not-authenticated",
    "Authentication required",
    "Authentication credentials were not provided.",
    "No credentials (`not-authenticated`), or a token that is unknown, revoked or expired "
    "(`authentication-failed`). The `WWW-Authenticate` header names the scheme.",
)
PERMISSION_DENIED = _problem(
    403,
    "permission-denied",
    "Permission denied",
    "You do not have permission to perform this action.",
    "The user (or the token's level) lacks the staff level this endpoint needs.",
)
NOT_FOUND = _problem(404, "not-found", "Not found", "No such resource.", "No such resource (or an invalid cursor).")
KEY_IN_USE = _problem(
    409,
    "idempotency-key-in-use",
    "Idempotency-Key in use",
    "A request with this Idempotency-Key is still being processed; retry shortly.",
    "Another request with the same `Idempotency-Key` is running; retry after `Retry-After` seconds.",
)
TOO_LARGE = _problem(
    413, "request-too-large", "Request too large", "The request body is too large.", "The body is too large."
)
UNSUPPORTED_MEDIA_TYPE = _problem(
    415,
    "unsupported-media-type",
    "Unsupported media type",
    'Unsupported media type "text/plain" in request.',
    "The body must be `application/json`.",
)
KEY_REUSED = _problem(
    422,
    "idempotency-key-reused",
    "Idempotency-Key reused",
    "This Idempotency-Key was used with a different request (method, path or body). Use a new key for a new request.",
    "The `Idempotency-Key` was used before with a different method, path or body.",
)
THROTTLED = _problem(
    429,
    "throttled",
    "Too many requests",
    "Request was throttled. Expected available in 12 seconds.",
    "Too many requests from this client; retry after `Retry-After` seconds.",
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Makes the POST safe to retry. The same key with the same body within 24 hours returns "
    "the stored answer (with `Idempotent-Replayed: true`) instead of running again; the same key "
    "with a different body is 422; while the first request runs, a second one gets 409. "
    "Keys are scoped per user (all anonymous clients share one scope): use a fresh UUID per "
    "operation. 1–255 visible ASCII characters.",
    pattern=r"^[\x21-\x7e]{1,255}$",
    examples=[OpenApiExample("uuid", value="8e0f6c4e-2b1a-4a43-9b7a-0d3f5c1e2a77")],
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 202, 400, 402, 404, 409, 413, 415],
    enum=["true"],
    description="`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[409, 429, 503],
    description="Seconds to wait before retrying.",
)


class PayopsAutoSchema(AutoSchema):
    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        # Serializers that refuse unknown fields say so, so clients (and fuzzers) know.
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters += [IDEMPOTENCY_KEY, REPLAYED]
        return [*parameters, RETRY_AFTER]

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, response in self._plumbing_errors().items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), (PROBLEM_CONTENT_TYPE,), direction
                )
        return dict(sorted(responses.items()))

    def _plumbing_errors(self) -> dict[int, OpenApiResponse]:
        errors: dict[int, OpenApiResponse] = {401: NOT_AUTHENTICATED, 429: THROTTLED}
        if not self._is_public():
            errors[403] = PERMISSION_DENIED
        if self.method == "POST":
            errors.update({400: VALIDATION_ERROR, 409: KEY_IN_USE, 413: TOO_LARGE, 415: UNSUPPORTED_MEDIA_TYPE})
            errors[422] = KEY_REUSED
        elif self._has_query_filters() or self._is_paginated():
            errors[400] = VALIDATION_ERROR
        if "{" in self.path or self._is_paginated():
            errors[404] = NOT_FOUND
        return errors

    def _is_public(self) -> bool:
        return any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    def _is_paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _has_query_filters(self) -> bool:
        return bool(getattr(self.view, "filterset_class", None)) or any(
            not isinstance(p, OpenApiParameter) for p in super().get_override_parameters()
        )


API_DESCRIPTION = """\
The payops REST API: the catalogue, checkout and the shopper's order for shops and apps; orders,
staff actions, the webhook inbox, the outbox, the mail log and workflows for the merchant's
tools. Conventions, as Stripe has them:

* **Versions.** Everything is under `/api/v1/`. Within v1, changes only add (fields, endpoints,
  enum values: clients must ignore what they do not know); a breaking change gets `/api/v2/`.
* **Money** is an integer in the currency's minor unit plus an ISO 4217 code: ¥1,500 is
  `{"amount": 1500, "currency": "JPY"}`, $9.99 is `{"amount": 999, "currency": "USD"}`, with
  `display` for people. Never a float. Times are ISO 8601 in UTC.
* **Authentication.** Shopper endpoints need none (the order token in the path is the only key to
  its order). Staff endpoints take `Authorization: Bearer <token>` (per-user tokens created and
  revoked by staff; a token acts as its user, limited to its own level) or the dashboard's
  session (with its CSRF token). Staff levels: *view* (read everything), *operate* (ship,
  approve or reject, cancel unpaid, record a payment, replay or retry rows), *refund*.
* **Retries.** Send an `Idempotency-Key` header (a fresh UUID per operation) with every POST. The
  same key and body within 24 hours answers with the stored response and
  `Idempotent-Replayed: true`; the same key with another body is 422; while the first request
  runs, a second gets 409. Server errors (5xx) and 429 are not stored: retry them with the same key.
* **Errors** are `application/problem+json` (RFC 9457): `type` (a stable URN to branch on),
  `title`, `status`, `detail`, and `errors` per field for invalid input. Never HTML, never a stack
  trace. An unexpected failure is a 500 `urn:payops:problem:internal-error`.
* **Rate limits.** Anonymous clients per address (checkout, order by token, catalogue) and token
  clients per token; over the limit: 429 with `Retry-After`.
* **Lists** of staff resources are cursor-paginated (`next` / `previous` links), newest first.
"""

TAGS = [
    {"name": "catalogue", "description": "Products and their availability. Public."},
    {"name": "checkout", "description": "Placing an order. Public, throttled per address."},
    {"name": "orders (shopper)", "description": "The shopper's own order, by its order token. Public."},
    {"name": "orders (staff)", "description": "Orders and staff actions on them. Staff levels apply."},
    {"name": "webhook inbox", "description": "Webhook events as received and processed."},
    {"name": "outbox", "description": "Domain events on their way to EventBridge."},
    {"name": "mail", "description": "The mail log."},
    {"name": "workflows", "description": "Fulfilment workflow executions and their approvals."},
    {"name": "api tokens", "description": "Per-user API tokens."},
]


def describe_api(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the API's overview and tag descriptions."""
    result["info"]["description"] = API_DESCRIPTION
    used = {tag for path in result.get("paths", {}).values() for op in path.values() for tag in op.get("tags", [])}
    result["tags"] = [tag for tag in TAGS if tag["name"] in used]
    return result


__all__ = ["PayopsAutoSchema", "ProblemSerializer", "describe_api", "documented_problem"]
