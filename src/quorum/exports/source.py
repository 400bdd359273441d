"""What an export reads: the selected tasks in creation order, by chunk, in the shape it needs.

``tasks()`` gives Scale task objects (``TaskRead``) for formats that reshape them; ``task_json()``
and ``task_fields()`` give the task objects as JSON text or their fields as plain rows, read as
plain columns with no ORM object nor pydantic model per task, for the formats that copy tasks as
they are. All three derive from ``TaskRead``'s fields, so the task object has one definition.
"""

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Text,
    case,
    cast,
    func,
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


def _as_plain_value(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """JSON as its text; times as naive UTC datetimes.

    Arrow reads naive times as UTC in a tenth of the time it takes to convert aware ones
    (3 us a value), and SQLite stores them naive already.
    """
    if isinstance(column.type, JSON):
        return cast(column, Text)
    if isinstance(column.type, UTCDateTime):
        if dialect == "postgresql":
            return type_coerce(func.timezone("UTC", column), DateTime())
        return type_coerce(column, DateTime())
    return column


def _json_kind(column: ColumnElement[Any]) -> str:
    """How a plain column's values become JSON: as text, raw JSON text, a number, a bool, a time."""
    kind = column.type
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, UTCDateTime):
        return "time"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):
        return "number"
    return "string"


def _strings(values: Sequence[str | None]) -> list[str]:
    return ["null" if v is None else encode_basestring(v) for v in values]


def _json_texts(values: Sequence[str | None]) -> list[str]:
    return ["null" if v is None else v for v in values]


def _times(values: Sequence[str | None]) -> list[str]:
    return ["null" if v is None else f'"{v}"' for v in values]


def _numbers(values: Sequence[int | None]) -> list[str]:
    return ["null" if v is None else str(v) for v in values]


def _bools(values: Sequence[bool | None]) -> list[str]:
    return ["null" if v is None else "true" if v else "false" for v in values]


# The JSON of a column's values, by kind; a JSON text column needs no quoting.
_ENCODERS: dict[str, Callable[[Sequence[Any]], list[str]]] = {
    "string": _strings,
    "json": _json_texts,
    "time": _times,
    "number": _numbers,
    "bool": _bools,
}


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
        """Each task object as JSON text, a chunk at a time.

        Built here from plain columns (JSON ones as their text, times formatted by the
        database), a column at a time with C-level encoders and one ``%`` per line: about
        3 us a task, where the database took 9 us to build each object with json_build_object.
        """
        dialect = self.db.get_bind().dialect.name
        fields = task_field_columns()
        kinds = [_json_kind(column) for column in fields.values()]
        columns = [
            _as_json_value(column, dialect) if kind == "time" else _as_plain_value(column, dialect)
            for column, kind in zip(fields.values(), kinds, strict=True)
        ]
        encoders = [_ENCODERS[kind] for kind in kinds]
        template = "{" + ",".join(f'"{name}":%s' for name in fields) + "}"
        for rows in self._rows(columns):
            by_column = zip(*rows, strict=True)
            encoded = [encode(values) for encode, values in zip(encoders, by_column, strict=True)]
            yield list(map(template.__mod__, zip(*encoded, strict=True)))

    def task_fields(self, names: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        """Chosen fields of each task object as plain rows; nested values come as JSON text."""
        dialect = self.db.get_bind().dialect.name
        columns = task_field_columns()
        for rows in self._rows([_as_plain_value(columns[name], dialect) for name in names]):
            yield [tuple(row) for row in rows]

    def _rows(self, columns: list[ColumnElement[Any]]) -> Iterator[Sequence[Any]]:
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
        yield from _prefetched(result.partitions())


def _prefetched(chunks: Iterator[Any]) -> Iterator[Any]:
    """Chunks fetched one ahead by a second thread: the database builds the next one meanwhile."""
    with ThreadPoolExecutor(max_workers=1) as fetcher:
        ahead = fetcher.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = fetcher.submit(next, chunks, None)
            yield chunk
