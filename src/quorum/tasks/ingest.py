"""Bulk import of tasks from JSONL, CSV, Parquet and Hugging Face ``datasets`` folders.

Every row goes through the same validation as ``POST /v1/task/<type>`` (``new_task_values``).
Good rows are inserted in chunks by the database's fast path (COPY on PostgreSQL, executemany on
SQLite); a row whose ``unique_id`` already exists is skipped, so re-running an import creates
nothing twice. Bad rows are reported with their line number and reason while the others go in,
unless the import is atomic, when one bad row keeps every row out.
"""

import csv
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from psycopg.errors import DeadlockDetected, UniqueViolation
from pydantic_core import from_json, to_json
from sqlalchemy.orm import Session, sessionmaker

from quorum.blobs import BlobStore
from quorum.db.base import id_number, utcnow
from quorum.errors import Invalid
from quorum.jsonbounds import MAX_DEPTH
from quorum.tasks.models import Batch, Project
from quorum.tasks.schemas import TaskCommon
from quorum.tasks.service import new_tasks_values, parse_task_commons, task_home

SOURCE_FORMATS = ("jsonl", "csv", "parquet", "hf")
CHUNK_ROWS = 10_000
# Rows validated and formatted at a time, so that a part's objects are still in the CPU's caches
# at each step: in parts of 10,000 rows, the same work costs the client about 40 % more CPU.
PART_ROWS = 200
# Chunks inserted at once, each on its own connection: PostgreSQL's per-row insert work (heap,
# indexes, the foreign-key check) then runs on as many cores.
STREAMS = 2
DEADLOCK_RETRIES = 3
READ_BATCH_ROWS = 10_000
# Columns written by the bulk path, in COPY order; every other column takes its default.
INSERT_COLUMNS = (
    "id",
    "org_id",
    "project_id",
    "batch_id",
    "type",
    "status",
    "instruction",
    "params",
    "callback_url",
    "metadata",
    "tags",
    "unique_id",
    "priority",
    "required_responses",
    "is_test",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class RowError:
    """Why one input row was rejected; ``line`` is its line (or row) number in the source."""

    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    rejected: list[RowError] = field(default_factory=list)

    def add(self, other: "ImportReport") -> None:
        self.created += other.created
        self.existing += other.existing
        self.rejected.extend(other.rejected)


Row = tuple[int, dict[str, Any] | RowError]


# Sources


def detect_format(path: Path) -> str:
    """The source format from the path: a folder is a ``datasets`` save, else the suffix."""
    if path.is_dir():
        return "hf"
    suffix = path.suffix.lower().lstrip(".")
    formats = {"jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv", "parquet": "parquet"}
    if suffix not in formats:
        raise Invalid(f"cannot tell the format of {path.name}; pass one of {SOURCE_FORMATS}")
    return formats[suffix]


def _hf_arrow_files(path: Path, split: str) -> list[Path]:
    """The Arrow files of a dataset saved with ``save_to_disk`` (a ``DatasetDict`` by split)."""
    if (path / "dataset_dict.json").exists():
        splits = json.loads((path / "dataset_dict.json").read_text())["splits"]
        if split not in splits:
            raise Invalid(f"the dataset has splits {splits}, not {split!r}")
        path = path / split
    state = path / "state.json"
    if not state.exists():
        raise Invalid(f"{path} is not a dataset saved with datasets' save_to_disk")
    return [path / item["filename"] for item in json.loads(state.read_text())["_data_files"]]


def count_rows(path: Path, fmt: str, *, split: str = "train") -> int:
    """How many rows the source holds, cheaply (for the progress bar)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "hf":
        import pyarrow as pa

        total = 0
        for arrow_file in _hf_arrow_files(path, split):
            with pa.memory_map(str(arrow_file)) as source:
                total += sum(batch.num_rows for batch in pa.ipc.open_stream(source))
        return total
    lines = 0
    last = b"\n"
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return lines - 1 if fmt == "csv" else lines


def read_rows(path: Path, fmt: str, *, split: str = "train") -> Iterator[Row]:
    """Rows of a source with their line numbers; unreadable rows come as ``RowError``s."""
    if fmt == "jsonl":
        yield from _jsonl_rows(path)
    elif fmt == "csv":
        yield from _csv_rows(path)
    elif fmt in ("parquet", "hf"):
        yield from _arrow_rows(path, fmt, split)
    else:
        raise Invalid(f"unknown source format {fmt!r}; supported: {', '.join(SOURCE_FORMATS)}")


def _jsonl_rows(path: Path) -> Iterator[Row]:
    loads = from_json  # a third of json.loads' time, the same values
    with path.open("rb") as file:
        for line_number, line in enumerate(file, 1):
            try:
                row = loads(line)
            except ValueError as exc:
                if not line.strip():  # blank lines are skipped
                    continue
                row = _python_json(line)
                if row is None:
                    yield line_number, RowError(line_number, f"not valid JSON: {exc}")
                    continue
            if isinstance(row, dict):
                yield line_number, row
            else:
                yield line_number, RowError(line_number, "a line must hold a JSON object")


def _python_json(line: bytes) -> Any:
    """What Python's parser makes of a line the fast one refused: it reads lone surrogate
    escapes and deeper nesting, so that the row's field is named by the shape bounds (which
    refuse both) rather than reported as broken JSON. None when it is not JSON at all."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        for row in reader:
            if None in row:
                error = RowError(reader.line_num, "the row has more cells than the header")
                yield reader.line_num, error
                continue
            yield reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}


