"""The callback sender: claims due events, posts them signed, records what happened.

It runs as a thread inside ``quorum serve`` (one per server process) and alone as ``quorum
worker``; any number run side by side against one database.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from quorum.callbacks import service
from quorum.callbacks.signing import (
    AUTH_HEADER,
    EVENT_ID_HEADER,
    EVENT_KIND_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from quorum.db import transaction, utcnow
from quorum.outside import Refused, Unreachable, outside_client
from quorum.settings import Settings

log = logging.getLogger("quorum.callbacks")


class CallbackSender:
    """Delivers the outbox until stopped; ``deliver_due`` runs one round for tests and scripts."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.outside = outside_client(
            settings, timeout_seconds=settings.callback_timeout_seconds, purpose="Callbacks"
        )
        self.pool = ThreadPoolExecutor(
            max_workers=settings.callback_concurrency, thread_name_prefix="quorum-callback"
        )

    def deliver_due(self) -> int:
        """Claim due events, post them concurrently, record each outcome; how many were posted."""
        with transaction(self.sessions) as db:
            claims = service.claim_due_events(
                db,
                limit=self.settings.callback_concurrency * 4,
                claim_seconds=self.settings.callback_claim_seconds,
            )
        for claim, outcome in zip(claims, self.pool.map(self.post, claims), strict=True):
            with transaction(self.sessions) as db:
                service.record_outcome(
                    db,
                    claim=claim,
                    outcome=outcome,
                    max_attempts=self.settings.callback_max_attempts,
                    backoff_seconds=self.settings.callback_backoff_seconds,
                    backoff_max_seconds=self.settings.callback_backoff_max_seconds,
                )
        return len(claims)

    def post(self, claim: service.ClaimedEvent) -> service.Outcome:
        """One signed POST of an event's body; never raises."""
        started_at = utcnow()
        clock = time.monotonic()

        def outcome(**result: object) -> service.Outcome:
            elapsed = int((time.monotonic() - clock) * 1000)
            return service.Outcome(started_at=started_at, duration_ms=elapsed, **result)  # type: ignore[arg-type]

        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            AUTH_HEADER: claim.auth_key,
            EVENT_ID_HEADER: claim.id,
            EVENT_KIND_HEADER: claim.kind,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(claim.signing_secret, claim.body, timestamp),
        }
        try:
            response = self.outside.request(
                "POST", claim.url, content=claim.body, headers=headers, max_bytes=0
            )
        except Refused as exc:  # the address or the URL, not the moment: retrying cannot help
            return outcome(error=exc.message, permanent=True)
        except Unreachable as exc:
            return outcome(error=exc.message[:1000])
        error = None if response.is_success else f"receiver answered {response.status_code}"
        return outcome(status_code=response.status_code, error=error)

    def run(self) -> None:
        """Deliver until stopped, sleeping between empty rounds."""
        while not self.stopping.is_set():
            try:
                busy = self.deliver_due() >= self.settings.callback_concurrency * 4
            except Exception:  # a database hiccup must not end the loop
                log.exception("callback delivery round failed")
                busy = False
            if not busy:
                self.stopping.wait(self.settings.callback_poll_seconds)

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="quorum-callback-sender", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop after the current round; an unrecorded post is retried once its claim expires."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=self.settings.callback_timeout_seconds + 1)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.outside.close()
