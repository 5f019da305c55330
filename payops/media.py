"""Serve stored media (product images) from Django's default storage, in development and production.

WhiteNoise serves only the static files collected at deploy time, and a file saved later (a
product image) must be readable without a restart, so payops reads it through the storage API.
A deployment that puts media on object storage serves it from there (``.url`` points away) and
this view is never reached. Only image types are served, with headers that keep an SVG from
running script in the shop's origin.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

# The only kinds of file payops stores and serves as media.
ALLOWED_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}
_CACHE_SECONDS = 24 * 60 * 60


@require_GET
def media(request: HttpRequest, path: str) -> FileResponse:
    suffix = PurePosixPath(path).suffix.lower()
    content_type = ALLOWED_IMAGE_TYPES.get(suffix)
    if content_type is None or ".." in PurePosixPath(path).parts:
        raise Http404("No such file")
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404("No such file") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = f"public, max-age={_CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    # An SVG opened on its own is a document: no script, no outside loads.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
