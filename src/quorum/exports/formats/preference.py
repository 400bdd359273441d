"""``dpo``: preference pairs ``{"prompt", "chosen", "rejected"}`` from ``comparison`` tasks.

Two answers make one pair. With more, a full ranking gives (best, worst); a single preference
gives the preferred answer against each other one. A tie says nothing about preference and is
skipped (counted in the export's stats).
"""

from collections.abc import Iterable
from typing import Any

from quorum.exports.formats import ExportStats, LineFormat, register
from quorum.tasks.schemas import TaskRead


class Dpo(LineFormat):
    name = "dpo"
    task_types = frozenset({"comparison"})

    def records(self, task: TaskRead, stats: ExportStats) -> Iterable[dict[str, Any]]:
        response = task.response or {}
        preferred = response.get("preferred")
        if preferred is None:
            stats.skip("tie" if task.response is not None else "no response")
            return
        answers = [a["content"] for a in task.params["answers"]]
        ranking = response.get("ranking")
        if ranking and len(answers) > 2:
            pairs = [(ranking[0], ranking[-1])]
        else:
            pairs = [(preferred, other) for other in range(len(answers)) if other != preferred]
        for chosen, rejected in pairs:
            yield {
                "prompt": task.params["prompt"],
                "chosen": answers[chosen],
                "rejected": answers[rejected],
                "task_id": task.task_id,
            }


register(Dpo())
