"""What an export reads: the selected tasks in creation order, by chunk, in the shape it needs.

``tasks()`` gives Scale task objects (``TaskRead``) for formats that reshape them; ``task_json()``
and ``task_fields()`` let the database build the task objects (JSON text) or their fields (plain
rows), with no ORM object nor pydantic model per task, for the formats that copy tasks as they are.
All three derive from ``TaskRead``'s fields, so the task object has one definition.
"""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from quorum.db.base import UTCDateTime
from quorum.tasks.models import Batch, Project, Task
from quorum.tasks.schemas import TaskRead
from quorum.tasks.service import task_reads

# Fields of the task object whose column has another name or lives in another table.
_RENAMED: dict[str, Any] = {
    "task_id": Task.id,
    "project": Project.name,
    "batch": Batch.name,
    "metadata": Task.metadata_,
}
_SCALE_TIME_PG = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def task_field_columns() -> dict[str, ColumnElement[Any]]:
    """Where each field of a task object comes from, in ``TaskRead``'s order."""
    return {
        name: _RENAMED[name] if name in _RENAMED else getattr(Task, name)
        for name in TaskRead.model_fields
    }


def _as_json_value(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The column as the JSON value ``TaskRead.model_dump(mode="json")`` gives it."""
    if isinstance(column.type, UTCDateTime):
        if dialect == "postgresql":
            return func.to_char(func.timezone("UTC", column), _SCALE_TIME_PG)
        # SQLite's %f rounds to the millisecond; Scale's times (and scale_timestamp) truncate.
        fraction = func.substr(func.substr(column, 21).concat("000"), 1, 3)
        seconds = func.strftime("%Y-%m-%dT%H:%M:%S", column)
        return seconds.concat(".").concat(fraction).concat("Z")
    if dialect == "sqlite" and isinstance(column.type, JSON):
        return func.json(column)
    if dialect == "sqlite" and isinstance(column.type, Boolean):
        return func.json(
            case((column.is_(None), "null"), (column == True, "true"), else_="false")  # noqa: E712
        )
    return column


def _as_plain_value(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """JSON as its text; times as the driver gives them (Arrow reads naive ones as UTC)."""
    if isinstance(column.type, JSON):
        return cast(column, Text)
    if isinstance(column.type, UTCDateTime):
        return type_coerce(column, DateTime(timezone=True))
    return column


@dataclass
class ExportSource:
    """The tasks an export holds (``criteria`` on ``Task``), read ``chunk_rows`` at a time."""

    db: Session
    criteria: ColumnElement[bool]
    chunk_rows: int

    def tasks(self) -> Iterator[list[TaskRead]]:
        """Scale task objects, a chunk at a time."""
        query = select(Task).where(self.criteria).order_by(Task.id)
        result = self.db.execute(query.execution_options(yield_per=self.chunk_rows))
        for partition in result.scalars().partitions():
            yield task_reads(self.db, list(partition))

    def task_json(self) -> Iterator[list[str]]:
        """Each task object as JSON text, built by the database, a chunk at a time."""
        dialect = self.db.get_bind().dialect.name
        pairs = []
        for name, column in task_field_columns().items():
            pairs += [literal(name), _as_json_value(column, dialect)]
        build = func.json_build_object if dialect == "postgresql" else func.json_object
        yield from self._rows([cast(build(*pairs), Text)], scalars=True)

    def task_fields(self, names: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        """Chosen fields of each task object as plain rows; nested values come as JSON text."""
        yield from self._rows([_as_plain_value(task_field_columns()[name]) for name in names])

    def _rows(self, columns: list[ColumnElement[Any]], scalars: bool = False) -> Iterator[Any]:
        query = (
            select(*columns)
            .select_from(Task)
            .join(Project, Project.id == Task.project_id)
            .outerjoin(Batch, Batch.id == Task.batch_id)
            .where(self.criteria)
            .order_by(Task.id)
            .execution_options(yield_per=self.chunk_rows)
        )
        # Core rows, not ORM loading: these are plain values.
        result = self.db.connection().execute(query)
        partitions = (result.scalars() if scalars else result).partitions()
        for partition in _prefetched(partitions):
            yield partition if scalars else [tuple(row) for row in partition]


def _prefetched(chunks: Iterator[Any]) -> Iterator[Any]:
    """Chunks fetched one ahead by a second thread: the database builds the next one meanwhile."""
    with ThreadPoolExecutor(max_workers=1) as fetcher:
        ahead = fetcher.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = fetcher.submit(next, chunks, None)
            yield chunk
