"""I/O models of the worker API's dispatch endpoints."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quorum.jsonbounds import BoundedObject
from quorum.workforce.schemas import WorkerIdentity

AssignmentState = Literal["active", "submitted", "expired", "skipped", "released", "rejected"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NextTaskRequest(Write):
    project_id: str | None = None


class SubmitRequest(Write):
    response: BoundedObject


class SkipRequest(Write):
    reason: str = Field(min_length=1, max_length=2000)
    broken: bool = Field(
        False,
        description="The task itself cannot be done (say why in ``reason``); when enough workers "
        "report it, the task fails with status ``error`` and the customer is told why.",
    )


class AssignmentRead(BaseModel):
    """A task as handed to a worker: what the work needs, nothing of the customer's metadata."""

    assignment_id: str
    task_id: str
    project_id: str
    project: str
    type: str
    instruction: str
    params: dict[str, Any]
    state: AssignmentState
    leased_at: datetime
    leased_until: datetime
    finished_at: datetime | None = None
    response: dict[str, Any] | None = None


class AssignmentPage(BaseModel):
    docs: list[AssignmentRead]
    next_token: str | None


class SubmitResult(BaseModel):
    assignment_id: str
    task_id: str
    state: AssignmentState
    task_completed: bool
    pending_cents: int


@dataclass(frozen=True)
class NextAsk:
    """One worker asking for a task, as one of the requests a dispatch round serves together."""

    worker: WorkerIdentity
    project_id: str | None = None
    max_live_leases: int = 0


@dataclass(frozen=True)
class SubmitAsk:
    """One worker's response to one of their assignments, served in a dispatch round."""

    worker_id: str
    assignment_id: str
    response: dict[str, Any]
