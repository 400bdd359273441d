"""Delivery tests drive the CLI in-process against the run's database, as one tenant."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from quorum.cli import app
from quorum.db import transaction
from quorum.settings import get_settings
from quorum.tasks import service as tasks
from quorum.tasks.models import Task


@pytest.fixture
def cli(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """Run ``quorum …`` in-process with this run's database; returns the click result."""
    monkeypatch.setenv("QUORUM_DATABASE_URL", database_url)
    monkeypatch.setenv("QUORUM_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    yield run
    get_settings.cache_clear()


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def complete_all(sessions: sessionmaker[Session], org_id: str, respond: Callable[[Any], dict]):
    """Complete every pending task of the organization with ``respond(task)``."""
    with transaction(sessions) as db:
        pending = db.scalars(select(Task).where(Task.org_id == org_id, Task.status == "pending"))
        for task in list(pending):
            tasks.mark_tasks_completed(db, completions=[(task, respond(task))])
