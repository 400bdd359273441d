"""I/O models of the worker API's dispatch endpoints."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AssignmentState = Literal["active", "submitted", "expired", "skipped", "released", "rejected"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NextTaskRequest(Write):
    project_id: str | None = None


class SubmitRequest(Write):
    response: dict[str, Any]


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
