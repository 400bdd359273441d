"""Which tasks an export holds, read in chunks so memory stays flat however big the project."""

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, LineFormat, get_format
from quorum.exports.source import ExportSource
from quorum.tasks.models import Task
from quorum.tasks.schemas import TaskRead
from quorum.tasks.service import get_batch, get_project

CHUNK_ROWS = 5_000
Selection = Literal["accepted", "completed", "all"]


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
) -> ExportStats:
    """Write an export to ``target`` (a file, or a folder for folder formats)."""
    chosen = get_format(export_format)
    source = export_source(db, org_id=org_id, project=project, batch=batch, selection=selection)
    stats = ExportStats()
    if isinstance(chosen, LineFormat):
        with target.open("wb") as out:
            for block in chosen.lines(source, stats):
                out.write(block)
    else:
        assert isinstance(chosen, FileFormat)
        chosen.write(source, target, stats, blobs)
    return stats


def zip_folder(folder: Path, archive: Path) -> None:
    """Pack a folder export into one downloadable file (stored, images are compressed already)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())
