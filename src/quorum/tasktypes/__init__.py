"""Task types, registered by name. Importing this package registers every built-in type."""

from quorum.tasktypes import categorization, chat, comparison, imageannotation, textcollection
from quorum.tasktypes.base import TaskType, get_task_type, task_type_names

__all__ = [
    "TaskType",
    "categorization",
    "chat",
    "comparison",
    "get_task_type",
    "imageannotation",
    "task_type_names",
    "textcollection",
]
