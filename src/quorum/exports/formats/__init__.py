"""The export-format extension point: one module per format, registered by name.

A format is either a *line* format (``LineFormat``: one JSON object per line, streamed as it is
produced; JSONL, SFT, DPO) or a *file* format (``FileFormat``: writes a file or a folder at a
path; Parquet, COCO, YOLO, Hugging Face ``datasets``). Either refuses, with ``Invalid``, a task
whose shape it cannot represent, rather than dropping it silently.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from quorum.blobs import BlobStore
from quorum.errors import Invalid
from quorum.exports.source import ExportSource
from quorum.tasks.schemas import TaskRead


@dataclass
class ExportStats:
    """What an export wrote: rows, and tasks left out by reason (e.g. a tie in DPO)."""

    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class ExportFormat:
    name: ClassVar[str]
    task_types: ClassVar[frozenset[str] | None] = None
    directory: ClassVar[bool] = False
    suffix: ClassVar[str] = ""

    def check_type(self, task: TaskRead) -> None:
        if self.task_types is not None and task.type not in self.task_types:
            allowed = ", ".join(sorted(self.task_types))
            raise Invalid(
                f"{self.name} export holds {allowed} tasks; task {task.task_id} is {task.type}"
            )


class LineFormat(ExportFormat):
    suffix = ".jsonl"

    def records(self, task: TaskRead, stats: ExportStats) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def lines(self, source: ExportSource, stats: ExportStats) -> Iterator[bytes]:
        """Encoded JSONL, one chunk of tasks at a time."""
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for chunk in source.tasks():
            out = []
            for task in chunk:
                self.check_type(task)
                for record in self.records(task, stats):
                    out.append(dumps(record))
                    stats.rows += 1
            if out:
                yield ("\n".join(out) + "\n").encode()


class FileFormat(ExportFormat):
    def write(
        self,
        source: ExportSource,
        target: Path,
        stats: ExportStats,
        blobs: BlobStore | None = None,
    ) -> None:
        raise NotImplementedError


_REGISTRY: dict[str, ExportFormat] = {}


def register(export_format: ExportFormat) -> ExportFormat:
    _REGISTRY[export_format.name] = export_format
    return export_format


def get_format(name: str) -> ExportFormat:
    from quorum.exports.formats import coco, hf, jsonl, parquet, preference, sft, yolo  # noqa: F401

    try:
        return _REGISTRY[name]
    except KeyError:
        raise Invalid(
            f"unknown export format {name!r}; supported: {', '.join(sorted(_REGISTRY))}"
        ) from None
