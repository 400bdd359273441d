"""Who may export: anyone who may read the work, read-only keys included.

Queuing an export job only reads the work (the job row is bookkeeping, as a streamed export's
request is), so it needs the viewer role and not a writing key.
"""

from quorum.accounts.policy import require_role
from quorum.accounts.schemas import Caller


def read_exports(caller: Caller) -> None:
    require_role(caller, "viewer")


def create_export(caller: Caller) -> None:
    require_role(caller, "viewer")
