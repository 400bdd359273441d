"""Which tasks an export holds, read in chunks so memory stays flat however big the project."""

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from quorum.blobs import BlobStore, StoredFile
from quorum.callbacks import service as callbacks
from quorum.db.base import utcnow
from quorum.db.pagination import decode_cursor, encode_cursor
from quorum.errors import Invalid, NotFound
from quorum.exports.formats import ExportStats, FileFormat, LineFormat, get_format
from quorum.exports.models import ExportJob
from quorum.exports.schemas import ExportJobCreate, ExportJobPage, ExportJobRead, Selection
from quorum.exports.source import ExportSource
from quorum.tasks.models import Batch, Project, Task
from quorum.tasks.schemas import TaskRead
from quorum.tasks.service import check_callback_url, get_batch, get_project

CHUNK_ROWS = 5_000
MAX_PAGE = 100


def export_source(
    db: Session,
    *,
    org_id: str,
    project: str,
    batch: str | None = None,
    selection: Selection = "accepted",
    chunk_rows: int = CHUNK_ROWS,
) -> ExportSource:
    """The tasks of a project (or one of its batches) an export holds; names are checked now.

    ``accepted`` (the default) is completed tasks not rejected by a customer audit;
    ``completed`` adds the rejected ones; ``all`` is every task whatever its state.
    """
    home = get_project(db, org_id=org_id, name=project)
    criteria = [Task.org_id == org_id, Task.project_id == home.id]
    if batch is not None:
        criteria.append(Task.batch_id == get_batch(db, org_id=org_id, name=batch).id)
    if selection != "all":
        criteria.append(Task.status == "completed")
    if selection == "accepted":
        criteria.append(
            or_(Task.customer_review_status.is_(None), Task.customer_review_status != "rejected")
        )
    return ExportSource(db, and_(*criteria), chunk_rows)


