"""Per-key request rate limits (token buckets), answered with 429 and ``Retry-After``."""

import threading
import time


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