def _arrow_rows(path: Path, fmt: str, split: str) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    if fmt == "parquet":
        batches: Iterable[Any] = pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS)
    else:
        batches = (
            batch
            for arrow_file in _hf_arrow_files(path, split)
            for batch in pa.ipc.open_stream(pa.memory_map(str(arrow_file)))
        )
    for batch in batches:
        for row in batch.to_pylist():
            number += 1
            yield number, {k: v for k, v in row.items() if v is not None}


# Column mapping


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``target=column`` pairs (``target=json:column`` decodes the cell as JSON)."""
    mapping = {}
    for item in items:
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise Invalid(f"a mapping is target=column, got {item!r}")
        mapping[target.strip()] = source.strip()
    return mapping


def apply_mapping(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """The task body named by the mapping; dotted targets (``metadata.source``) nest."""
    body: dict[str, Any] = {}
    for target, source in mapping.items():
        as_json = source.startswith("json:")
        column = source.removeprefix("json:")
        if column not in row:
            raise Invalid(f"missing column {column!r} (mapped to {target})")
        value = row[column]
        if as_json and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise Invalid(f"column {column!r} is not valid JSON: {value[:80]!r}") from None
            except RecursionError:
                raise Invalid(f"{target}: nested deeper than {MAX_DEPTH} levels") from None
        *parents, leaf = target.split(".")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return body


# Validation and insertion


def _ids(first: int, count: int) -> list[str]:
    return [f"{number:024x}" for number in range(first, first + count)]


@dataclass
class _Destination:
    project: Project
    batch: Batch | None
    mapping: dict[str, str] | None
    blobs: BlobStore | None
    relative_to: Path | None

    def check(self, rows: Iterable[Row]) -> tuple[list[dict[str, Any]], ImportReport]:
        """The new tasks' values of the good rows; a report of the rows rejected."""
        unreadable = []
        readable = []
        for line, row in rows:
            if type(row) is dict:
                readable.append((line, row))
            else:
                unreadable.append(row)
        good, rejected = self.validate(readable)
        report = ImportReport()
        if unreadable or rejected:
            report.rejected = sorted([*unreadable, *rejected], key=lambda error: error.line)
        return good, report

    def validate(self, rows: list[tuple[int, dict[str, Any]]]) -> tuple[list[Any], list[RowError]]:
        """The new tasks' values of the good rows, and why each other row was rejected.

        Each step runs over the whole chunk (one pydantic call each for the common fields and the
        params); a row leaves at its first failing step, as it would on its own.
        """
        errors: list[RowError] = []
        if self.mapping:
            mapped = []
            for line, row in rows:
                try:
                    mapped.append((line, apply_mapping(row, self.mapping)))
                except Invalid as exc:
                    errors.append(RowError(line, exc.message))
            rows = mapped
        commons = parse_task_commons([body for _, body in rows])
        # A row naming no project nor batch, with no image to store, goes as it is.
        as_is = self.blobs is None
        tasks = []
        lines = []
        for (line, body), common in zip(rows, commons, strict=True):
            if isinstance(common, Invalid):
                errors.append(RowError(line, common.message))
                continue
            if not (as_is and common.project is None and common.batch is None):
                try:
                    body = self._checked(common, body)
                except Invalid as exc:
                    errors.append(RowError(line, exc.message))
                    continue
            tasks.append((common, body))
            lines.append(line)
        results = new_tasks_values(project=self.project, batch=self.batch, tasks=tasks)
        values = [result for result in results if type(result) is dict]
        if len(values) < len(results):
            errors.extend(
                RowError(line, result.message)
                for line, result in zip(lines, results, strict=True)
                if isinstance(result, Invalid)
            )
        return values, sorted(errors, key=lambda error: error.line)

    def _checked(self, common: TaskCommon, body: dict[str, Any]) -> dict[str, Any]:
        """The body once its project and batch are this import's, its image in the blob store."""
        if common.project not in (None, self.project.name):
            raise Invalid(f"project: this import goes to project {self.project.name!r}")
        batch_name = self.batch.name if self.batch else None
        if common.batch not in (None, batch_name):
            raise Invalid(f"batch: this import goes to batch {batch_name!r}")
        if self.blobs is not None and isinstance(body.get("attachment"), str):
            try:
                attachment = self.blobs.store(
                    body["attachment"], org_id=self.project.org_id, local_root=self.relative_to
                )
            except Invalid as exc:
                raise Invalid(f"attachment: {exc.message}") from None
            return {**body, "attachment": attachment}
        return body


