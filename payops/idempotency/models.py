from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` a client sent with a POST, and the answer it got.

    Keys are scoped by principal (a user, or all anonymous clients together), as Stripe scopes
    them by account. The fingerprint (method, path and body) tells a retry from a different
    request that reuses the key.
    """

    principal = models.CharField(max_length=64, help_text='"user:<id>" or "anonymous"')
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body, hex.")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    # While in progress, nobody else may run the request until then; past it the request is
    # taken to have died with its process, and the next retry runs it.
    locked_until = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_principal_key")]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires_idx")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} ({self.state})"
