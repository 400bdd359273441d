"""Domain errors: raised by services, turned into one JSON error shape by the API.

Every error body is ``{"status_code": N, "error": "<what was wrong>"}`` (Scale's shape, which the
official client reads), plus optional details such as the offending field.
"""

import math
from typing import Any


class DomainError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"status_code": self.status_code, "error": self.message, **self.details}


class Invalid(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class UnsupportedMediaType(DomainError):
    status_code = 415


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        # Rounded up: a client that waits exactly this long must find the limit open again.
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


def invalid_from_validation(exc: Exception, prefix: str = "", whole: str = "body") -> Invalid:
    """Turn a pydantic ValidationError into an ``Invalid`` naming the field and the reason."""
    errors = getattr(exc, "errors", lambda: [])()
    if not errors:
        return Invalid(str(exc))
    messages = []
    for error in errors[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        location = f"{prefix}{location}" if location else prefix.rstrip(".") or whole
        kind = error.get("type")
        if kind == "extra_forbidden":
            messages.append(f"{location}: unknown field")
        elif kind == "missing":
            messages.append(f"{location}: field required")
        else:
            message = error.get("msg", "invalid").removeprefix("Value error, ")
            messages.append(f"{location}: {message}")
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return Invalid(
        "; ".join(messages), field=f"{prefix}{field}" if field else prefix.rstrip(".") or whole
    )
