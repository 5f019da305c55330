from django.conf import settings
from django.db import models

from payops.staff.levels import StaffLevel


class ApiToken(models.Model):
    """A bearer token a frontend or integration uses instead of a session.

    Only a SHA-256 digest of the token is stored: a leaked database does not leak usable tokens.
    The token acts as its user, limited to ``level`` (a read-only integration gets a "view"
    token even if its user may refund).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the integration's name.")
    level = models.CharField(max_length=16, choices=StaffLevel.choices, default=StaffLevel.VIEW)
    # The first characters of the token, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Updated at most once a minute per token, so using a token does not write on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"
