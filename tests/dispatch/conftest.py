"""Workforce fixtures: workers created through the real API (invite, sign up, log in)."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from quorum.accounts import service as accounts
from quorum.db import session_factory, transaction
from quorum.payouts import service as payouts
from quorum.tasks import service as tasks_service
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerIdentity, WorkerInvite
from tests.conftest import Tenant, ThreadedServer
from tests.factories import TASK_PARAMS, create_project

PASSWORD = "correct horse battery"


@dataclass
class WorkerClient:
    """A logged-in worker: its id and an HTTP client sending its session token."""

    id: str
    email: str
    client: httpx.Client

    def next(self, project_id: str | None = None) -> httpx.Response:
        return self.client.post("/v1/worker/tasks/next", json={"project_id": project_id})

    def submit(self, assignment_id: str, response: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            f"/v1/worker/assignments/{assignment_id}/submit", json={"response": response}
        )


@pytest.fixture
def make_worker(server: ThreadedServer) -> Iterator[Callable[..., WorkerClient]]:
    """Invite a worker into an operator's pool (or sign one up publicly) and log it in."""
    clients: list[httpx.Client] = []

    def make(operator: Tenant | None, *, projects: tuple[str, ...] = ()) -> WorkerClient:
        anonymous = httpx.Client(base_url=server.url, timeout=30)
        clients.append(anonymous)
        email = f"w-{uuid.uuid4().hex[:10]}@example.com"
        if operator is None:
            signup = {"email": email, "password": PASSWORD}
        else:
            invited = operator.client.post("/v1/workers", json={"email": email})
            assert invited.status_code == 200, invited.text
            signup = {"invitation_token": invited.json()["invitation_token"], "password": PASSWORD}
        signed_up = anonymous.post("/v1/worker/signup", json=signup)
        assert signed_up.status_code == 200, signed_up.text
        login = anonymous.post("/v1/worker/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        clients.append(client)
        worker = WorkerClient(id=login.json()["worker"]["id"], email=email, client=client)
        for project in projects:
            added = operator.client.post(  # type: ignore[union-attr]
                f"/v1/projects/{project}/members", json={"worker_id": worker.id}
            )
            assert added.status_code == 200, added.text
        return worker

    yield make
    for client in clients:
        client.close()


def categorization_project(
    operator: Tenant, name: str = "sentiment", tasks: int = 0, **task_fields: Any
) -> tuple[str, list[str]]:
    """A categorization project with some tasks; returns its id and the task ids."""
    project = create_project(operator.client, "categorization", name)
    return project["id"], [add_task(operator, name, **task_fields) for _ in range(tasks)]


def add_task(operator: Tenant, project: str = "sentiment", **fields: Any) -> str:
    """One more categorization task; returns its id."""
    body = {"project": project, **TASK_PARAMS["categorization"], **fields}
    response = operator.client.post("/v1/task/categorization", json=body)
    assert response.status_code == 200, response.text
    return response.json()["task_id"]


def staffed_project(
    db: Session, *, tasks: int, required_responses: int = 1, workers: int = 1, lease_seconds=600
) -> tuple[str, list[str], list[WorkerIdentity]]:
    """Service-level setup: an organization, a members-only project with tasks and its workers.

    Returns the organization id, the task ids and the workers' identities.
    """
    org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
    tasks_service.create_project(
        db, org_id=org.id, data=ProjectCreate(name="p", type="categorization")
    )
    workforce.configure_project(
        db, org_id=org.id, project="p", data=ProjectWorkforceUpdate(lease_seconds=lease_seconds)
    )
    task_ids = [
        tasks_service.create_task(
            db,
            org_id=org.id,
            task_type="categorization",
            body={
                "project": "p",
                "required_responses": required_responses,
                **TASK_PARAMS["categorization"],
            },
        ).id
        for _ in range(tasks)
    ]
    identities = []
    for _ in range(workers):
        worker, _ = workforce.invite_worker(
            db, org_id=org.id, data=WorkerInvite(email=f"w-{uuid.uuid4().hex[:10]}@example.com")
        )
        workforce.add_member(db, org_id=org.id, project="p", worker_id=worker.id)
        identities.append(
            workforce.authenticate_worker(
                db, secret=workforce.open_session(db, worker_id=worker.id)
            )
        )
    return org.id, task_ids, identities


RATE_CENTS = 7
# Tasks with more live leases + responses than they need: always none.
OVERBOOKED = text(
    """
    SELECT count(*) FROM (
        SELECT a.task_id
        FROM assignment a JOIN task t ON t.id = a.task_id
        WHERE t.project_id = :project_id
          AND (a.state = 'submitted' OR (a.state = 'active' AND a.leased_until > :now))
        GROUP BY a.task_id, t.required_responses
        HAVING count(*) > t.required_responses
    ) AS overbooked
    """
)


def drain_project(engine: Engine, *, tasks: int, workers: int, redundancy: int):
    """A paying project with tasks for many workers to drain at once; returns its id and the
    workers' identities."""
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        project = tasks_service.create_project(
            db, org_id=org.id, data=ProjectCreate(name="drain", type="categorization")
        )
        payouts.set_project_rate(db, org_id=org.id, project="drain", cents=RATE_CENTS)
        for index in range(tasks):
            tasks_service.create_task(
                db,
                org_id=org.id,
                task_type="categorization",
                body={
                    "project": "drain",
                    "attachment": f"review {index}",
                    "categories": ["good", "bad"],
                    "priority": index % 3,
                    "required_responses": redundancy,
                },
            )
        identities = []
        for _ in range(workers):
            worker, _ = workforce.invite_worker(
                db, org_id=org.id, data=WorkerInvite(email=f"w-{uuid.uuid4().hex}@example.com")
            )
            workforce.add_member(db, org_id=org.id, project="drain", worker_id=worker.id)
            secret = workforce.open_session(db, worker_id=worker.id)
            identities.append(workforce.authenticate_worker(db, secret=secret))
    return project.id, identities
