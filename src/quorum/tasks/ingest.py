"""Bulk import of tasks from JSONL, CSV, Parquet and Hugging Face ``datasets`` folders.

Every row goes through the same validation as ``POST /v1/task/<type>`` (``new_task_values``).
Good rows are inserted in chunks by the database's fast path (COPY on PostgreSQL, executemany on
SQLite); a row whose ``unique_id`` already exists is skipped, so re-running an import creates
nothing twice. Bad rows are reported with their line number and reason while the others go in,
unless the import is atomic, when one bad row keeps every row out.
"""

import csv
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_core import to_json
from sqlalchemy.orm import Session, sessionmaker

from quorum.blobs import BlobStore
from quorum.db.base import utcnow
from quorum.errors import Invalid
from quorum.tasks.models import Batch, Project
from quorum.tasks.schemas import TaskCommon
from quorum.tasks.service import new_tasks_values, parse_task_commons, task_home

SOURCE_FORMATS = ("jsonl", "csv", "parquet", "hf")
CHUNK_ROWS = 10_000
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "hf":
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
    loads = json.loads
    with path.open("rb") as file:
        for line_number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                row = loads(line)
            except ValueError as exc:
                yield line_number, RowError(line_number, f"not valid JSON: {exc}")
                continue
            if isinstance(row, dict):
                yield line_number, row
            else:
                yield line_number, RowError(line_number, "a line must hold a JSON object")


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
        *parents, leaf = target.split(".")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return body


# Validation and insertion


def _sequential_ids(count: int) -> list[str]:
    """Ids for a chunk of new tasks: creation-ordered like ``new_id``, and in file order."""
    millis = int(time.time() * 1000)
    start = int.from_bytes(os.urandom(6)) % (2**48 - count)
    return [f"{millis:012x}{start + offset:012x}" for offset in range(count)]


@dataclass
class _Destination:
    project: Project
    batch: Batch | None
    mapping: dict[str, str] | None
    blobs: BlobStore | None
    relative_to: Path | None

    def check(self, rows: Iterable[Row]) -> tuple[list[dict[str, Any]], ImportReport]:
        """The new tasks' values of the good rows; a report of the rows rejected."""
        report = ImportReport()
        readable = []
        for line, row in rows:
            if isinstance(row, RowError):
                report.rejected.append(row)
            else:
                readable.append((line, row))
        good, rejected = self.validate(readable)
        report.rejected = sorted([*report.rejected, *rejected], key=lambda error: error.line)
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
        tasks = []
        lines = []
        for (line, body), common in zip(rows, commons, strict=True):
            try:
                if isinstance(common, Invalid):
                    raise common
                tasks.append((common, self._checked(common, body)))
                lines.append(line)
            except Invalid as exc:
                errors.append(RowError(line, exc.message))
        values = []
        results = new_tasks_values(project=self.project, batch=self.batch, tasks=tasks)
        for line, result in zip(lines, results, strict=True):
            if isinstance(result, Invalid):
                errors.append(RowError(line, result.message))
            else:
                values.append(result)
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
                attachment = self.blobs.store(body["attachment"], relative_to=self.relative_to)
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
    good, report = destination.check(rows)
    return _insert_checked(db, good, report, is_test=is_test)


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


def _insert_checked(
    db: Session, good: list[dict[str, Any]], report: ImportReport, *, is_test: bool = False
) -> ImportReport:
    """Insert a checked chunk's good rows; its report with what was created or already there."""
    if good:
        created = _insert(db, good, is_test=is_test)
        report.created += created
        report.existing += len(good) - created
    return report


def _insert(db: Session, values: list[dict[str, Any]], *, is_test: bool) -> int:
    """Insert new tasks, skipping taken unique_ids; how many were created."""
    now = utcnow()
    ids = _sequential_ids(len(values))
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        return _json_insert(connection, values, ids, now, is_test)
    dumps = json.dumps
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    records = [
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
    columns = ", ".join(INSERT_COLUMNS)
    marks = ", ".join("?" for _ in INSERT_COLUMNS)
    result = connection.exec_driver_sql(
        f"INSERT INTO task ({columns}) VALUES ({marks}) ON CONFLICT (org_id, unique_id) DO NOTHING",
        records,
    )
    return result.rowcount


# What differs from task to task, sent as one JSON array per chunk; the rest is the chunk's own.
JSON_ROW_COLUMNS = {
    "id": "text",
    "instruction": "text",
    "params": "jsonb",
    "callback_url": "text",
    "metadata": "jsonb",
    "tags": "jsonb",
    "unique_id": "text",
    "priority": "integer",
    "required_responses": "integer",
}


def _json_insert(
    connection: Any, values: list[dict[str, Any]], ids: list[str], now: Any, is_test: bool
) -> int:
    """One INSERT … SELECT FROM json_to_recordset(…) ON CONFLICT DO NOTHING for a whole chunk.

    The chunk travels as one JSON document serialized in one call (pydantic-core), which costs
    the client far less than COPY's per-row, per-column formatting.
    """
    first = values[0]
    chunk = {
        "org_id": first["org_id"],
        "project_id": first["project_id"],
        "batch_id": first["batch_id"],
        "type": first["type"],
        "status": "pending",
        "is_test": is_test,
        "created_at": now,
        "updated_at": now,
    }
    rows = to_json(
        [
            {
                "id": task_id,
                "instruction": v["instruction"],
                "params": v["params"],
                "callback_url": v["callback_url"],
                "metadata": v["metadata_"],
                "tags": v["tags"],
                "unique_id": v["unique_id"],
                "priority": v["priority"],
                "required_responses": v["required_responses"],
            }
            for task_id, v in zip(ids, values, strict=True)
        ]
    ).decode()
    columns = ", ".join([*chunk, *JSON_ROW_COLUMNS])
    selected = ", ".join([*(f"%({name})s" for name in chunk), *JSON_ROW_COLUMNS])
    types = ", ".join(f"{name} {kind}" for name, kind in JSON_ROW_COLUMNS.items())
    result = connection.exec_driver_sql(
        f"INSERT INTO task ({columns}) SELECT {selected} "
        f"FROM json_to_recordset(%(rows)s::json) AS r({types}) "
        "ON CONFLICT (org_id, unique_id) DO NOTHING",
        {**chunk, "rows": rows},
    )
    return result.rowcount


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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

    An atomic import with any rejected row is rolled back and reports ``created == 0``.
    """
    report = ImportReport()
    session = sessions()
    try:
        destination = _destination(session, org_id, project, batch, mapping, blobs, relative_to)
        # The next chunk is parsed and validated while the database inserts the last one.
        with ThreadPoolExecutor(max_workers=1) as inserter:
            inserting: tuple[Future[ImportReport], int] | None = None
            for chunk in _chunks(rows, chunk_rows):
                good, checked = destination.check(chunk)
                if inserting is not None:
                    _finish(report, *inserting, on_progress)
                inserting = (
                    inserter.submit(_insert_chunk, session, good, checked, commit=not atomic),
                    len(chunk),
                )
            if inserting is not None:
                _finish(report, *inserting, on_progress)
        if atomic and report.rejected:
            session.rollback()
            report.created = report.existing = 0
        else:
            session.commit()
    finally:
        session.close()
    return report


def _insert_chunk(
    session: Session, good: list[dict[str, Any]], report: ImportReport, *, commit: bool
) -> ImportReport:
    report = _insert_checked(session, good, report)
    if commit:
        session.commit()
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
