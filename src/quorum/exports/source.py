"""What an export reads: the selected tasks in creation order, by chunk, in the shape it needs.

``tasks()`` gives Scale task objects (``TaskRead``) for formats that reshape them; ``task_json()``
and ``task_fields()`` give the task objects as JSON text or their fields as plain rows, read as
plain columns with no ORM object nor pydantic model per task, for the formats that copy tasks as
they are. All three derive from ``TaskRead``'s fields, so the task object has one definition.
"""

import operator
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import reduce
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Select,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from quorum.db.base import UTCDateTime, new_id
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


def _written_by_database(column: ColumnElement[Any]) -> bool:
    """Whether the database writes the column's JSON: values that need no escaping."""
    return isinstance(column.type, JSON | UTCDateTime | Boolean | Integer)


def _json_text(column: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """The JSON text of a column ``_written_by_database``; ``null`` for NULL."""
    if isinstance(column.type, Boolean):
        value: ColumnElement[Any] = case(
            (column.is_(None), "null"),
            (column == True, "true"),  # noqa: E712
            else_="false",
        )
    elif isinstance(column.type, UTCDateTime):
        value = literal('"', Text) + _as_json_value(column, dialect) + literal('"', Text)
    else:
        value = cast(_as_json_value(column, dialect), Text)
    return func.coalesce(value, literal("null", Text))


def _strings(values: Sequence[str | None]) -> list[str]:
    return ["null" if v is None else encode_basestring(v) for v in values]


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

        The database writes the JSON of each run of fields that need no escaping (JSON, numbers,
        booleans, times) as one text column; text fields are escaped here a column at a time
        (C-level ``encode_basestring``) and each line is one ``%``. That splits the work about
        evenly between the two: json_build_object cost the database 9 us a task.
        """
        dialect = self.db.get_bind().dialect.name
        template = ""
        columns: list[ColumnElement[Any]] = []
        escaped: list[bool] = []
        run: list[ColumnElement[Any]] = []
        for index, (name, column) in enumerate(task_field_columns().items()):
            key = f'{"," if index else "{"}"{name}":'
            if _written_by_database(column):
                run += [literal(key, Text), _json_text(column, dialect)]
                continue
            if run:
                template += "%s"
                columns.append(reduce(operator.add, run))
                escaped.append(False)
                run = []
            template += key + "%s"
            columns.append(column)
            escaped.append(True)
        if run:
            template += "%s"
            columns.append(reduce(operator.add, run))
            escaped.append(False)
        template += "}"
        for rows in self._rows(columns):
            by_column = zip(*rows, strict=True)
            encoded = [
                _strings(values) if escape else values
                for escape, values in zip(escaped, by_column, strict=True)
            ]
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
        connection = self.db.connection()
        if connection.dialect.name == "postgresql":
            yield from _prefetched(_driver_rows(connection, query, self.chunk_rows))
            return
        # Core rows, not ORM loading: these are plain values.
        yield from _prefetched(connection.execute(query).partitions())


def _driver_rows(
    connection: Connection, query: Select[Any], chunk_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The query's rows as the driver's own tuples, from a server-side cursor, a chunk at a time.

    SQLAlchemy's result layer (a ``Row`` per row) cost 1.4 us of the 3.1 us it took to fetch
    one, and an export is bound by its client's CPU. The columns exports select (text, numbers,
    booleans, naive times) come from psycopg as they would through SQLAlchemy.
    """
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect)
    params = {}
    for name, value in compiled.params.items():
        process = compiled.binds[name].type.bind_processor(dialect)
        params[name] = process(value) if process else value
    driver = connection.connection.driver_connection
    with driver.cursor(name=f"export_{new_id()}") as cursor:
        cursor.itersize = chunk_rows
        cursor.execute(str(compiled), params)
        while chunk := cursor.fetchmany(chunk_rows):
            yield chunk


def _prefetched(chunks: Iterator[Any]) -> Iterator[Any]:
    """Chunks fetched one ahead by a second thread: the database builds the next one meanwhile."""
    with ThreadPoolExecutor(max_workers=1) as fetcher:
        ahead = fetcher.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = fetcher.submit(next, chunks, None)
            yield chunk
