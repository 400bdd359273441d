"""I/O models of the review queue and of customers' audits."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quorum.jsonbounds import BoundedObject

ReviewAction = Literal["accept", "fix", "reject"]
ReviewState = Literal["open", "accepted", "fixed", "rejected", "superseded"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NextReviewRequest(Write):
    project_id: str | None = None


class ReviewDecision(Write):
    """Accept the answer, fix it (giving the corrected ``response``), or reject it with a reason."""

    action: ReviewAction
    response: BoundedObject | None = None
    reason: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _needs(self) -> "ReviewDecision":
        if self.action == "fix" and self.response is None:
            raise ValueError("a fix needs the corrected response")
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        if self.action != "fix" and self.response is not None:
            raise ValueError("only a fix takes a response")
        return self


class ReviewRead(BaseModel):
    """A review as the reviewer sees it: the task, the consolidated answer and each response."""

    review_id: str
    task_id: str
    project_id: str
    type: str
    instruction: str
    params: dict[str, Any]
    level: int
    state: ReviewState
    response: dict[str, Any]
    responses: list[dict[str, Any]]
    fixed_response: dict[str, Any] | None
    reason: str | None
    leased_until: datetime | None
    decided_at: datetime | None


class AuditCreate(Write):
    """Scale's audit body."""

    accepted: bool
    comments: str | None = Field(None, max_length=5000)