def import_rows(
    db: Session,
    *,
    org_id: str,
    project: str,
    batch: str | None = None,
    rows: Iterable[Row],
    mapping: dict[str, str] | None = None,
    blobs: BlobStore | None = None,
    relative_to: Path | None = None,
    is_test: bool = False,
) -> ImportReport:
    """Validate rows and insert the good ones in the caller's transaction."""
    destination = _destination(db, org_id, project, batch, mapping, blobs, relative_to)
    chunk = _Chunk(db.get_bind().dialect.name, is_test=is_test)
    rows = list(rows)
    chunk.add(len(rows), *destination.check(rows))
    return _insert_chunk(db, chunk)


def _destination(
    db: Session,
    org_id: str,
    project: str,
    batch: str | None,
    mapping: dict[str, str] | None,
    blobs: BlobStore | None,
    relative_to: Path | None,
) -> _Destination:
    home, home_batch = task_home(db, org_id=org_id, common=TaskCommon(project=project, batch=batch))
    return _Destination(home, home_batch, mapping, blobs, relative_to)


@dataclass
class _Chunk:
    """Rows on their way into one transaction: the new tasks as the database's fast path takes
    them (COPY text on PostgreSQL, parameter rows on SQLite), made part by part."""

    dialect: str
    is_test: bool = False
    rows: int = 0
    good: int = 0
    data: list[Any] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)
    first_id: int = field(default_factory=id_number)

    def add(self, rows: int, good: list[dict[str, Any]], checked: ImportReport) -> None:
        """Take a checked part of ``rows`` rows; its good ones are formatted at once."""
        if good:
            ids = _ids(self.first_id + self.good, len(good))
            if self.dialect == "postgresql":
                self.data.append(_copy_data(good, ids, self.is_test))
            else:
                self.data.extend(_sqlite_records(good, ids, self.is_test))
        self.rows += rows
        self.good += len(good)
        self.report.add(checked)

    def following(self) -> "_Chunk":
        """The next chunk of the import, whose ids sort after this one's (even within the same
        millisecond)."""
        return _Chunk(self.dialect, first_id=max(id_number(), self.first_id + self.good))


def _insert_chunk(db: Session, chunk: _Chunk, *, alone: bool = False) -> ImportReport:
    """Insert a chunk's new tasks; its report with what was created or already there."""
    report = chunk.report
    if chunk.good:
        created = _insert(db, chunk.data, alone=alone)
        report.created += created
        report.existing += chunk.good - created
    return report


