"""SSM Parameter Store: read every parameter under a path, SecureStrings decrypted."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from payops.aws.client import aws_client, wire_logs_suppressed


@sensitive_variables()
def get_parameters_by_path(path: str) -> dict[str, str]:
    """Parameters under ``path`` (recursively), keyed by their name relative to the path."""
    prefix = path if path.endswith("/") else f"{path}/"
    values: dict[str, str] = {}
    paginator = aws_client("ssm").get_paginator("get_parameters_by_path")
    with wire_logs_suppressed():
        for page in paginator.paginate(Path=prefix.rstrip("/") or "/", Recursive=True, WithDecryption=True):
            for parameter in page.get("Parameters", []):
                values[parameter["Name"].removeprefix(prefix)] = parameter["Value"]
    return values


@sensitive_variables()
def put_secure_parameter(name: str, value: str) -> None:
    with wire_logs_suppressed():
        aws_client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
