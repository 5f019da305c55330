"""API plumbing every app's endpoints share: problem details (``problems``), the middleware that
keeps non-DRF errors under /api/ in that shape (``middleware``), throttling, pagination and the
OpenAPI schema conventions (``schema``). Conventions: docs/adr/0008-api-conventions.md.

Nothing DRF is imported here: DRF imports ``payops.api.throttling`` while it is itself being
imported, so this package must load without it.
"""

from typing import Any

from payops.api.health import health, liveness

__all__ = ["PROBLEM_CONTENT_TYPE", "Problem", "exception_handler", "health", "liveness", "problem_response"]


def __getattr__(name: str) -> Any:
    # Names from before the package was split, still importable from payops.api.
    if name in ("PROBLEM_CONTENT_TYPE", "Problem", "exception_handler", "problem_response"):
        from payops.api import problems

        return getattr(problems, name)
    raise AttributeError(name)
