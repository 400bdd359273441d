"""``hf``: a Hugging Face ``datasets`` folder, as ``Dataset.save_to_disk`` writes it.

Written with Arrow directly (an IPC stream plus ``state.json`` and ``dataset_info.json``), chunk by
chunk, so the export needs neither the ``datasets`` package nor the whole table in memory;
``datasets.load_from_disk`` reads it back.
"""

import json
import uuid
from pathlib import Path

import pyarrow as pa

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, register
from quorum.exports.formats.parquet import TASK_SCHEMA, task_tables
from quorum.exports.source import ExportSource

DATA_FILE = "data-00000-of-00001.arrow"


def _features(schema: pa.Schema) -> dict[str, object]:
    """The ``datasets`` feature declaration of the task schema."""
    kinds = {pa.string(): "string", pa.int64(): "int64"}
    features: dict[str, object] = {}
    for column in schema:
        if pa.types.is_list(column.type):
            features[column.name] = {
                "feature": {"dtype": "string", "_type": "Value"},
                "_type": "List",
            }
        elif pa.types.is_timestamp(column.type):
            features[column.name] = {"dtype": "timestamp[us, tz=UTC]", "_type": "Value"}
        else:
            features[column.name] = {"dtype": kinds[column.type], "_type": "Value"}
    return features


class HuggingFaceDataset(FileFormat):
    name = "hf"
    directory = True

    def write(
        self,
        source: ExportSource,
        target: Path,
        stats: ExportStats,
        blobs: BlobStore | None = None,
    ) -> None:
        target.mkdir(parents=True, exist_ok=True)
        with (
            pa.OSFile(str(target / DATA_FILE), "wb") as sink,
            pa.ipc.new_stream(sink, TASK_SCHEMA) as writer,
        ):
            for table in task_tables(source):
                writer.write_table(table)
                stats.rows += table.num_rows
        info = {"description": "Quorum tasks", "features": _features(TASK_SCHEMA)}
        (target / "dataset_info.json").write_text(json.dumps(info, indent=2))
        state = {
            "_data_files": [{"filename": DATA_FILE}],
            "_fingerprint": uuid.uuid4().hex,
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": None,
        }
        (target / "state.json").write_text(json.dumps(state, indent=2))


register(HuggingFaceDataset())
