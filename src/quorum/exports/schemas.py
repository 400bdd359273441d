"""I/O models of export jobs: what a customer asks to export, and where the job stands."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from quorum.tasks.schemas import Read, Write

Selection = Literal["accepted", "completed", "all"]
ExportJobState = Literal["queued", "running", "succeeded", "failed"]


class ExportJobCreate(Write):
    """An export of a project, or of one of its batches, in any export format."""

    project: str = Field(min_length=1)
    batch: str | None = None
    format: str = Field(description="jsonl, sft, dpo, parquet, coco, yolo or hf")
    include: Selection = Field(
        "accepted",
        description="accepted: completed tasks not rejected by an audit; completed: every "
        "completed task; all: every task whatever its state",
    )
    callback_url: str | None = Field(
        None, description="where export.ready goes; the project's callback URL when not given"
    )


class ExportJobRead(Read):
    id: str
    project: str
    batch: str | None
    format: str
    include: Selection
    state: ExportJobState
    error: str | None
    task_count: int | None = Field(description="tasks selected, counted when the job starts")
    row_count: int = Field(description="rows written so far; the artifact's once succeeded")
    skipped: dict[str, int]
    file_name: str | None
    content_type: str
    size_bytes: int | None
    sha256: str | None
    download_url: str | None
    callback_url: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExportJobPage(Read):
    docs: list[ExportJobRead]
    limit: int
    has_more: bool
    next_token: str | None
