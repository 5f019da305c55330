"""How the token authentication appears in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "payops.apikeys.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pyo_…",
            "description": "A per-user API token created by staff (POST /api/v1/tokens/ from a dashboard "
            "session, or `manage.py api_token_create`). It acts as its user, limited to its level.",
        }
