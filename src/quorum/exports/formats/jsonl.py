"""``jsonl``: Scale's task objects, one per line, exactly as ``GET /v1/task/{id}`` returns them."""

from collections.abc import Iterator

from quorum.exports.formats import ExportStats, LineFormat, register
from quorum.exports.source import ExportSource


class TaskJsonl(LineFormat):
    name = "jsonl"

    def lines(self, source: ExportSource, stats: ExportStats) -> Iterator[bytes]:
        """The database writes each task object's JSON; lines are only joined here."""
        for chunk in source.task_json():
            stats.rows += len(chunk)
            yield ("\n".join(chunk) + "\n").encode()


register(TaskJsonl())
