"""The lease sweeper: marks expired leases so that history and counts read clearly.

Dispatch never depends on it (an expired lease stops counting at its expiry time); it runs as a
thread in each server process, and several sweepers side by side are harmless.
"""

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from quorum.db import transaction
from quorum.dispatch import service

log = logging.getLogger("quorum.dispatch")


class LeaseSweeper:
    def __init__(self, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        self.sessions = sessions
        self.interval_seconds = interval_seconds
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="quorum-lease-sweeper", daemon=True)

    def sweep(self) -> int:
        """One pass; how many leases were marked expired."""
        with transaction(self.sessions) as db:
            return service.expire_leases(db)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval_seconds):
            try:
                self.sweep()
            except Exception:  # the loop outlives a database hiccup
                log.exception("lease sweep failed")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
