"""Callback tests run on a database of their own, so no other sender delivers their events."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.settings import Settings
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from tests.callbacks.receiver import Receiver
from tests.factories import TASK_PARAMS

CATEGORIZATION_RESPONSE = {"category": "good"}


@pytest.fixture(scope="session")
def callback_database_url(backend: str, fresh_database_url: Callable[[str], str]) -> str:
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def callback_sessions(callback_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(callback_database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def sender_settings(callback_database_url: str) -> Settings:
    """Fast retries, loopback allowed (the receiver is local), three attempts before dead."""
    return Settings(
        database_url=callback_database_url,
        outbound_allowed_networks=["127.0.0.0/8"],
        callback_poll_seconds=0.05,
        callback_max_attempts=3,
        callback_backoff_seconds=0.05,
        callback_backoff_max_seconds=0.2,
        callback_timeout_seconds=5,
        callback_claim_seconds=5,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@dataclass
class Shop:
    """An organization with a categorization project, making tasks for callback tests."""

    sessions: sessionmaker[Session]
    org_id: str
    auth_key: str
    signing_secret: str
    project: str

    def create_task(self, **common: Any) -> str:
        body = {"project": self.project, **TASK_PARAMS["categorization"], **common}
        with transaction(self.sessions) as db:
            task = tasks.create_task(db, org_id=self.org_id, task_type="categorization", body=body)
            return task.id

    def complete(self, task_id: str, response: dict[str, Any] = CATEGORIZATION_RESPONSE) -> None:
        with transaction(self.sessions) as db:
            task = tasks.get_task(db, org_id=self.org_id, task_id=task_id)
            tasks.mark_tasks_completed(db, completions=[(task, response)])


@pytest.fixture
def shop(callback_sessions: sessionmaker[Session]) -> Shop:
    with transaction(callback_sessions) as db:
        org = accounts.create_organization(db, name=f"shop-{uuid.uuid4().hex[:10]}")
        tasks.create_project(
            db, org_id=org.id, data=ProjectCreate(name="cb", type="categorization")
        )
        return Shop(
            sessions=callback_sessions,
            org_id=org.id,
            auth_key=org.callback_auth_key,
            signing_secret=org.callback_signing_secret,
            project="cb",
        )
