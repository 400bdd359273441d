"""Two real ``quorum serve`` processes on one PostgreSQL hand out work as one service: workers
spread across both never overbook a task or get one twice, and each completion's callback is
posted once (two sender loops, one per server, share the outbox)."""

import threading
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.dispatch.models import Assignment
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite
from tests.callbacks.receiver import Receiver, wait_for
from tests.conftest import ServeProcess

pytestmark = pytest.mark.slow
TASKS, WORKERS, REDUNDANCY = 60, 8, 2
SERVER_ENV = {
    "QUORUM_OUTBOUND_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
    "QUORUM_CALLBACK_POLL_SECONDS": "0.2",
    "QUORUM_LEASE_SWEEP_SECONDS": "0",
}


def _seed(sessions, callback_url: str) -> list[str]:
    """A project with redundant tasks and a default callback, and member workers' tokens."""
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:8]}")
        tasks.create_project(
            db,
            org_id=org.id,
            data=ProjectCreate(
                name="spread",
                type="categorization",
                required_responses=REDUNDANCY,
                callback_url=callback_url,
            ),
        )
        workforce.configure_project(
            db, org_id=org.id, project="spread", data=ProjectWorkforceUpdate(access="members")
        )
        for i in range(TASKS):
            tasks.create_task(
                db,
                org_id=org.id,
                task_type="categorization",
                body={"project": "spread", "attachment": f"item {i}", "categories": ["a", "b"]},
            )
        tokens = []
        for _ in range(WORKERS):
            worker, _ = workforce.invite_worker(
                db, org_id=org.id, data=WorkerInvite(email=f"{uuid.uuid4().hex}@two.example")
            )
            workforce.add_member(db, org_id=org.id, project="spread", worker_id=worker.id)
            tokens.append(workforce.open_session(db, worker_id=worker.id))
    return tokens


def _work(urls: list[str], token: str, errors: list[str]) -> None:
    """next → submit until nothing is left, alternating between the servers on every request."""
    headers = {"Authorization": f"Bearer {token}"}
    turn = 0
    with httpx.Client(timeout=30, headers=headers) as client:
        while True:
            leased = client.post(f"{urls[turn % 2]}/v1/worker/tasks/next", json={})
            turn += 1
            if leased.status_code == 204:
                return
            if leased.status_code != 200:
                errors.append(leased.text)
                return
            assignment = leased.json()["assignment_id"]
            submitted = client.post(
                f"{urls[turn % 2]}/v1/worker/assignments/{assignment}/submit",
                json={"response": {"category": "a"}},
            )
            turn += 1
            if submitted.status_code != 200:
                errors.append(submitted.text)


def test_workers_spread_over_two_servers_never_overbook_and_callbacks_go_once(
    fresh_database_url,
):
    url = fresh_database_url("postgresql")
    engine = create_db_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with Receiver() as receiver:
        tokens = _seed(sessions, receiver.url)
        with ServeProcess(url, **SERVER_ENV) as first, ServeProcess(url, **SERVER_ENV) as second:
            errors: list[str] = []
            urls = [first.url, second.url]
            threads = [
                threading.Thread(target=_work, args=(urls if i % 2 else urls[::-1], token, errors))
                for i, token in enumerate(tokens)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            assert errors == []
            wait_for(lambda: len(receiver.accepted_event_ids()) >= TASKS, timeout=60)

    with transaction(sessions) as db:
        statuses = Counter(db.scalars(select(Task.status)))
        per_task = db.execute(
            select(
                Assignment.task_id,
                func.count(),
                func.count(func.distinct(Assignment.worker_id)),
            )
            .where(Assignment.state == "submitted")
            .group_by(Assignment.task_id)
        ).all()
    engine.dispose()
    assert statuses == {"completed": TASKS}
    assert len(per_task) == TASKS
    assert all(count == REDUNDANCY and distinct == REDUNDANCY for _, count, distinct in per_task)
    posted = Counter(d.event_id for d in receiver.deliveries)
    assert len(posted) == TASKS
    assert set(posted.values()) == {1}, "an event was posted by both servers"
    completed = {d.json()["task_id"] for d in receiver.accepted()}
    assert len(completed) == TASKS
