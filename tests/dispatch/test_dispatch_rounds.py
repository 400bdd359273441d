"""Dispatch rounds: requests that arrive together are served in one transaction, each gets its
own answer, and a round that fails as a whole is served again one request at a time."""

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import event, func, select

from quorum.db import transaction
from quorum.dispatch.models import Assignment
from quorum.dispatch.rounds import DispatchRounds
from quorum.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from quorum.tasks.models import Task
from quorum.workforce import service as workforce
from tests.dispatch.conftest import categorization_project, staffed_project

GOOD = {"category": "good"}
T = TypeVar("T")


def staffed(sessions, *, tasks: int, workers: int) -> tuple[list[str], list[str], list[str]]:
    """A project's task ids, its workers' ids and their session secrets."""
    with transaction(sessions) as db:
        _, task_ids, identities = staffed_project(db, tasks=tasks, workers=workers)
        secrets = [workforce.open_session(db, worker_id=w.id) for w in identities]
    return task_ids, [w.id for w in identities], secrets


@contextmanager
def counting_commits(engine) -> Iterator[list[None]]:
    commits: list[None] = []

    def count(_connection) -> None:
        commits.append(None)

    event.listen(engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", count)


def no_limit(_worker_id: str) -> None:
    return None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on an event loop of its own thread: the browser tests leave one running in the
    main thread of the process (Playwright's sync API)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def take_all(rounds: DispatchRounds, secrets: list[str]) -> list:
    return await asyncio.gather(
        *(rounds.next_task(s, project_id=None, max_live_leases=0) for s in secrets),
        return_exceptions=True,
    )


async def submit_all(rounds: DispatchRounds, asks: list[tuple[str, str, dict]]) -> list:
    return await asyncio.gather(
        *(rounds.submit(s, assignment_id=a, response=r) for s, a, r in asks),
        return_exceptions=True,
    )


def completed_count(sessions, task_ids: list[str]) -> int:
    with transaction(sessions) as db:
        return db.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.id.in_(task_ids), Task.status == "completed")
        )


def test_requests_arriving_together_are_served_in_one_transaction(engine, sessions):
    task_ids, _, secrets = staffed(sessions, tasks=20, workers=20)
    rounds = DispatchRounds(sessions, admit=no_limit)
    with counting_commits(engine) as commits:
        leased = run(take_all(rounds, secrets))
        asks = [(s, lease.assignment_id, GOOD) for s, lease in zip(secrets, leased, strict=True)]
        submitted = run(submit_all(rounds, asks))
    assert sorted(lease.task_id for lease in leased) == sorted(task_ids)
    assert all(result.task_completed for result in submitted)
    # 20 nexts, then 20 submits: one round each.
    assert len(commits) == 2
    assert completed_count(sessions, task_ids) == 20


def test_each_request_of_a_round_gets_its_own_answer(sessions):
    task_ids, worker_ids, secrets = staffed(sessions, tasks=3, workers=3)
    rounds = DispatchRounds(sessions, admit=no_limit)
    leased = run(take_all(rounds, secrets))
    first, second, third = leased
    outcomes = run(
        submit_all(
            rounds,
            [
                (secrets[0], first.assignment_id, GOOD),
                (secrets[1], first.assignment_id, GOOD),  # not theirs
                (secrets[1], second.assignment_id, {"category": "neutral"}),  # not a category
                ("not-a-session", third.assignment_id, GOOD),
                (secrets[2], third.assignment_id, GOOD),
                (secrets[2], third.assignment_id, GOOD),  # twice in one round
            ],
        )
    )
    assert outcomes[0].task_completed
    assert isinstance(outcomes[1], NotFound)
    assert isinstance(outcomes[2], Invalid) and "'neutral' is not one of" in outcomes[2].message
    assert isinstance(outcomes[3], Unauthorized)
    assert outcomes[4].task_completed
    assert isinstance(outcomes[5], Conflict) and "already submitted" in outcomes[5].message
    with transaction(sessions) as db:
        states = dict(
            db.execute(
                select(Assignment.worker_id, Assignment.state).where(
                    Assignment.task_id.in_(task_ids)
                )
            ).all()
        )
    assert states == {
        worker_ids[0]: "submitted",
        worker_ids[1]: "active",
        worker_ids[2]: "submitted",
    }


