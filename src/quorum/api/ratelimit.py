"""Request rate limits, answered with 429 and ``Retry-After``.

Three interchangeable limiters: fixed windows counted in Redis (``QUORUM_REDIS_URL``) or in
PostgreSQL, shared by every server process on the database; and in-process token buckets for the
embedded SQLite demo, which runs as one process.
"""

import hashlib
import math
import threading
import time
from typing import Literal, Protocol

import redis
from fastapi import Request
from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert

from quorum.api.models import RateLimitWindow
from quorum.errors import TooManyRequests
from quorum.settings import Settings

# Who signs in: workers (worker API and worker page share the account), customers (page, with an
# API key), platform staff (staff API).
LoginSurface = Literal["worker", "customer", "staff"]
# Counter rows older than this are deleted now and then; no window is longer.
STALE_WINDOW_MS = 3_600_000
CLEANUP_EVERY = 1000


class RateLimiter(Protocol):
    def retry_after(self, key: str) -> float | None:
        """Count one request for ``key``; None when allowed, else seconds to wait."""


class TokenBucketLimiter:
    """Allows ``rate`` requests per second per key on average, with bursts up to ``burst``.

    Buckets live in this process: with several server processes each enforces its own share.
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Take a token for ``key``; None when allowed, else seconds until one is available."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


class PostgresWindowLimiter:
    """At most ``limit`` requests per key in each window, counted by an upsert in PostgreSQL.

    The count commits on its own connection at once, so it holds whatever the request does next.
    """

    def __init__(self, engine: Engine, *, namespace: str, limit: int, window_seconds: float):
        self.engine = engine
        self.namespace = namespace
        self.limit = limit
        self.window_ms = max(1, round(window_seconds * 1000))
        self._calls = 0

    def retry_after(self, key: str) -> float | None:
        now_ms = time.time() * 1000
        start_ms = int(now_ms // self.window_ms) * self.window_ms
        count = (
            insert(RateLimitWindow)
            .values(bucket=f"{self.namespace}:{key}", window_start_ms=start_ms, hits=1)
            .on_conflict_do_update(
                index_elements=["bucket", "window_start_ms"],
                set_={"hits": RateLimitWindow.hits + 1},
            )
            .returning(RateLimitWindow.hits)
        )
        self._calls += 1
        with self.engine.begin() as connection:
            hits = connection.execute(count).scalar_one()
            if self._calls % CLEANUP_EVERY == 0:
                connection.execute(
                    delete(RateLimitWindow).where(
                        RateLimitWindow.window_start_ms < now_ms - STALE_WINDOW_MS
                    )
                )
        if hits <= self.limit:
            return None
        return (start_ms + self.window_ms - now_ms) / 1000


class RedisWindowLimiter:
    """At most ``limit`` requests per key in each window, counted with INCR in Redis."""

    def __init__(self, url: str, *, namespace: str, limit: int, window_seconds: float):
        self.client = redis.Redis.from_url(url)
        self.namespace = namespace
        self.limit = limit
        self.window_seconds = window_seconds

    def retry_after(self, key: str) -> float | None:
        now = time.time()
        window = int(now // self.window_seconds)
        name = f"quorum:ratelimit:{self.namespace}:{key}:{window}"
        pipeline = self.client.pipeline()
        pipeline.incr(name)
        pipeline.expire(name, math.ceil(self.window_seconds) + 1)
        hits, _ = pipeline.execute()
        if hits <= self.limit:
            return None
        return (window + 1) * self.window_seconds - now


def build_limiter(
    settings: Settings, engine: Engine, *, namespace: str, limit: float, window_seconds: float
) -> RateLimiter:
    """The limiter this deployment shares between its processes: Redis, PostgreSQL, or none
    (the embedded SQLite demo is one process, so in-process buckets are exact there)."""
    whole = max(1, math.floor(limit))
    if settings.redis_url:
        return RedisWindowLimiter(
            settings.redis_url, namespace=namespace, limit=whole, window_seconds=window_seconds
        )
    if engine.dialect.name == "postgresql":
        return PostgresWindowLimiter(
            engine, namespace=namespace, limit=whole, window_seconds=window_seconds
        )
    return TokenBucketLimiter(limit / window_seconds, limit)


def request_limiter(settings: Settings, engine: Engine) -> RateLimiter | None:
    """Per API key and per worker: ``rate_limit_per_second`` on average, bursts of
    ``rate_limit_burst`` (one window holds a burst); None when unlimited."""
    rate, burst = settings.rate_limit_per_second, settings.rate_limit_burst
    if rate <= 0:
        return None
    return build_limiter(
        settings, engine, namespace="req", limit=burst, window_seconds=burst / rate
    )


def check_request_rate(request: Request, key: str) -> None:
    """Count a request for ``key`` (``key:<id>`` or ``worker:<id>``); 429 past the limit."""
    check_rate(request.app.state.rate_limiter, key)


def check_rate(limiter: "RateLimiter | None", key: str) -> None:
    """``check_request_rate`` with the limiter at hand (None: no limit)."""
    if limiter is None:
        return
    wait = limiter.retry_after(key)
    if wait is not None:
        raise TooManyRequests("rate limit exceeded; slow down", retry_after=wait)


def login_limiters(settings: Settings, engine: Engine) -> tuple[RateLimiter, RateLimiter]:
    """Login attempts per window: one limiter per account, one per client address."""
    return (
        build_limiter(
            settings,
            engine,
            namespace="login-account",
            limit=settings.login_attempts_per_minute,
            window_seconds=settings.login_window_seconds,
        ),
        build_limiter(
            settings,
            engine,
            namespace="login-address",
            limit=settings.login_attempts_per_address_per_minute,
            window_seconds=settings.login_window_seconds,
        ),
    )


def throttle_login(request: Request, *, surface: LoginSurface, account: str) -> None:
    """The login policy of every surface that checks a credential (worker API and page, customer
    page, staff API): count an attempt against the account and the client address, before the
    credential is checked; 429 with ``Retry-After`` past either limit.

    Every address shares one budget whatever the surface, so an attacker cannot spread guesses
    over pages and APIs; the account is hashed (bounded, and no email is kept in the counters).
    """
    per_account, per_address = request.app.state.login_limiters
    address = request.client.host if request.client else "unknown"
    name = f"{surface}:{account.strip().lower()}"
    waits = [
        per_account.retry_after(hashlib.sha256(name.encode()).hexdigest()[:40]),
        per_address.retry_after(address),
    ]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        raise TooManyRequests("too many login attempts; try again later", retry_after=max(refused))
