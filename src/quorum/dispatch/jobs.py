"""The lease sweeper: marks expired leases so that history and counts read clearly.

Dispatch never depends on it (an expired lease stops counting at its expiry time); it runs as a
thread in each server process, and several sweepers side by side are harmless.
"""

from quorum.db import transaction
from quorum.db.periodic import PeriodicJob
from quorum.dispatch import service


class LeaseSweeper(PeriodicJob):
    name = "quorum-lease-sweeper"

    def run_once(self) -> int:
        """One pass; how many leases were marked expired."""
        with transaction(self.sessions) as db:
            return service.expire_leases(db)
