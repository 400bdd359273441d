"""Bulk import over HTTP: a chunk of rows per request, validated and inserted like the CLI's."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, authorize
from quorum.tasks import ingest, policy

router = APIRouter(prefix="/v1", tags=["imports"])
Importer = Annotated[Caller, authorize(policy.change_work)]
MAX_ROWS = 10_000


class ImportChunk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(max_length=MAX_ROWS)
    batch: str | None = None
    mapping: dict[str, str] | None = None
    first_line: int = Field(1, ge=1, description="line number of rows[0], for error reports")


class RowErrorRead(BaseModel):
    line: int
    reason: str


class ImportReportRead(BaseModel):
    created: int
    existing: int
    rejected: list[RowErrorRead]


@router.post("/projects/{name}/import", response_model=ImportReportRead)
def import_tasks(
    name: PathName, chunk: ImportChunk, caller: Importer, db: SessionDep
) -> ImportReportRead:
    """Create tasks from rows; existing ``unique_id``s are skipped, bad rows reported by line."""
    report = ingest.import_rows(
        db,
        org_id=caller.org_id,
        project=name,
        batch=chunk.batch,
        rows=[(chunk.first_line + i, row) for i, row in enumerate(chunk.rows)],
        mapping=chunk.mapping,
        is_test=caller.key_kind == "test",
    )
    return ImportReportRead(
        created=report.created,
        existing=report.existing,
        rejected=[RowErrorRead(line=e.line, reason=e.reason) for e in report.rejected],
    )
