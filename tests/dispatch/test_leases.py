"""Leases: they expire on their own, the room comes back, late submits are judged fairly."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from quorum.db import transaction, utcnow
from quorum.dispatch import service as dispatch
from quorum.dispatch.jobs import LeaseSweeper
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict
from quorum.payouts import service as payouts
from quorum.payouts.models import LedgerEntry
from quorum.payouts.schemas import PayRateSet
from tests.dispatch.conftest import categorization_project, staffed_project

GOOD = {"category": "good"}
LATER = timedelta(seconds=601)


@pytest.fixture
def two_workers_one_task(sessions):
    with transaction(sessions) as db:
        org_id, (task_id,), (first, second) = staffed_project(db, tasks=1, workers=2)
        payouts.set_project_rate(db, org_id=org_id, project="p", cents=PayRateSet(cents=25).cents)
    return org_id, task_id, first, second


def test_expired_lease_returns_room_to_queue(sessions, two_workers_one_task):
    _, task_id, first, second = two_workers_one_task
    now = utcnow()
    with transaction(sessions) as db:
        assert dispatch.next_task(db, worker=first, now=now).task_id == task_id
    with transaction(sessions) as db:
        assert dispatch.next_task(db, worker=second, now=now) is None
    with transaction(sessions) as db:
        assert dispatch.next_task(db, worker=second, now=now + LATER).task_id == task_id


def test_late_submit_after_the_room_was_given_away_is_refused(sessions, two_workers_one_task):
    _, task_id, first, second = two_workers_one_task
    now = utcnow()
    with transaction(sessions) as db:
        stale = dispatch.next_task(db, worker=first, now=now)
    with transaction(sessions) as db:
        dispatch.next_task(db, worker=second, now=now + LATER)

    with transaction(sessions) as db, pytest.raises(Conflict) as refused:
        dispatch.submit(
            db,
            worker_id=first.id,
            assignment_id=stale.assignment_id,
            response=GOOD,
            now=now + LATER,
        )
    assert refused.value.message == (
        f"your lease on task {task_id} expired at {stale.leased_until.isoformat()} and the task "
        "was handed to another worker; your response was not recorded"
    )
    with transaction(sessions) as db:
        assert payouts.earnings(db, worker_id=first.id).entries == []
        state = db.scalar(select(Assignment.state).where(Assignment.id == stale.assignment_id))
    assert state == "active", "the refused submit changed nothing"


def test_late_submit_while_the_room_is_still_free_is_accepted(sessions, two_workers_one_task):
    _, _, first, _ = two_workers_one_task
    now = utcnow()
    with transaction(sessions) as db:
        lease = dispatch.next_task(db, worker=first, now=now)
    with transaction(sessions) as db:
        result = dispatch.submit(
            db,
            worker_id=first.id,
            assignment_id=lease.assignment_id,
            response=GOOD,
            now=now + LATER,
        )
    assert result.task_completed is True
    with transaction(sessions) as db:
        earnings = payouts.earnings(db, worker_id=first.id)
    assert (earnings.pending_cents, earnings.balance_cents) == (0, 25)


def test_late_submit_after_the_sweeper_ran_is_judged_the_same(sessions, two_workers_one_task):
    _, _, first, _ = two_workers_one_task
    now = utcnow()
    with transaction(sessions) as db:
        lease = dispatch.next_task(db, worker=first, now=now)
    with transaction(sessions) as db:
        assert dispatch.expire_leases(db, now=now + LATER) >= 1
    with transaction(sessions) as db:
        result = dispatch.submit(
            db,
            worker_id=first.id,
            assignment_id=lease.assignment_id,
            response=GOOD,
            now=now + LATER,
        )
    assert result.state == "submitted"


def test_sweeper_marks_expired_leases(sessions):
    with transaction(sessions) as db:
        _, _, (worker,) = staffed_project(db, tasks=1, lease_seconds=1)
        lease = dispatch.next_task(db, worker=worker, now=utcnow() - timedelta(seconds=5))
    LeaseSweeper(sessions, interval_seconds=60).run_once()
    with transaction(sessions) as db:
        state = db.scalar(select(Assignment.state).where(Assignment.id == lease.assignment_id))
    assert state == "expired"


def test_short_lease_over_http_comes_back(tenant, make_worker):
    _, (task_id,) = categorization_project(tenant, tasks=1)
    tenant.client.patch("/v1/projects/sentiment/workforce", json={"lease_seconds": 1})
    slow, fast = (make_worker(tenant, projects=("sentiment",)) for _ in range(2))
    stale = slow.next().json()
    assert fast.next().status_code == 204
    time.sleep(1.1)
    assert fast.next().json()["task_id"] == task_id
    late = slow.submit(stale["assignment_id"], GOOD)
    assert late.status_code == 409
    assert "handed to another worker" in late.json()["error"]


def test_pay_remembered_by_a_rolled_back_submit_is_not_earned_later(sessions, two_workers_one_task):
    """A submit remembers the pending pay it wrote so that completing the task earns it without a
    query; a rollback must make the session forget it, or the pay would be earned twice."""
    _, _, first, _ = two_workers_one_task
    with transaction(sessions) as db:
        lease = dispatch.next_task(db, worker=first)
    with sessions() as db:
        assignment = db.get_one(Assignment, lease.assignment_id)
        assert payouts.project_rates(db, project_ids=[assignment.project_id]) == {
            assignment.project_id: 25
        }
        db.rollback()
        with db.begin():
            payouts.earn(db, assignment_ids=[lease.assignment_id])
        entries = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.worker_id == first.id))
        assert list(entries) == []
    with transaction(sessions) as db:
        done = dispatch.submit(
            db, worker_id=first.id, assignment_id=lease.assignment_id, response=GOOD
        )
    assert done.task_completed
    with transaction(sessions) as db:
        ledger = db.execute(
            select(LedgerEntry.kind, LedgerEntry.cents).where(LedgerEntry.worker_id == first.id)
        ).all()
    assert sorted(ledger) == [("earned", 25), ("pending", -25), ("pending", 25)]
