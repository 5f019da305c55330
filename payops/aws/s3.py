"""S3: keep a copy of each deployed infrastructure template (and serve large ones to CloudFormation)."""

from __future__ import annotations

from urllib.parse import quote

from botocore.exceptions import ClientError
from django.conf import settings

from payops.aws.client import aws_client, error_code


def ensure_bucket(bucket: str) -> None:
    client = aws_client("s3")
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    params: dict[str, object] = {"Bucket": bucket}
    if settings.AWS_REGION != "us-east-1":  # us-east-1 refuses an explicit location constraint
        params["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    client.create_bucket(**params)


def put_object(*, bucket: str, key: str, body: bytes, content_type: str) -> str:
    """Store an object; returns its S3 URL in the form CloudFormation's TemplateURL accepts.

    Always the AWS form, also against moto: CloudFormation reads the object from S3 itself
    (moto's from its own S3 backend), it never fetches the client's endpoint.
    """
    aws_client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return f"https://{bucket}.s3.{settings.AWS_REGION}.amazonaws.com/{quote(key)}"
