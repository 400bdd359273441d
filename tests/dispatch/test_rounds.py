"""Dispatch rounds: many workers' asks for a task served in one transaction by ``next_tasks``,
with the rules of a single ask and a few statements for them all."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from quorum.db import create_db_engine, session_factory, transaction, utcnow
from quorum.dispatch import service as dispatch
from quorum.dispatch.models import Assignment
from quorum.dispatch.schemas import AssignmentRead, NextAsk
from quorum.errors import DomainError, Forbidden, NotFound, TooManyRequests
from quorum.quality import service as quality
from quorum.quality.schemas import GoldCreate, QualitySettingsUpdate
from quorum.tasks import service as tasks_service
from quorum.tasks.models import Task
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, QualificationCreate
from tests.dispatch.conftest import OVERBOOKED, drain_project, staffed_project
from tests.factories import TASK_PARAMS


def add_task(db, org_id: str, **fields) -> str:
    """One more task of project "p"; returns its id."""
    body = {"project": "p", **TASK_PARAMS["categorization"], **fields}
    return tasks_service.create_task(db, org_id=org_id, task_type="categorization", body=body).id


def task_ids(results) -> list[str | None]:
    return [result.task_id if isinstance(result, AssignmentRead) else result for result in results]


def assignments_of(db, worker_ids) -> list[tuple[str, str]]:
    return db.execute(
        select(Assignment.worker_id, Assignment.task_id)
        .where(Assignment.worker_id.in_(worker_ids))
        .order_by(Assignment.id)
    ).all()


def test_workers_of_one_round_get_distinct_tasks_best_first(sessions):
    with transaction(sessions) as db:
        org_id, (oldest, newer), workers = staffed_project(db, tasks=2, workers=4)
        urgent = add_task(db, org_id, priority=5)
        backlog = add_task(db, org_id, priority=-1)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker) for worker in workers])
    assert task_ids(results) == [urgent, oldest, newer, backlog]
    with transaction(sessions) as db:
        written = assignments_of(db, [w.id for w in workers])
    assert sorted(written) == sorted(zip([w.id for w in workers], task_ids(results), strict=True))


def test_redundancy_gives_one_task_to_that_many_distinct_workers_in_one_round(sessions):
    with transaction(sessions) as db:
        _, (task_id,), workers = staffed_project(db, tasks=1, required_responses=3, workers=5)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker) for worker in workers])
    assert task_ids(results) == [task_id, task_id, task_id, None, None]
    with transaction(sessions) as db:
        holders = db.scalars(select(Assignment.worker_id).where(Assignment.task_id == task_id))
        assert sorted(holders) == sorted(w.id for w in workers[:3])


def test_a_round_counts_the_room_others_hold(sessions):
    with transaction(sessions) as db:
        _, (shared, spare), (first, *others) = staffed_project(
            db, tasks=2, required_responses=2, workers=3
        )
        dispatch.next_task(db, worker=first)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker) for worker in others])
    assert task_ids(results) == [shared, spare]


def test_two_asks_of_one_worker_get_different_tasks(sessions):
    with transaction(sessions) as db:
        _, (first, second), (worker,) = staffed_project(db, tasks=2, required_responses=2)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker), NextAsk(worker), NextAsk(worker)])
    assert task_ids(results) == [first, second, None]


def test_more_asks_than_tasks_leave_the_last_asks_without_one(sessions):
    with transaction(sessions) as db:
        _, tasks, workers = staffed_project(db, tasks=2, workers=5)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker) for worker in workers])
    assert task_ids(results) == [*tasks, None, None, None]


def test_an_ask_refused_gets_its_error_and_the_others_are_served(sessions):
    with transaction(sessions) as db:
        org_id, tasks, workers = staffed_project(db, tasks=3, workers=5)
        ready, unqualified, paused_here, outsider, paused_account = workers
        project_id = tasks_service.get_project(db, org_id=org_id, name="p").id
        fluent = workforce.create_qualification(
            db, org_id=org_id, data=QualificationCreate(name="fluent")
        )
        workforce.configure_project(
            db,
            org_id=org_id,
            project="p",
            data=ProjectWorkforceUpdate(required_qualifications=["fluent"]),
        )
        for worker in (ready, paused_here, outsider, paused_account):
            workforce.grant_qualification(
                db, org_id=org_id, worker_id=worker.id, qualification_id=fluent.id
            )
        quality.pause(db, project_id=project_id, worker_id=paused_here.id)
        workforce.remove_member(db, org_id=org_id, project="p", worker_id=outsider.id)
    asks = [
        NextAsk(unqualified, project_id),
        NextAsk(paused_here, project_id),
        NextAsk(outsider, project_id),
        NextAsk(paused_account.model_copy(update={"status": "paused"})),
        NextAsk(unqualified),
        NextAsk(outsider),
        NextAsk(ready, project_id),
    ]
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, asks)
    refusals = [(type(r), r.message) if isinstance(r, DomainError) else r for r in results[:6]]
    assert refusals == [
        (Forbidden, "this project requires the qualification 'fluent'"),
        (Forbidden, "you are paused on this project for low accuracy; ask an operator"),
        (NotFound, f"no project {project_id!r}"),
        (Forbidden, "your account is paused; no tasks are handed out"),
        None,
        None,
    ]
    assert results[6].task_id == tasks[0]
    with transaction(sessions) as db:
        assert assignments_of(db, [w.id for w in workers]) == [(ready.id, tasks[0])]


def test_an_ask_over_the_live_lease_cap_is_refused_and_writes_nothing(sessions):
    with transaction(sessions) as db:
        _, tasks, (hoarder, other) = staffed_project(db, tasks=4, workers=2)
        held = dispatch.next_task(db, worker=hoarder)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(
            db, [NextAsk(hoarder, max_live_leases=1), NextAsk(other, max_live_leases=1)]
        )
    assert isinstance(results[0], TooManyRequests)
    assert results[0].message == (
        "you hold 1 live leases, the most allowed; submit, skip or release one"
    )
    assert results[1].task_id == tasks[1]
    with transaction(sessions) as db:
        assert assignments_of(db, [hoarder.id]) == [(hoarder.id, held.task_id)]


def test_leases_given_in_the_round_count_towards_the_cap(sessions):
    with transaction(sessions) as db:
        _, tasks, (worker,) = staffed_project(db, tasks=3)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker, max_live_leases=2)] * 3)
    assert task_ids(results[:2]) == tasks[:2]
    assert isinstance(results[2], TooManyRequests)
    with transaction(sessions) as db:
        assert len(assignments_of(db, [worker.id])) == 2


def test_a_worker_who_tried_every_task_of_the_window_gets_one_further_down(sessions):
    """The pick locks about as many tasks as there are asks; a worker who tried all of them is
    served from further down the queue, still the best task they have not tried."""
    with transaction(sessions) as db:
        _, tasks, (veteran, *newcomers) = staffed_project(db, tasks=12, workers=4)
    for _ in range(8):
        with transaction(sessions) as db:
            lease = dispatch.next_task(db, worker=veteran)
            dispatch.skip(
                db, worker_id=veteran.id, assignment_id=lease.assignment_id, reason="unsure"
            )
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(w) for w in (*newcomers, veteran)])
    assert task_ids(results) == [*tasks[:3], tasks[8]]


def test_gold_drawn_twice_for_one_worker_in_a_round_is_leased_once(sessions, monkeypatch):
    monkeypatch.setattr(quality._gold_draw, "random", lambda: 0.0)
    with transaction(sessions) as db:
        org_id, (task_id,), (worker, other) = staffed_project(db, tasks=1, workers=2)
        quality.configure(db, org_id=org_id, project="p", data=QualitySettingsUpdate(gold_rate=0.5))
        gold = quality.create_gold(
            db,
            org_id=org_id,
            project="p",
            data=GoldCreate(params=TASK_PARAMS["categorization"], answer={"category": "good"}),
        )
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(worker), NextAsk(worker), NextAsk(other)])
    assert task_ids(results) == [gold.task_id, task_id, gold.task_id]


def test_a_round_takes_as_many_statements_for_many_asks_as_for_one(sessions, engine):
    with transaction(sessions) as db:
        _, _, workers = staffed_project(db, tasks=20, workers=12)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def run(asks) -> int:
        with transaction(sessions) as db:
            db.execute(select(1))  # the transaction's BEGIN is not the round's
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                results = dispatch.next_tasks(db, asks)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        assert all(isinstance(result, AssignmentRead) for result in results)
        return len(statements)

    one = run([NextAsk(workers[0])])
    many = run([NextAsk(worker) for worker in workers[1:]])
    assert (one, many) == (4, 4)


@pytest.mark.slow
def test_rounds_in_parallel_never_overbook_and_drain_the_queue(backend, database_url):
    """Server processes serving rounds side by side, as many as the backend can run at once;
    a monitor checks the invariant while they run."""
    rounds, workers_per_round, tasks = (8, 2, 300) if backend == "postgresql" else (2, 4, 40)
    # More workers to a round than a task has room: rounds often find tasks others took part of.
    redundancy = 3
    engine = create_db_engine(database_url, pool_size=rounds + 2)
    project_id, identities = drain_project(
        engine, tasks=tasks, workers=rounds * workers_per_round, redundancy=redundancy
    )
    sessions = session_factory(engine)
    deadline = time.monotonic() + 120
    errors: list[BaseException] = []
    overbooked: list[int] = []

    def unfinished() -> int:
        with transaction(sessions) as db:
            return db.scalar(
                select(func.count()).where(
                    Task.project_id == project_id, Task.status != "completed"
                )
            )

    def serve(group) -> None:
        try:
            while not errors and unfinished() and time.monotonic() < deadline:
                with transaction(sessions) as db:
                    leases = dispatch.next_tasks(db, [NextAsk(worker) for worker in group])
                assert not [lease for lease in leases if isinstance(lease, DomainError)]
                for worker, lease in zip(group, leases, strict=True):
                    if lease is not None:
                        with transaction(sessions) as db:
                            dispatch.submit(
                                db,
                                worker_id=worker.id,
                                assignment_id=lease.assignment_id,
                                response={"category": "good"},
                            )
                if not any(leases):
                    time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    def monitor() -> None:
        while any(thread.is_alive() for thread in servers):
            with transaction(sessions) as db:
                overbooked.append(
                    db.execute(OVERBOOKED, {"project_id": project_id, "now": utcnow()}).scalar()
                )
            time.sleep(0.005)

    servers = [threading.Thread(target=serve, args=(identities[i::rounds],)) for i in range(rounds)]
    for thread in servers:
        thread.start()
    watcher = threading.Thread(target=monitor)
    watcher.start()
    for thread in [*servers, watcher]:
        thread.join()
    assert errors == []
    assert overbooked and max(overbooked) == 0
    with transaction(sessions) as db:
        per_task = db.execute(
            select(func.count(), func.count(func.distinct(Assignment.worker_id)))
            .where(Assignment.project_id == project_id, Assignment.state == "submitted")
            .group_by(Assignment.task_id)
        ).all()
    left = unfinished()
    engine.dispose()
    assert left == 0
    assert len(per_task) == tasks
    assert set(per_task) == {(redundancy, redundancy)}


def test_an_expired_lease_gives_its_room_to_a_round(sessions):
    with transaction(sessions) as db:
        _, (task_id,), (first, second, third) = staffed_project(db, tasks=1, workers=3)
        earlier = utcnow() - timedelta(seconds=601)
        dispatch.next_task(db, worker=first, now=earlier)
    with transaction(sessions) as db:
        results = dispatch.next_tasks(db, [NextAsk(second), NextAsk(third)])
    assert task_ids(results) == [task_id, None]
