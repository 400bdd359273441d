"""``sft``: supervised fine-tuning conversations, ``{"messages": [{"role", "content"}, …]}``.

From ``chat`` (the conversation as written, after the system prompt) and from ``textcollection``
(the prompt as the user turn, the written text as the assistant turn). A text collection's prompt is
its ``prompt`` field when it has one, else its text attachments; its answer is the one other text
field. A task with any other shape is refused.
"""

from collections.abc import Iterable
from typing import Any

from quorum.errors import Invalid
from quorum.exports.formats import ExportStats, LineFormat, register
from quorum.tasks.schemas import TaskRead

PROMPT_FIELD = "prompt"


def _text_collection_turns(task: TaskRead) -> tuple[str, str]:
    answers = (task.response or {}).get("annotations", {})
    text_fields = [f["field_id"] for f in task.params["fields"] if f.get("type") == "text"]
    others = [f for f in text_fields if f != PROMPT_FIELD]
    if len(others) != 1:
        raise Invalid(
            f"sft export: task {task.task_id} has text fields {text_fields}; it needs one answer "
            f"field (and optionally a {PROMPT_FIELD!r} field)"
        )
    if PROMPT_FIELD in text_fields:
        prompt = answers.get(PROMPT_FIELD, "")
    else:
        attachments = task.params.get("attachments", [])
        prompt = "\n\n".join(a["content"] for a in attachments if a.get("type", "text") == "text")
        prompt = prompt or task.instruction
    if not prompt:
        raise Invalid(f"sft export: task {task.task_id} has no prompt text")
    return prompt, answers.get(others[0], "")


class Sft(LineFormat):
    name = "sft"
    task_types = frozenset({"chat", "textcollection"})

    def records(self, task: TaskRead, stats: ExportStats) -> Iterable[dict[str, Any]]:
        if task.response is None:
            stats.skip("no response")
            return
        messages = []
        if task.type == "chat":
            if task.params.get("system_prompt"):
                messages.append({"role": "system", "content": task.params["system_prompt"]})
            messages.extend(task.response["messages"])
        else:
            prompt, answer = _text_collection_turns(task)
            messages = [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": answer},
            ]
        yield {"messages": messages, "task_id": task.task_id}


register(Sft())
