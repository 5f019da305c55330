"""API plumbing every app's endpoints share: problem details (``problems``), the middleware that
keeps non-DRF errors under /api/ in that shape (``middleware``), throttling, pagination and the
OpenAPI schema conventions (``schema``). Conventions: docs/adr/0008-api-conventions.md.

Nothing DRF is imported here: DRF imports ``payops.api.throttling`` while it is itself being
imported, so this package must load without it.
"""

from payops.api.health import health, liveness

__all__ = ["health", "liveness"]