def export_chunks(
    db: Session,
    *,
    org_id: str,
    project: str,
    batch: str | None = None,
    selection: Selection = "accepted",
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[list[TaskRead]]:
    """Scale task objects of a project (or one of its batches) in creation order, by chunk."""
    source = export_source(
        db, org_id=org_id, project=project, batch=batch, selection=selection, chunk_rows=chunk_rows
    )
    return source.tasks()


def write_export(
    db: Session,
    *,
    org_id: str,
    project: str,
    target: Path,
    export_format: str,
    batch: str | None = None,
    selection: Selection = "accepted",
    blobs: BlobStore | None = None,
    stats: ExportStats | None = None,
) -> ExportStats:
    """Write an export to ``target`` (a file, or a folder for folder formats).

    ``stats`` counts rows as they are written, for whoever watches the export's progress.
    """
    chosen = get_format(export_format)
    source = export_source(db, org_id=org_id, project=project, batch=batch, selection=selection)
    stats = stats or ExportStats()
    if isinstance(chosen, LineFormat):
        with target.open("wb") as out:
            for block in chosen.lines(source, stats):
                out.write(block)
    else:
        assert isinstance(chosen, FileFormat)
        chosen.write(source, target, stats, blobs)
    return stats


def file_name_of(stem: str, suffix: str) -> str:
    """A file name made from a tenant's project or batch name, safe as a path on our disk and
    in a download: word characters, dots and dashes only, never hidden, never ``..``."""
    safe = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "export"
    return safe[:100] + suffix


def zip_folder(folder: Path, archive: Path) -> None:
    """Pack a folder export into one downloadable file (stored, images are compressed already)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())


# Export jobs: the same exports, written by a background runner into the artifact store.


def content_type(export_format: str) -> str:
    """The media type of a job's download: JSON lines, Parquet, or a zip of a folder format."""
    chosen = get_format(export_format)
    if isinstance(chosen, LineFormat):
        return "application/x-ndjson"
    if chosen.directory:
        return "application/zip"
    return "application/vnd.apache.parquet"


def artifact_suffix(export_format: str) -> str:
    """The downloaded file's extension (folder formats are zipped)."""
    chosen = get_format(export_format)
    return ".zip" if chosen.directory else chosen.suffix


def create_export_job(db: Session, *, org_id: str, data: ExportJobCreate) -> ExportJob:
    """Queue an export; names, format and callback URL are checked now, not by the runner."""
    get_format(data.format)
    home = get_project(db, org_id=org_id, name=data.project)
    batch_id = None
    if data.batch is not None:
        batch = get_batch(db, org_id=org_id, name=data.batch)
        if batch.project_id != home.id:
            raise Invalid(f"batch {data.batch!r} is not in project {data.project!r}", field="batch")
        batch_id = batch.id
    if data.callback_url:
        check_callback_url(data.callback_url)
    job = ExportJob(
        org_id=org_id,
        project_id=home.id,
        batch_id=batch_id,
        format=data.format,
        selection=data.include,
        callback_url=data.callback_url or None,
    )
    db.add(job)
    db.flush()
    return job


def get_export_job(db: Session, *, org_id: str, job_id: str) -> ExportJob:
    job = db.scalar(select(ExportJob).where(ExportJob.org_id == org_id, ExportJob.id == job_id))
    if job is None:
        raise NotFound(f"no export job {job_id!r}")
    return job


def export_job_reads(db: Session, jobs: list[ExportJob], *, public_url: str) -> list[ExportJobRead]:
    """Jobs as the API shows them, with their project and batch names and download link."""
    project_ids = {job.project_id for job in jobs}
    batch_ids = {job.batch_id for job in jobs if job.batch_id}
    projects = {
        row.id: row.name
        for row in db.execute(select(Project.id, Project.name).where(Project.id.in_(project_ids)))
    }
    batches = {
        row.id: row.name
        for row in db.execute(select(Batch.id, Batch.name).where(Batch.id.in_(batch_ids)))
    }
    base = public_url.rstrip("/")
    return [
        ExportJobRead(
            id=job.id,
            project=projects[job.project_id],
            batch=batches.get(job.batch_id) if job.batch_id else None,
            format=job.format,
            include=job.selection,  # type: ignore[arg-type]
            state=job.state,  # type: ignore[arg-type]
            error=job.error,
            task_count=job.task_count,
            row_count=job.row_count,
            skipped=job.skipped,
            file_name=job.file_name,
            content_type=content_type(job.format),
            size_bytes=job.size_bytes,
            sha256=job.sha256,
            download_url=(
                f"{base}/v1/exports/{job.id}/download" if job.state == "succeeded" else None
            ),
            callback_url=job.callback_url,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
        for job in jobs
    ]


def list_export_jobs(
    db: Session,
    *,
    org_id: str,
    public_url: str,
    project: str | None = None,
    state: str | None = None,
    limit: int = MAX_PAGE,
    next_token: str | None = None,
) -> ExportJobPage:
    """The organization's export jobs, newest first."""
    query = select(ExportJob).where(ExportJob.org_id == org_id)
    if project is not None:
        query = query.where(ExportJob.project_id == get_project(db, org_id=org_id, name=project).id)
    if state is not None:
        query = query.where(ExportJob.state == state)
    if next_token:
        query = query.where(ExportJob.id < decode_cursor(next_token))
    jobs = list(db.scalars(query.order_by(ExportJob.id.desc()).limit(limit + 1)))
    has_more = len(jobs) > limit
    jobs = jobs[:limit]
    return ExportJobPage(
        docs=export_job_reads(db, jobs, public_url=public_url),
        limit=limit,
        has_more=has_more,
        next_token=encode_cursor(jobs[-1].id) if has_more else None,
    )


def downloadable_artifact(db: Session, *, org_id: str, job_id: str) -> ExportJob:
    """A job whose artifact can be downloaded; a job not done yet is refused with its state."""
    job = get_export_job(db, org_id=org_id, job_id=job_id)
    if job.state != "succeeded":
        detail = f": {job.error}" if job.error else ""
        raise Invalid(f"export job {job_id} is {job.state}{detail}; nothing to download yet")
    return job


@dataclass(frozen=True)
class ClaimedJob:
    """A job a runner holds, with what it needs to write the export."""

    id: str
    org_id: str
    claim_token: str
    project: str
    batch: str | None
    format: str
    selection: Selection
    attempt: int


def claim_export_job(
    db: Session, *, claim_token: str, claim_seconds: float, max_attempts: int, public_url: str
) -> ClaimedJob | None:
    """Lease the oldest queued job (or one whose runner died) to this runner; None when idle.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serializes writers): two runners never take
    the same job. A job whose runners died ``max_attempts`` times fails instead of running again.
    """
    now = utcnow()
    while True:
        job = db.scalar(
            select(ExportJob)
            .where(
                or_(
                    ExportJob.state == "queued",
                    and_(ExportJob.state == "running", ExportJob.claimed_until < now),
                )
            )
            .order_by(ExportJob.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job is None:
            return None
        if job.attempts >= max_attempts:
            _finish(
                db,
                job,
                state="failed",
                error=f"its runner stopped before finishing ({job.attempts} attempts)",
                public_url=public_url,
            )
            continue
        job.state = "running"
        job.attempts += 1
        job.claim_token = claim_token
        job.claimed_until = now + timedelta(seconds=claim_seconds)
        job.started_at = now
        job.row_count = 0
        db.flush()
        project_name, batch_name = db.execute(
            select(Project.name, Batch.name)
            .select_from(Project)
            .outerjoin(Batch, Batch.id == job.batch_id)
            .where(Project.id == job.project_id)
        ).one()
        return ClaimedJob(
            id=job.id,
            org_id=job.org_id,
            claim_token=claim_token,
            project=project_name,
            batch=batch_name,
            format=job.format,
            selection=job.selection,  # type: ignore[arg-type]
            attempt=job.attempts,
        )


def selected_task_count(db: Session, *, claim: ClaimedJob) -> int:
    """How many tasks the job's export selects (its progress's denominator)."""
    source = export_source(
        db,
        org_id=claim.org_id,
        project=claim.project,
        batch=claim.batch,
        selection=claim.selection,
    )
    return db.scalar(select(func.count()).select_from(Task).where(source.criteria)) or 0


def _still_held(claim: ClaimedJob) -> tuple[ColumnElement[bool], ...]:
    """The job is running under this claim: no other runner has taken it over meanwhile."""
    return (
        ExportJob.id == claim.id,
        ExportJob.claim_token == claim.claim_token,
        ExportJob.state == "running",
    )


def renew_claim(
    db: Session,
    *,
    claim: ClaimedJob,
    claim_seconds: float,
    row_count: int,
    task_count: int | None = None,
) -> bool:
    """Keep the job leased while it is written, with its progress; False if the lease is lost."""
    values: dict[str, Any] = {
        "claimed_until": utcnow() + timedelta(seconds=claim_seconds),
        "row_count": row_count,
    }
    if task_count is not None:
        values["task_count"] = task_count
    updated = db.execute(update(ExportJob).where(*_still_held(claim)).values(**values))
    return bool(updated.rowcount)


def finish_export_job(
    db: Session,
    *,
    claim: ClaimedJob,
    stats: ExportStats,
    public_url: str,
    stored: StoredFile | None = None,
    error: str | None = None,
) -> bool:
    """Record the artifact (or the error) and queue ``export.ready``/``export.failed`` with it.

    False, and nothing written, when the runner lost its lease to another one meanwhile.
    """
    job = db.scalar(select(ExportJob).where(*_still_held(claim)).with_for_update())
    if job is None:
        return False
    job.row_count = stats.rows
    job.skipped = dict(stats.skipped)
    if stored is not None:
        job.artifact = stored.name
        job.size_bytes = stored.size
        job.sha256 = stored.sha256
        stem = claim.batch or claim.project
        job.file_name = file_name_of(f"{stem}-{claim.format}", artifact_suffix(claim.format))
    _finish(
        db,
        job,
        state="failed" if error else "succeeded",
        error=error,
        public_url=public_url,
    )
    return True


def _finish(db: Session, job: ExportJob, *, state: str, error: str | None, public_url: str) -> None:
    """Close the job and, in the same transaction, queue its event to the job's or project's URL."""
    job.state = state
    job.error = error
    job.finished_at = utcnow()
    job.claim_token = None
    job.claimed_until = None
    db.flush()
    url = job.callback_url or db.scalar(
        select(Project.callback_url).where(Project.id == job.project_id)
    )
    if not url:
        return
    read = export_job_reads(db, [job], public_url=public_url)[0]
    kind = "export.ready" if state == "succeeded" else "export.failed"
    body = {
        "event": kind,
        "org_id": job.org_id,
        "project": read.project,
        "batch": read.batch,
        "export": read.model_dump(mode="json"),
    }
    callbacks.enqueue_event(
        db, org_id=job.org_id, kind=kind, url=url, body=body, export_job_id=job.id
    )
