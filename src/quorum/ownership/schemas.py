"""I/O models of data ownership."""

from pydantic import BaseModel


class ProjectDeleted(BaseModel):
    """What a project deletion removed."""

    name: str
    deleted: bool
    batches: int
    tasks: int