def _insert(db: Session, data: list[Any], *, alone: bool = False) -> int:
    """Insert new tasks, skipping taken unique_ids; how many were created.

    ``alone``: the transaction holds nothing else, so it may be rolled back and redone.
    """
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        return _copy_new(db, data) if alone else _copy_skipping_taken(connection, data)
    columns = ", ".join(INSERT_COLUMNS)
    marks = ", ".join("?" for _ in INSERT_COLUMNS)
    result = connection.exec_driver_sql(
        f"INSERT INTO task ({columns}) VALUES ({marks}) ON CONFLICT (org_id, unique_id) DO NOTHING",
        data,
    )
    return result.rowcount


def _sqlite_records(values: list[dict[str, Any]], ids: list[str], is_test: bool) -> list[Any]:
    """New tasks as SQLite's parameter rows, ``INSERT_COLUMNS`` each."""
    dumps = json.dumps
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    return [
        (
            task_id,
            v["org_id"],
            v["project_id"],
            v["batch_id"],
            v["type"],
            "pending",
            v["instruction"],
            dumps(v["params"]),
            v["callback_url"],
            dumps(v["metadata_"]),
            dumps(v["tags"]),
            v["unique_id"],
            v["priority"],
            v["required_responses"],
            is_test,
            stamp,
            stamp,
        )
        for task_id, v in zip(ids, values, strict=True)
    ]


# COPY's columns: first those a chunk shares (written once per chunk), then each task's own.
# created_at and updated_at are left to the database's default, now(): the chunk's transaction.
COPY_CHUNK_COLUMNS = (
    "org_id",
    "project_id",
    "batch_id",
    "type",
    "status",
    "is_test",
)
COPY_ROW_COLUMNS = (
    "id",
    "instruction",
    "params",
    "callback_url",
    "metadata",
    "tags",
    "unique_id",
    "priority",
    "required_responses",
)
COPY_COLUMNS = ", ".join([*COPY_CHUNK_COLUMNS, *COPY_ROW_COLUMNS])
# Characters COPY's text format reads as escapes or separators, and how to write them.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_copy_special = re.compile(r"[\\\n\r\t]").search


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    return value.translate(_COPY_ESCAPES) if _copy_special(value) else value


def _copy_json(value: Any) -> str:
    return to_json(value).decode().replace("\\", "\\\\")


def _copy_data(values: list[dict[str, Any]], ids: list[str], is_test: bool) -> bytes:
    """New tasks of one project in COPY's text format, ``COPY_COLUMNS`` per line.

    Built as one string with the shared columns formatted once: formatting it costs the
    client about 2 us a task, where psycopg's per-value ``write_row`` costs several times that.
    JSON from pydantic-core holds no raw newline nor tab, so only its backslashes need escaping.
    """
    first = values[0]
    shared = [
        first["org_id"],
        first["project_id"],
        _copy_text(first["batch_id"]),
        first["type"],
        "pending",
        "t" if is_test else "f",
    ]
    prefix = "\t".join(shared)
    text, as_json = _copy_text, _copy_json
    lines = [
        f"{prefix}\t{task_id}\t{text(v['instruction']) if v['instruction'] else ''}"
        f"\t{as_json(v['params'])}\t{text(v['callback_url'])}"
        f"\t{as_json(v['metadata_']) if v['metadata_'] else '{}'}"
        f"\t{as_json(v['tags']) if v['tags'] else '[]'}\t{text(v['unique_id'])}"
        f"\t{v['priority']}\t{v['required_responses']}\n"
        for task_id, v in zip(ids, values, strict=True)
    ]
    return "".join(lines).encode()


def _copy_new(db: Session, data: list[bytes]) -> int:
    """COPY a chunk straight into ``task`` in its own transaction; how many were created.

    The cheap path for new tasks (a fresh import): no scratch table, no second insert. When a
    unique_id is taken (a re-run, a repeat in the source, another import at once) the COPY fails
    whole; the transaction is rolled back and the chunk goes through ``_copy_skipping_taken``,
    redone if it deadlocks with a concurrent chunk that holds the same unique_ids.
    """
    try:
        cursor = db.connection().connection.driver_connection.cursor()
        with cursor.copy(f"COPY task ({COPY_COLUMNS}) FROM STDIN") as copy:
            for part in data:
                copy.write(part)
        return cursor.rowcount
    except (UniqueViolation, DeadlockDetected):
        db.rollback()
    deadlocks = 0
    while True:
        try:
            return _copy_skipping_taken(db.connection(), data)
        except DeadlockDetected:
            db.rollback()
            deadlocks += 1
            if deadlocks == DEADLOCK_RETRIES:
                raise


