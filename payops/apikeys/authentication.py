"""``Authorization: Bearer pyo_...`` for frontends and integrations."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from payops.apikeys.models import ApiToken
from payops.apikeys.services import api_token_authenticate

KEYWORD = "Bearer"


class ApiTokenAuthentication(BaseAuthentication):
    """No ``Authorization`` header: not this scheme, the next one (or anonymous) applies.
    A Bearer header with a token that is unknown, revoked or expired: 401, never anonymous."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = api_token_authenticate(plaintext=plaintext)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, or was revoked or has expired.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="payops"'