def test_a_round_that_fails_as_a_whole_serves_its_requests_one_by_one(engine, sessions):
    task_ids, worker_ids, secrets = staffed(sessions, tasks=4, workers=4)
    broken = worker_ids[1]

    def admit(worker_id: str) -> None:
        if worker_id == broken:
            raise RuntimeError("the rate limiter's store is down")

    rounds = DispatchRounds(sessions, admit=admit)
    with counting_commits(engine) as commits:
        leased = run(take_all(rounds, secrets))
    assert isinstance(leased[1], RuntimeError)
    served = [lease for i, lease in enumerate(leased) if i != 1]
    assert len({lease.task_id for lease in served}) == 3
    # The round rolled back, then the three others committed one by one.
    assert len(commits) == 3
    with transaction(sessions) as db:
        holders = set(
            db.scalars(select(Assignment.worker_id).where(Assignment.task_id.in_(task_ids)))
        )
    assert holders == set(worker_ids) - {broken}


def test_a_lone_request_whose_round_fails_gets_the_error(sessions):
    _, _, (secret,) = staffed(sessions, tasks=1, workers=1)

    def admit(_worker_id: str) -> None:
        raise RuntimeError("the rate limiter's store is down")

    (leased,) = run(take_all(DispatchRounds(sessions, admit=admit), [secret]))
    assert isinstance(leased, RuntimeError)


def test_the_rate_limit_refuses_one_worker_not_the_round(sessions):
    _, worker_ids, secrets = staffed(sessions, tasks=2, workers=2)

    def admit(worker_id: str) -> None:
        if worker_id == worker_ids[0]:
            raise TooManyRequests("rate limit exceeded; slow down", retry_after=3)

    leased = run(take_all(DispatchRounds(sessions, admit=admit), secrets))
    assert isinstance(leased[0], TooManyRequests)
    assert leased[1].state == "active"


def test_workers_calling_at_once_over_http_each_get_their_own_task(tenant, make_worker):
    _, task_ids = categorization_project(tenant, tasks=12)
    workers = [make_worker(tenant, projects=("sentiment",)) for _ in range(12)]

    async def work(client: httpx.AsyncClient) -> tuple[int, int, str]:
        leased = await client.post("/v1/worker/tasks/next", json={})
        body = leased.json()
        submitted = await client.post(
            f"/v1/worker/assignments/{body['assignment_id']}/submit", json={"response": GOOD}
        )
        return leased.status_code, submitted.status_code, body["task_id"]

    async def everyone() -> list[tuple[int, int, str]]:
        clients = [
            httpx.AsyncClient(base_url=str(w.client.base_url), headers=w.client.headers, timeout=30)
            for w in workers
        ]
        try:
            return await asyncio.gather(*(work(client) for client in clients))
        finally:
            for client in clients:
                await client.aclose()

    results = run(everyone())
    assert {(leased, submitted) for leased, submitted, _ in results} == {(200, 200)}
    assert sorted(task_id for _, _, task_id in results) == sorted(task_ids)
    statuses = {tenant.client.get(f"/v1/task/{task_id}").json()["status"] for task_id in task_ids}
    assert statuses == {"completed"}


@pytest.mark.parametrize("most_asks", [1, 3])
def test_a_round_takes_at_most_its_share_and_the_rest_follow(engine, sessions, most_asks):
    task_ids, _, secrets = staffed(sessions, tasks=7, workers=7)
    rounds = DispatchRounds(sessions, admit=no_limit, most_asks=most_asks)
    with counting_commits(engine) as commits:
        leased = run(take_all(rounds, secrets))
    assert sorted(lease.task_id for lease in leased) == sorted(task_ids)
    assert len(commits) == -(-7 // most_asks)
