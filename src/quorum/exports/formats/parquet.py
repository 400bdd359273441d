"""``parquet``: one row per task, one row group per chunk; nested values as JSON text.

Params, response and metadata differ by task type, so they are JSON strings: every project exports
to the same schema, and ``json.loads`` recovers them.
"""

import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, register
from quorum.tasks.schemas import TaskRead

TIMESTAMP = pa.timestamp("us", tz="UTC")
TASK_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("project", pa.string()),
        ("batch", pa.string()),
        ("type", pa.string()),
        ("status", pa.string()),
        ("unique_id", pa.string()),
        ("instruction", pa.string()),
        ("params", pa.string()),
        ("response", pa.string()),
        ("metadata", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("priority", pa.int64()),
        ("customer_review_status", pa.string()),
        ("created_at", TIMESTAMP),
        ("completed_at", TIMESTAMP),
    ]
)


def task_table(tasks: list[TaskRead]) -> pa.Table:
    """A chunk of tasks as an Arrow table of ``TASK_SCHEMA``, built column by column."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    columns = {
        "task_id": [t.task_id for t in tasks],
        "project": [t.project for t in tasks],
        "batch": [t.batch for t in tasks],
        "type": [t.type for t in tasks],
        "status": [t.status for t in tasks],
        "unique_id": [t.unique_id for t in tasks],
        "instruction": [t.instruction for t in tasks],
        "params": [dumps(t.params) for t in tasks],
        "response": [None if t.response is None else dumps(t.response) for t in tasks],
        "metadata": [dumps(t.metadata) for t in tasks],
        "tags": [t.tags for t in tasks],
        "priority": [t.priority for t in tasks],
        "customer_review_status": [t.customer_review_status for t in tasks],
        "created_at": [t.created_at for t in tasks],
        "completed_at": [t.completed_at for t in tasks],
    }
    return pa.table(columns, schema=TASK_SCHEMA)


class Parquet(FileFormat):
    name = "parquet"
    suffix = ".parquet"

    def write(
        self,
        chunks: Iterable[list[TaskRead]],
        target: Path,
        stats: ExportStats,
        blobs: BlobStore | None = None,
    ) -> None:
        with pq.ParquetWriter(target, TASK_SCHEMA, compression="zstd") as writer:
            for chunk in chunks:
                writer.write_table(task_table(chunk))
                stats.rows += len(chunk)


register(Parquet())
