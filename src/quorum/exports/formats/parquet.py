"""``parquet``: one row per task, one row group per chunk; nested values as JSON text.

Params, response and metadata differ by task type, so they are JSON strings: every project exports
to the same schema, and ``json.loads`` recovers them.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, register
from quorum.exports.source import ExportSource

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


def task_tables(source: ExportSource) -> Iterator[pa.Table]:
    """The tasks as Arrow tables of ``TASK_SCHEMA``, a chunk each, built column by column."""
    tags = TASK_SCHEMA.get_field_index("tags")
    for rows in source.task_fields(TASK_SCHEMA.names):
        columns = list(zip(*rows, strict=True))
        parsed: dict[str, list[str]] = {}  # tag lists repeat (most are empty): parse each once
        columns[tags] = [
            parsed[text] if text in parsed else parsed.setdefault(text, json.loads(text))
            for text in columns[tags]
        ]
        arrays = [
            pa.array(column, type=field.type)
            for column, field in zip(columns, TASK_SCHEMA, strict=True)
        ]
        yield pa.Table.from_arrays(arrays, schema=TASK_SCHEMA)


class Parquet(FileFormat):
    name = "parquet"
    suffix = ".parquet"

    def write(
        self,
        source: ExportSource,
        target: Path,
        stats: ExportStats,
        blobs: BlobStore | None = None,
    ) -> None:
        with pq.ParquetWriter(target, TASK_SCHEMA, compression="zstd") as writer:
            for table in task_tables(source):
                writer.write_table(table)
                stats.rows += table.num_rows


register(Parquet())
