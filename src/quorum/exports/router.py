"""Exports over HTTP: line formats stream as they are read; file formats are sent once written."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, allow_query, authorize
from quorum.blobs import BlobStore
from quorum.db import transaction
from quorum.exports import service
from quorum.exports.formats import ExportStats, LineFormat, get_format
from quorum.tasks import policy

router = APIRouter(prefix="/v1", tags=["exports"])
Reader = Annotated[Caller, authorize(policy.read_work)]


def blob_store(request: Request) -> BlobStore:
    settings = request.app.state.settings
    return BlobStore(settings.home / "blobs", settings.public_url)


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
        target = workdir / f"{project}{chosen.suffix}".replace("/", "_")
        service.write_export(
            db,
            org_id=caller.org_id,
            project=project,
            batch=batch,
            selection=include,
            export_format=format,
            target=target,
            blobs=blob_store(request),
        )
        if chosen.directory:
            archive = workdir / f"{target.name}.zip"
            service.zip_folder(target, archive)
            target = archive
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(target, filename=target.name, background=cleanup)
