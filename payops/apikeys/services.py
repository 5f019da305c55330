"""Creating, checking and revoking API tokens.

A token is ``pyo_`` followed by 43 URL-safe characters (256 bits from the OS CSPRNG). It is
shown once, when created; payops keeps its SHA-256 digest. A plain hash (no salt, no slow KDF)
is right for a random 256-bit secret: there is no dictionary to guess from, and the lookup by
digest stays one indexed query per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payops.apikeys.models import ApiToken
from payops.staff.levels import level_includes, user_has_level

TOKEN_PREFIX = "pyo_"
# Shown in lists: "pyo_" and the first 8 characters of the secret part.
DISPLAY_PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


class TokenRefused(Exception):
    """The token cannot be created as asked (the message says why)."""


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    plaintext: str  # never stored; shown to the person who created it, once


def cast_user(user: AbstractBaseUser) -> Any:
    """The configured user model (AUTH_USER_MODEL), which the type checker cannot know."""
    return user


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    level: str,
    created_by: AbstractBaseUser | None,
    expires_at: dt.datetime | None = None,
) -> CreatedToken:
    """A token for ``user`` limited to ``level``, which the user must hold."""
    if not user.is_active:
        raise TokenRefused("an inactive user cannot hold API tokens")
    if not user_has_level(user, level):
        raise TokenRefused(f"{user.get_username()} does not have the {level} level")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenRefused("the expiry must be in the future")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=cast_user(user),
        name=name.strip()[:100],
        level=level,
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        digest=token_digest(plaintext),
        created_by=cast_user(created_by) if created_by is not None else None,
        expires_at=expires_at,
    )
    return CreatedToken(token=token, plaintext=plaintext)


def api_token_authenticate(*, plaintext: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token with this value (its user loaded), or None."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(plaintext), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_allows(token: ApiToken, level: str) -> bool:
    return level_includes(token.level, level)


@transaction.atomic
def api_token_revoke(*, token_id: int, revoked_by: AbstractBaseUser) -> ApiToken:
    """Revoke a token at once. Revoking a revoked token changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = cast_user(revoked_by)
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token
