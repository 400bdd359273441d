"""Page security: signed cookies, CSRF tokens, and the headers every page carries.

CSRF uses a signed double-submit token: a random nonce lives in an HttpOnly cookie and pages embed
``HMAC(secret_key, nonce)``; every unsafe request must echo it in the ``X-CSRF-Token`` header
(htmx and the labeling tools) or the ``csrf_token`` form field. A cross-site page can neither read
the cookie nor compute the HMAC without the server's secret. The nonce is renewed at each sign-in.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from quorum.errors import Forbidden
from quorum.settings import Settings

CSRF_COOKIE = "quorum_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CUSTOMER_SESSION_COOKIE = "quorum_customer_session"
CUSTOMER_SESSION_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline script or style anywhere: all JavaScript and CSS come from /static. Task images may
# live on any host, so img-src is open; nothing else is.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _mac(secret_key: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def cookie_options(request: Request) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, and Secure whenever the public URL is https."""
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": _settings(request).public_url.startswith("https://"),
        "path": "/",
    }


def sign(request: Request, purpose: str, payload: dict[str, Any]) -> str:
    """A tamper-proof cookie value: base64 JSON plus its HMAC under the server's secret."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{body}.{_mac(_settings(request).secret_key, purpose, body)}"


def unsign(request: Request, purpose: str, value: str) -> dict[str, Any] | None:
    """The payload of a value made by ``sign``, or None when it was forged or mangled."""
    body, _, mac = value.partition(".")
    expected = _mac(_settings(request).secret_key, purpose, body)
    if not body or not hmac.compare_digest(mac, expected):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None


def csrf_token(request: Request) -> str:
    """The token pages embed; creates the nonce (set as a cookie by ``finish_page``) if needed."""
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return _mac(_settings(request).secret_key, "csrf", nonce)


def renew_csrf(request: Request) -> None:
    """A fresh nonce (at sign-in), so a token planted before the session is worthless after."""
    request.state.csrf_nonce = secrets.token_urlsafe(24)


def csrf_refused() -> Forbidden:
    return Forbidden("the form expired or came from another site; reload the page and retry")


def csrf_matches(request: Request, sent: str | None) -> bool:
    """Whether ``sent`` is the token of this request's CSRF cookie. Compared as bytes: a header
    or form field may carry any character, which ``compare_digest`` refuses to compare as text."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not sent:
        return False
    expected = _mac(_settings(request).secret_key, "csrf", nonce)
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request whose token does not match its CSRF cookie."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_matches(request, sent):
        raise csrf_refused()


def finish_page(request: Request, response: Response) -> Response:
    """Add the security headers and (re)issue the CSRF cookie when a new nonce was made."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce:
        response.set_cookie(CSRF_COOKIE, nonce, **cookie_options(request))
    return response


def customer_session_value(
    request: Request, *, org_id: str, key_id: str, key_expires_at: datetime | None
) -> str:
    """A session naming the key that opened it, ending in 12 hours or when the key expires,
    whichever is first (pages also check the key's state on every request)."""
    ends = time.time() + CUSTOMER_SESSION_SECONDS
    if key_expires_at is not None:
        ends = min(ends, key_expires_at.timestamp())
    return sign(request, "customer", {"org_id": org_id, "key_id": key_id, "exp": int(ends)})


def read_customer_session(request: Request) -> dict[str, Any] | None:
    """The signed customer session of this request, if present, genuine and not expired."""
    value = request.cookies.get(CUSTOMER_SESSION_COOKIE)
    payload = unsign(request, "customer", value) if value else None
    if payload is None or payload.get("exp", 0) < time.time():
        return None
    return payload
