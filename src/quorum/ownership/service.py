"""Export everything an organization owns; delete a project with all its work.

The export walks every table with an ``org_id`` (a worker's pool is ``pool_org_id``), so a table
added by any domain is included without being listed here; secrets are left out.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from quorum.db.base import Base
from quorum.ownership.schemas import ProjectDeleted
from quorum.tasks import service as tasks

OWNER_COLUMNS = ("org_id", "pool_org_id")
SECRET_COLUMNS = frozenset(
    {"digest", "password_hash", "callback_auth_key", "callback_signing_secret", "claim_token"}
)
EXPORT_CHUNK = 500


def _owned_tables() -> Iterator[tuple[Table, str]]:
    import quorum.models  # noqa: F401  (every domain's tables registered on Base.metadata)

    for table in Base.metadata.sorted_tables:
        owner = next((name for name in OWNER_COLUMNS if name in table.c), None)
        if table.name == "organization":
            yield table, "id"
        elif owner is not None:
            yield table, owner


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_organization(db: Session, *, org_id: str) -> Iterator[dict[str, Any]]:
    """One ``{"table", "row"}`` record per owned row, table by table, streamed from the database."""
    for table, owner in _owned_tables():
        columns = [column for column in table.c if column.name not in SECRET_COLUMNS]
        query = select(*columns).where(table.c[owner] == org_id).order_by(*table.primary_key)
        for row in db.execute(query.execution_options(yield_per=EXPORT_CHUNK)):
            yield {"table": table.name, "row": {k: _plain(v) for k, v in row._mapping.items()}}


def delete_project(db: Session, *, org_id: str, name: str) -> ProjectDeleted:
    """Delete a project of this organization with its batches, tasks, assignments (responses),
    callback events and staffing; workers' earnings stay in the pay ledger, detached."""
    project = tasks.get_project(db, org_id=org_id, name=name)
    task_table = Base.metadata.tables["task"]
    batch_table = Base.metadata.tables["batch"]
    task_count = db.scalar(select(func.count()).where(task_table.c.project_id == project.id))
    batch_count = db.scalar(select(func.count()).where(batch_table.c.project_id == project.id))
    # Foreign keys cascade from the project to everything that hangs off it. Pay ledger entries
    # of its work are detached first, so earnings survive.
    assignment_table = Base.metadata.tables["assignment"]
    ledger_table = Base.metadata.tables["ledger_entry"]
    db.execute(
        update(ledger_table)
        .where(
            ledger_table.c.assignment_id.in_(
                select(assignment_table.c.id).where(assignment_table.c.project_id == project.id)
            )
        )
        .values(assignment_id=None)
    )
    project_table = Base.metadata.tables["project"]
    db.execute(
        delete(project_table).where(
            project_table.c.id == project.id, project_table.c.org_id == org_id
        )
    )
    db.expunge(project)
    return ProjectDeleted(name=name, deleted=True, batches=batch_count or 0, tasks=task_count or 0)
