"""Exports over HTTP: streamed at once (line formats as they are read, file formats once
written), or as export jobs run in the background whose artifact is downloaded when ready."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, allow_query, authorize
from quorum.blobs import BlobStore
from quorum.db import transaction
from quorum.errors import NotFound
from quorum.exports import policy as export_policy
from quorum.exports import service
from quorum.exports.formats import ExportStats, LineFormat, get_format
from quorum.exports.jobs import artifact_store
from quorum.exports.schemas import ExportJobCreate, ExportJobPage, ExportJobRead, ExportJobState
from quorum.tasks import policy

router = APIRouter(prefix="/v1", tags=["exports"])
Reader = Annotated[Caller, authorize(policy.read_work)]
ExportReader = Annotated[Caller, authorize(export_policy.read_exports)]
ExportCreator = Annotated[Caller, authorize(export_policy.create_export)]


@router.get(
    "/projects/{project}/export",
    dependencies=[Depends(allow_query("batch", "format", "include"))],
    response_model=None,
    responses={200: {"content": {"application/x-ndjson": {}, "application/octet-stream": {}}}},
)
def export_tasks(
    project: PathName,
    request: Request,
    caller: Reader,
    db: SessionDep,
    format: Annotated[str, Query(description="jsonl, sft, dpo, parquet, coco, yolo or hf")],
    batch: str | None = None,
    include: service.Selection = "accepted",
) -> StreamingResponse | FileResponse:
    """Completed (``include=accepted|completed``) or all tasks of a project or batch.

    Folder formats (coco, yolo, hf) come as a zip archive.
    """
    chosen = get_format(format)
    # Resolve names now, so a wrong project is a 404 rather than a broken stream.
    service.export_source(db, org_id=caller.org_id, project=project, batch=batch)
    sessions = request.app.state.session_factory
    if isinstance(chosen, LineFormat):

        def stream() -> Iterator[bytes]:
            with transaction(sessions) as export_db:
                source = service.export_source(
                    export_db,
                    org_id=caller.org_id,
                    project=project,
                    batch=batch,
                    selection=include,
                )
                yield from chosen.lines(source, ExportStats())

        return StreamingResponse(stream(), media_type="application/x-ndjson")
    workdir = Path(tempfile.mkdtemp(prefix="quorum-export-"))
    cleanup = BackgroundTask(shutil.rmtree, workdir, ignore_errors=True)
    try:
        target = workdir / service.file_name_of(project, chosen.suffix)
        service.write_export(
            db,
            org_id=caller.org_id,
            project=project,
            batch=batch,
            selection=include,
            export_format=format,
            target=target,
            blobs=BlobStore.for_media(request.app.state.settings),
        )
        if chosen.directory:
            archive = workdir / f"{target.name}.zip"
            service.zip_folder(target, archive)
            target = archive
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(target, filename=target.name, background=cleanup)


def _public_url(request: Request) -> str:
    return request.app.state.settings.public_url


@router.post("/exports", response_model=ExportJobRead)
def create_export_job(
    data: ExportJobCreate,
    request: Request,
    caller: ExportCreator,
    db: SessionDep,
    background: BackgroundTasks,
) -> ExportJobRead:
    """Queue an export of a project or batch; poll it, or wait for ``export.ready``."""
    job = service.create_export_job(db, org_id=caller.org_id, data=data)
    caller.created(export_job_id=job.id)
    runner = request.app.state.export_runner
    if runner is not None:
        background.add_task(runner.wake)  # after the reply, so after the commit
    return service.export_job_reads(db, [job], public_url=_public_url(request))[0]


@router.get(
    "/exports",
    response_model=ExportJobPage,
    dependencies=[Depends(allow_query("project", "state", "limit", "next_token"))],
)
def list_export_jobs(
    request: Request,
    caller: ExportReader,
    db: SessionDep,
    project: str | None = None,
    state: ExportJobState | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
    next_token: str | None = None,
) -> ExportJobPage:
    """Export jobs, newest first."""
    return service.list_export_jobs(
        db,
        org_id=caller.org_id,
        public_url=_public_url(request),
        project=project,
        state=state,
        limit=limit,
        next_token=next_token,
    )


@router.get("/exports/{export_id}", response_model=ExportJobRead)
def get_export_job(
    export_id: str, request: Request, caller: ExportReader, db: SessionDep
) -> ExportJobRead:
    """Where the job stands: state, rows written so far, and once done its size and SHA-256."""
    job = service.get_export_job(db, org_id=caller.org_id, job_id=export_id)
    return service.export_job_reads(db, [job], public_url=_public_url(request))[0]


@router.get(
    "/exports/{export_id}/download",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/x-ndjson": {},
                "application/vnd.apache.parquet": {},
                "application/zip": {},
            }
        }
    },
)
def download_export(
    export_id: str, request: Request, caller: ExportReader, db: SessionDep
) -> FileResponse:
    """The job's artifact, streamed from the store (folder formats as a zip)."""
    job = service.downloadable_artifact(db, org_id=caller.org_id, job_id=export_id)
    store = artifact_store(request.app.state.settings)
    try:
        path = store.file_of(job.artifact or "")
    finally:
        store.close()
    if path is None:
        raise NotFound(f"the artifact of export job {export_id} is no longer in the store")
    return FileResponse(path, media_type=service.content_type(job.format), filename=job.file_name)
