"""Delivery tests drive the CLI in-process against the run's database, as one tenant."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from quorum.db import transaction
from quorum.tasks import service as tasks
from quorum.tasks.models import Task


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def complete_all(sessions: sessionmaker[Session], org_id: str, respond: Callable[[Any], dict]):
    """Complete every pending task of the organization with ``respond(task)``."""
    with transaction(sessions) as db:
        pending = db.scalars(select(Task).where(Task.org_id == org_id, Task.status == "pending"))
        for task in list(pending):
            tasks.mark_tasks_completed(db, completions=[(task, respond(task))])
