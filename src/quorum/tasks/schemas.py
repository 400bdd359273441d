"""I/O models of the customer API, shaped as Scale's so its official client works unchanged."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from quorum.jsonbounds import BoundedMetadata, BoundedObject, BoundedText

TaskStatus = Literal["pending", "completed", "canceled", "error"]
BatchStatus = Literal["staging", "in_progress", "completed"]


def scale_timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as Scale writes times."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class Read(BaseModel):
    """Output models: every datetime leaves as a ``scale_timestamp``."""

    @field_serializer("*", when_used="json")
    def _scale_datetime(self, value: Any) -> Any:
        return scale_timestamp(value) if isinstance(value, datetime) else value


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(Write):
    name: str = Field(min_length=1, max_length=200)
    type: str
    params: BoundedObject | None = None
    required_responses: int = Field(1, ge=1, le=100)
    callback_url: str | None = None
    rapid: bool = False
    studio: bool = False
    datasetId: str | None = None


class ProjectRead(Read):
    id: str
    name: str
    type: str
    params: dict[str, Any]
    param_history: list[dict[str, Any]]
    required_responses: int
    callback_url: str | None = None
    created_at: datetime
    updated_at: datetime


class BatchCreate(Write):
    project: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    callback: str = ""
    calibration_batch: bool = False
    self_label_batch: bool = False
    metadata: BoundedMetadata | None = None


class BatchRead(Read):
    id: str
    name: str
    project: str
    status: BatchStatus
    callback: str
    metadata: dict[str, Any]
    calibration_batch: bool
    self_label_batch: bool
    created_at: datetime
    finalized_at: datetime | None
    completed_at: datetime | None


class BatchPage(Read):
    docs: list[BatchRead]
    totalDocs: int
    limit: int
    offset: int
    has_more: bool


class BatchStatusRead(Read):
    status: BatchStatus
    pending: int = 0
    completed: int = 0
    canceled: int = 0
    error: int = 0


TASK_COMMON_FIELDS = {
    "project",
    "batch",
    "instruction",
    "callback_url",
    "unique_id",
    "metadata",
    "tags",
    "priority",
    "required_responses",
}


class TaskCommon(Write):
    """Fields every task type accepts; the rest of the body is the type's own ``Params``."""

    project: str | None = None
    batch: str | None = None
    instruction: BoundedText = ""
    callback_url: str | None = None
    unique_id: str | None = Field(None, min_length=1, max_length=255)
    metadata: BoundedMetadata = Field(default_factory=dict)
    tags: list[BoundedText] = Field(default_factory=list)
    priority: int = Field(0, ge=-1000, le=1000)
    required_responses: int | None = Field(None, ge=1, le=100)


class TaskRead(Read):
    task_id: str
    type: str
    status: TaskStatus
    project: str
    batch: str | None
    instruction: str
    params: dict[str, Any]
    response: dict[str, Any] | None = Field(
        description=(
            "The consolidated answer, in the task type's response shape, plus `confidence`: how "
            "sure each field is, in [0, 1], keyed by its path (`category`, `taxonomies.color`, "
            "`annotations.summary` for a form field, `annotations[0].presence` and "
            "`annotations[0].iou` per delivered shape with `annotations` for no missing shape, "
            "`preferred`, `ranking`, `rating`, `messages`). Choices carry the posterior of the "
            "delivered value; written text, ratings and outlines how closely the workers agreed."
        ),
        json_schema_extra={
            "properties": {
                "confidence": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                }
            },
            "examples": [{"category": "dog", "confidence": {"category": 0.973}}],
        },
    )
    callback_url: str | None
    metadata: dict[str, Any]
    tags: list[str]
    unique_id: str | None
    priority: int
    required_responses: int
    is_test: bool
    customer_review_status: str | None
    callback_succeeded: bool | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class TaskPage(Read):
    docs: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_token: str | None


class TaskFilters(BaseModel):
    """Filters of ``GET /v1/tasks``; every one narrows, none widens past the organization."""

    project: str | None = None
    batch: str | None = None
    status: TaskStatus | None = None
    type: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    unique_id: list[str] = []
    tags: list[str] = []
    customer_review_status: list[str] = []
