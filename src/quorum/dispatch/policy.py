"""The rules every way into next, submit, skip and release enforces, written once.

Three doors lead to these actions: the worker API's routes (``dispatch.router``), the fast path
in front of two of them (``dispatch.hotpath``, same URLs) and the workbench's page routes
(``web.worker``). Each calls these functions rather than remembering its own checks, so that a
rule added here holds at every door (DESIGN.md, "Trust boundaries"):

- credentials: the API takes a Bearer session token, or the session cookie together with the
  pages' CSRF token in the ``X-CSRF-Token`` header; the pages take the cookie and their CSRF
  token (``web.security.check_csrf``). A browser sends the cookie on any site's behalf, the
  token only when Quorum's own page script adds it.
- content type: a body must be declared JSON. A cross-site form, or a cross-site ``fetch`` that
  skips the CORS preflight, can only send a text, form or multipart body, or one with no type.
- rate: every request of a worker counts against the one per-worker limit (``admit``).
- live leases: no door leases past ``lease_cap`` live leases per worker.

The checks on credentials and content type read headers only, so that the fast path makes them
without a database round trip; the rate and the cap are applied once the worker is known (in
the dispatch round, or by the route).
"""

from starlette.requests import Request

from quorum.api.deps import api_worker_secret
from quorum.api.ratelimit import RateLimiter, check_rate
from quorum.errors import UnsupportedMediaType
from quorum.settings import Settings


def is_json(content_type: str) -> bool:
    """``application/json`` or an ``application/...+json`` type, parameters aside."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def require_json(request: Request) -> None:
    """Refuse (415) a request whose body is not declared JSON."""
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "send the body as JSON with the header Content-Type: application/json"
        )


def api_worker_secret_with_json(request: Request) -> str:
    """``api_worker_secret``, then ``require_json``: the checks of an API action with a body,
    in the order the route and the fast path both make them."""
    secret = api_worker_secret(request)
    require_json(request)
    return secret


def admit(limiter: RateLimiter | None, worker_id: str) -> None:
    """Count one request of the worker against the per-worker rate limit; 429 past it."""
    check_rate(limiter, f"worker:{worker_id}")


def lease_cap(settings: Settings) -> int:
    """The most live leases one worker may hold, whichever door they lease through (0: none)."""
    return settings.max_live_leases_per_worker
