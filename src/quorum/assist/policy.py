"""Who may do what with model backends: viewers read reports, admins register backends (they call
URLs or pick the platform's models for the organization), members run them over projects and set
a project's active learning (which, like a run, rewrites pre-labels and may reorder the project's
queue)."""

from quorum.accounts.policy import require_role, require_write
from quorum.accounts.schemas import Caller


def read_backends(caller: Caller) -> None:
    require_role(caller, "viewer")


def run_backends(caller: Caller) -> None:
    require_role(caller, "member")
    require_write(caller)


def register_backends(caller: Caller) -> None:
    require_role(caller, "admin")
    require_write(caller)