def _copy_skipping_taken(connection: Any, data: list[bytes]) -> int:
    """COPY a chunk into a scratch table, then INSERT … ON CONFLICT DO NOTHING from it.

    Safe in any transaction and against any concurrent writer, at about 4 us a task more than
    ``_copy_new`` on the database.
    """
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS task_import (LIKE task INCLUDING DEFAULTS)"
    )
    with cursor.copy(f"COPY task_import ({COPY_COLUMNS}) FROM STDIN") as copy:
        for part in data:
            copy.write(part)
    cursor.execute(
        f"INSERT INTO task ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM task_import "
        "ON CONFLICT (org_id, unique_id) DO NOTHING"
    )
    created = cursor.rowcount
    cursor.execute("TRUNCATE task_import")
    return created


def _parts(rows: Iterable[Row], chunk_rows: int, part_rows: int) -> Iterator[list[Row]]:
    """Rows in parts of at most ``part_rows``; no part crosses a multiple of ``chunk_rows``."""
    remaining = iter(rows)
    while True:
        for start in range(0, chunk_rows, part_rows):
            part = list(islice(remaining, min(part_rows, chunk_rows - start)))
            if not part:
                return
            yield part


def run_import(
    sessions: sessionmaker[Session],
    *,
    org_id: str,
    project: str,
    batch: str | None = None,
    rows: Iterable[Row],
    mapping: dict[str, str] | None = None,
    atomic: bool = False,
    blobs: BlobStore | None = None,
    relative_to: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a whole source: a transaction per chunk, or one for everything when ``atomic``.

    Chunks are validated and formatted here, ``PART_ROWS`` rows at a time, while earlier ones are
    inserted by other threads: on PostgreSQL
    ``STREAMS`` chunks at once, each committed on its own connection (an atomic import, and
    SQLite, have one). An atomic import with any rejected row is rolled back and reports
    ``created == 0``.
    """
    report = ImportReport()
    session = sessions()
    inserters = [session]
    try:
        destination = _destination(session, org_id, project, batch, mapping, blobs, relative_to)
        if not atomic and session.get_bind().dialect.name == "postgresql":
            inserters = [sessions() for _ in range(STREAMS)]
        idle: SimpleQueue[Session] = SimpleQueue()
        for inserter in inserters:
            idle.put(inserter)

        def insert(chunk: _Chunk) -> ImportReport:
            inserter = idle.get()
            try:
                report = _insert_chunk(inserter, chunk, alone=not atomic)
                if not atomic:
                    inserter.commit()
                return report
            finally:
                idle.put(inserter)

        with ThreadPoolExecutor(max_workers=len(inserters)) as pool:
            inserting: deque[tuple[Future[ImportReport], int]] = deque()

            def submit(chunk: _Chunk) -> None:
                if len(inserting) == len(inserters):
                    _finish(report, *inserting.popleft(), on_progress)
                inserting.append((pool.submit(insert, chunk), chunk.rows))

            chunk = _Chunk(session.get_bind().dialect.name)
            for part in _parts(rows, chunk_rows, min(PART_ROWS, chunk_rows)):
                chunk.add(len(part), *destination.check(part))
                if chunk.rows == chunk_rows:
                    submit(chunk)
                    chunk = chunk.following()
            if chunk.rows:
                submit(chunk)
            while inserting:
                _finish(report, *inserting.popleft(), on_progress)
        if atomic and report.rejected:
            session.rollback()
            report.created = report.existing = 0
        else:
            session.commit()
    finally:
        for inserter in {session, *inserters}:
            inserter.close()
    return report


def _finish(
    report: ImportReport,
    inserting: "Future[ImportReport]",
    rows: int,
    on_progress: Callable[[int], None] | None,
) -> None:
    report.add(inserting.result())
    if on_progress is not None:
        on_progress(rows)
