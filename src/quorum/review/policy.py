"""Who may take review work: workers with the reviewer role (given by their pool's admin or by
a platform operator); which projects they review is then decided by the project's reviewer
qualification."""

from quorum.errors import Forbidden
from quorum.workforce.schemas import WorkerIdentity


def take_reviews(worker: WorkerIdentity) -> None:
    if worker.role != "reviewer":
        raise Forbidden("review work needs the reviewer role; ask your operator")
