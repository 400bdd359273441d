"""``jsonl``: Scale's task objects, one per line, exactly as ``GET /v1/task/{id}`` returns them."""

from collections.abc import Iterator

from quorum.exports.formats import ExportStats, LineFormat, register
from quorum.exports.source import ExportSource

# Characters Python's str.splitlines (and other readers) break lines at that JSON leaves raw in
# strings: escaped, so that a reader splitting lines any way gets one task per line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class TaskJsonl(LineFormat):
    name = "jsonl"

    def lines(self, source: ExportSource, stats: ExportStats) -> Iterator[bytes]:
        """Task objects from ``task_json``; lines are only joined here."""
        for chunk in source.task_json():
            stats.rows += len(chunk)
            text = "\n".join(chunk) + "\n"
            if not text.isascii():
                for raw, escaped in _LINE_BREAKS.items():
                    text = text.replace(raw, escaped)
            yield text.encode()


register(TaskJsonl())
