"""Callback signatures: HMAC-SHA256 over ``"<timestamp>.<raw body>"`` with the org's secret.

Receivers check ``Quorum-Signature: t=<unix seconds>,v1=<hex digest>`` with ``verify_signature``
and refuse stale timestamps, so a captured callback cannot be replayed later. ``Quorum-Event-Id``
is the same on every delivery of one event: receivers de-duplicate on it.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Quorum-Signature"
EVENT_ID_HEADER = "Quorum-Event-Id"
EVENT_KIND_HEADER = "Quorum-Event"  # task.completed, batch.completed, export.ready, ...
TIMESTAMP_HEADER = "Quorum-Timestamp"
AUTH_HEADER = "scale-callback-auth"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for this body at this time."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs exactly this body with this secret, recently enough."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
