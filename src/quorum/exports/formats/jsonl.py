"""``jsonl``: Scale's task objects, one per line, exactly as ``GET /v1/task/{id}`` returns them."""

from collections.abc import Iterable
from typing import Any

from quorum.exports.formats import ExportStats, LineFormat, register
from quorum.tasks.schemas import TaskRead


class TaskJsonl(LineFormat):
    name = "jsonl"

    def records(self, task: TaskRead, stats: ExportStats) -> Iterable[dict[str, Any]]:
        yield task.model_dump(mode="json")


register(TaskJsonl())
