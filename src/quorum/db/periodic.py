"""Background loops inside ``quorum serve``: a daemon thread per job, one pass per interval.

Each job's pass works in its own transactions and must be safe with the same job running in other
server processes (they coordinate through row locks); a failed pass is logged and the loop goes on.
"""

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("quorum.jobs")


class PeriodicJob:
    """Subclasses name themselves and implement ``run_once``; tests call ``run_once`` directly."""

    name = "quorum-job"

    def __init__(self, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        self.sessions = sessions
        self.interval_seconds = interval_seconds
        self.stopping = threading.Event()
        self.woken = threading.Event()
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def run_once(self) -> int:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            self.woken.wait(self.interval_seconds)
            self.woken.clear()
            if self.stopping.is_set():
                return
            try:
                self.run_once()
            except Exception:  # the loop outlives a database hiccup
                log.exception("%s: pass failed", self.name)

    def wake(self) -> None:
        """Run a pass now rather than at the end of the interval (new work in this process)."""
        self.woken.set()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
        self.thread.join(timeout=10)
