"""Secrets Manager: read (and, for the demo, write) one JSON secret.

Values pass through here as plain strings only as long as needed; callers wrap them in
``payops.aws.secrets.Secret``. Nothing here logs a value, botocore's wire logs are silenced for
these calls, and the functions are marked sensitive so Django's error reports hide their locals.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from django.views.decorators.debug import sensitive_variables

from payops.aws.client import aws_client, error_code, wire_logs_suppressed

_NOT_JSON = object()


class SecretFormatError(ValueError):
    """The secret exists but is not what payops expects (the message never repeats the value)."""


@sensitive_variables()
def get_json_secret(secret_id: str) -> dict[str, Any]:
    with wire_logs_suppressed():
        response = aws_client("secretsmanager").get_secret_value(SecretId=secret_id)
    text = response.get("SecretString")
    if text is None:
        raise SecretFormatError(f"secret {secret_id!r} has no SecretString (binary secrets are not supported)")
    try:
        value = json.loads(text)
    except ValueError:
        value = _NOT_JSON
    if value is _NOT_JSON:
        # Raised outside the except block: the JSON error keeps the document (the secret
        # itself), and it must not ride along as this exception's context.
        raise SecretFormatError(f"secret {secret_id!r} is not valid JSON")
    if not isinstance(value, dict):
        raise SecretFormatError(f"secret {secret_id!r} must be a JSON object, not {type(value).__name__}")
    return value


@sensitive_variables()
def put_json_secret(secret_id: str, value: dict[str, Any], *, description: str = "") -> None:
    """Create the secret, or store a new version (the previous one stays as AWSPREVIOUS)."""
    client = aws_client("secretsmanager")
    text = json.dumps(value)
    with wire_logs_suppressed():
        try:
            client.create_secret(Name=secret_id, SecretString=text, Description=description)
        except ClientError as exc:
            if error_code(exc) != "ResourceExistsException":
                raise
            client.put_secret_value(SecretId=secret_id, SecretString=text)
