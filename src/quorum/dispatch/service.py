"""Dispatch: hand out tasks as leases, take responses, and never overbook a task.

The invariant: for every task, live leases + submitted responses <= ``required_responses``, where
a lease is live while ``state = 'active'`` and ``leased_until`` is in the future. Every transaction
that adds to that count (a new lease, a late submit) first locks the task row and counts again
under the lock; on PostgreSQL the picker skips rows another worker holds (``FOR UPDATE SKIP
LOCKED``), on SQLite writers are serialized by ``BEGIN IMMEDIATE``. Expired leases stop counting
the moment they expire, so no sweeper is needed for correctness; ``expire_leases`` only tidies.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from quorum.db import new_id, utcnow, write_through
from quorum.db.among import among
from quorum.db.pagination import decode_cursor, encode_cursor
from quorum.db.rows import InsertRows
from quorum.dispatch.models import Assignment
from quorum.dispatch.schemas import (
    AssignmentPage,
    AssignmentRead,
    NextAsk,
    SubmitAsk,
    SubmitResult,
)
from quorum.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooManyRequests,
    invalid_from_validation,
)
from quorum.payouts import service as payouts
from quorum.quality import service as quality
from quorum.quality.models import GoldTask, ProjectQuality, WorkerTrust
from quorum.review import workflow
from quorum.tasks.models import Batch, Project, Task
from quorum.tasktypes import get_task_type
from quorum.workforce import service as workforce
from quorum.workforce.models import (
    ProjectQualification,
    ProjectWorkforce,
    Qualification,
    Worker,
    WorkerQualification,
)
from quorum.workforce.schemas import WorkerIdentity

MAX_PAGE = 100
PICK_ATTEMPTS = 5


def _constant(value: Any) -> ColumnElement[Any]:
    """A value written into the SQL rather than bound: PostgreSQL plans a prepared statement
    once for all executions (a generic plan) only when it can see the constants that select its
    index and rows; the pick's generic plan with them bound took 30 ms instead of 0.15."""
    return literal(value, literal_execute=True)


def _live(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """An assignment that takes up room on its task: submitted, or leased and not expired."""
    return or_(
        Assignment.state == _constant("submitted"),
        and_(Assignment.state == _constant("active"), Assignment.leased_until > now),
    )


def _taken(db: Session, *, task_id: str, now: datetime, excluding: str | None = None) -> int:
    query = select(func.count()).where(Assignment.task_id == task_id, _live(now))
    if excluding is not None:
        query = query.where(Assignment.id != excluding)
    return db.scalar(query) or 0


# The hot path runs statements built once here, with bound parameters: building SQLAlchemy
# expressions per request cost more CPU than executing them.
_NOW = bindparam("now", type_=Assignment.leased_until.type)
_WORKER = bindparam("worker_id", type_=String)


def _eligibility() -> Select[Any]:
    """Per asking worker and project they may touch (any, or the one they asked for): its lease
    time, a qualification they lack, whether they are paused on it, its gold rate; and how many
    live leases the worker holds."""
    qualified = (
        select(WorkerQualification.qualification_id)
        .where(
            WorkerQualification.worker_id == Worker.id,
            WorkerQualification.qualification_id == ProjectQualification.qualification_id,
            WorkerQualification.granted_at.is_not(None),
            WorkerQualification.revoked_at.is_(None),
        )
        .correlate(Worker, ProjectQualification)
        .exists()
    )
    missing = (
        select(func.min(Qualification.name))
        .join(ProjectQualification, ProjectQualification.qualification_id == Qualification.id)
        .where(ProjectQualification.project_id == Project.id, ~qualified)
        .scalar_subquery()
    )
    paused = (
        select(WorkerTrust.project_id)
        .where(
            WorkerTrust.project_id == Project.id,
            WorkerTrust.worker_id == Worker.id,
            WorkerTrust.paused_at.is_not(None),
        )
        .exists()
    )
    gold_rate = (
        select(ProjectQuality.gold_rate)
        .where(ProjectQuality.project_id == Project.id)
        .scalar_subquery()
    )
    held = (
        select(Assignment.worker_id, func.count().label("leases"))
        .where(
            among(Assignment.worker_id, "worker_ids"),
            Assignment.state == _constant("active"),
            Assignment.leased_until > _NOW,
        )
        .group_by(Assignment.worker_id)
        .subquery("held")
    )
    return (
        select(
            Worker.id.label("worker_id"),
            Project.id.label("project_id"),
            ProjectWorkforce.lease_seconds,
            missing.label("missing"),
            paused.label("paused"),
            func.coalesce(gold_rate, 0.0).label("gold_rate"),
            func.coalesce(held.c.leases, 0).label("held"),
        )
        .join_from(Project, ProjectWorkforce, ProjectWorkforce.project_id == Project.id)
        .join(Worker, workforce.may_work_on(Worker.id, Worker.pool_org_id))
        .outerjoin(held, held.c.worker_id == Worker.id)
        .where(
            among(Worker.id, "worker_ids"),
            or_(among(Worker.id, "anywhere_ids"), among(Project.id, "project_ids")),
        )
        .order_by(Worker.id, Project.id)
    )


_ELIGIBILITY = _eligibility()

# Pending, released tasks of these projects with room, best first (priority, then age), but
# those every asking worker has tried; the rows are locked, and rows other transactions hold
# are skipped. The window (the limit) is written into the SQL, as a constant (see _constant).
_PICK = (
    select(
        Task.id,
        Task.org_id,
        Task.project_id,
        Task.type,
        Task.instruction,
        Task.params,
        Task.required_responses,
        Project.name,
    )
    .join(Project, Project.id == Task.project_id)
    .outerjoin(Batch, Batch.id == Task.batch_id)
    .where(
        Task.project_id.in_(bindparam("project_ids", expanding=True)),
        Task.status == _constant("pending"),
        Task.is_test.is_(False),
        or_(Task.batch_id.is_(None), Batch.finalized_at.is_not(None)),
        select(func.count())
        .where(Assignment.task_id == Task.id, among(Assignment.worker_id, "worker_ids"))
        .correlate(Task)
        .scalar_subquery()
        < bindparam("workers", type_=Integer),
        select(func.count())
        .where(Assignment.task_id == Task.id, _live(_NOW))
        .correlate(Task)
        .scalar_subquery()
        < Task.required_responses,
        ~among(Task.id, "skip"),
    )
    .order_by(Task.priority.desc(), Task.id)
    .limit(bindparam("window", type_=Integer, literal_execute=True))
    .with_for_update(of=Task.__table__, skip_locked=True)
)

# The picked tasks' assignments that take room or belong to an asking worker, read under the
# tasks' locks by a statement of its own (on PostgreSQL, a fresh snapshot): the pick's counts
# may predate a lease committed just before a lock was taken.
_ASSIGNMENTS_OF_PICKED = select(
    Assignment.task_id, Assignment.worker_id, _live(_NOW).label("live")
).where(
    among(Assignment.task_id, "task_ids"),
    or_(_live(_NOW), among(Assignment.worker_id, "worker_ids")),
)


# All the leases of a call in one statement. A lease its worker took at the same moment in
# another transaction (a gold task: it is leased without a lock) is left out, not an error that
# would abort the others' transaction.
_WRITE_LEASES = InsertRows(
    Assignment.__table__,
    ["id", "org_id", "project_id", "task_id", "worker_id", "state", "leased_at", "leased_until"],
    finish=lambda insert: insert.on_conflict_do_nothing().returning(Assignment.__table__.c.id),
)


def _task_as_leased(task: Any, project_name: str, **lease: Any) -> AssignmentRead:
    """A task (a Task or a picked row) as the worker holding ``lease`` sees it."""
    return AssignmentRead(
        task_id=task.id,
        project_id=task.project_id,
        project=project_name,
        type=task.type,
        instruction=task.instruction,
        params=task.params,
        **lease,
    )


def _assignment_read(assignment: Assignment, task: Task, project_name: str) -> AssignmentRead:
    return _task_as_leased(
        task,
        project_name,
        assignment_id=assignment.id,
        state=assignment.state,
        leased_at=assignment.leased_at,
        leased_until=assignment.leased_until,
        finished_at=assignment.finished_at,
        response=assignment.response,
    )


def next_task(
    db: Session,
    *,
    worker: WorkerIdentity,
    project_id: str | None = None,
    now: datetime | None = None,
    max_live_leases: int = 0,
) -> AssignmentRead | None:
    """Lease the best task the worker may do and has not tried; None when there is none.

    ``max_live_leases`` (0: no limit) caps how much work one account can hold at once, so a
    script cannot hoard a queue.
    """
    ask = NextAsk(worker=worker, project_id=project_id, max_live_leases=max_live_leases)
    (result,) = next_tasks(db, [ask], now=now)
    if isinstance(result, DomainError):
        raise result
    return result


@dataclass(frozen=True)
class _Seeker:
    """An ask that passed its checks, and the projects whose tasks it may take."""

    index: int
    worker_id: str
    lease_seconds: dict[str, int]
    gold_project_ids: list[str]
    max_live_leases: int


@dataclass(frozen=True)
class _Lease:
    """A lease given in the call, written with the others at its end."""

    index: int
    org_id: str
    worker_id: str
    read: AssignmentRead


@dataclass
class _Round:
    """One call of ``next_tasks``: each ask's result, the live leases each worker holds (with
    those given in this call), the tasks each has an assignment on, and the leases to write."""

    now: datetime
    results: list[AssignmentRead | DomainError | None]
    held: Counter[str] = field(default_factory=Counter)
    tried: set[tuple[str, str]] = field(default_factory=set)
    leases: list[_Lease] = field(default_factory=list)

    def may_hold_another(self, seeker: _Seeker) -> bool:
        """Whether the seeker's worker is under their cap of live leases; when not, the ask is
        refused."""
        if seeker.max_live_leases and self.held[seeker.worker_id] >= seeker.max_live_leases:
            self.results[seeker.index] = _too_many_leases(self.held[seeker.worker_id])
            return False
        return True

    def give(self, seeker: _Seeker, task: Any, project_name: str) -> None:
        """Lease the task (a picked row or a Task) to the seeker, to be written with the rest."""
        leased_until = self.now + timedelta(seconds=seeker.lease_seconds[task.project_id])
        read = _task_as_leased(
            task,
            project_name,
            assignment_id=new_id(),
            state="active",
            leased_at=self.now,
            leased_until=leased_until,
        )
        self.leases.append(_Lease(seeker.index, task.org_id, seeker.worker_id, read))
        self.held[seeker.worker_id] += 1
        self.tried.add((task.id, seeker.worker_id))


def _too_many_leases(held: int) -> TooManyRequests:
    return TooManyRequests(
        f"you hold {held} live leases, the most allowed; submit, skip or release one",
        retry_after=5,
    )


def next_tasks(
    db: Session, asks: list[NextAsk], *, now: datetime | None = None
) -> list[AssignmentRead | DomainError | None]:
    """Lease each ask the best task its worker may do and has not tried, for many asks in one
    transaction (a dispatch round) with a few statements for them all; one result per ask, in
    order: its lease, None when there is no task for it, or the error it alone would raise.

    An ask refused writes nothing and does not stop the others. Two asks of one worker get
    different tasks, and the leases given count towards the worker's ``max_live_leases``.
    """
    round_ = _Round(now=now or utcnow(), results=[None] * len(asks))
    seekers = _check_asks(db, round_, asks)
    seekers = _give_gold(db, round_, seekers)
    _give_from_queue(db, round_, seekers)
    _write_leases(db, round_)
    return round_.results


def _check_asks(db: Session, round_: _Round, asks: list[NextAsk]) -> list[_Seeker]:
    """The asks that may be served, with their projects; the others get their error."""
    active = [ask for ask in asks if ask.worker.status == "active"]
    reachable: dict[str, list[Any]] = {}
    if active:
        rows = db.execute(
            _ELIGIBILITY,
            {
                "worker_ids": list({ask.worker.id for ask in active}),
                "anywhere_ids": list({ask.worker.id for ask in active if ask.project_id is None}),
                "project_ids": list({ask.project_id for ask in active if ask.project_id}),
                "now": round_.now,
            },
        )
        for row in rows:
            reachable.setdefault(row.worker_id, []).append(row)
            round_.held[row.worker_id] = row.held
    seekers = []
    for index, ask in enumerate(asks):
        try:
            seeker = _seeker(index, ask, reachable.get(ask.worker.id, []))
        except DomainError as error:
            round_.results[index] = error
        else:
            if seeker is not None:
                seekers.append(seeker)
    return seekers


def _seeker(index: int, ask: NextAsk, reachable: list[Any]) -> _Seeker | None:
    """The ask's checks on the projects its worker may touch; None when none has work for them."""
    worker = ask.worker
    if worker.status != "active":
        raise Forbidden(f"your account is {worker.status}; no tasks are handed out")
    projects = reachable
    if ask.project_id is not None:
        projects = [p for p in reachable if p.project_id == ask.project_id]
        if not projects:
            raise NotFound(f"no project {ask.project_id!r}")
        if projects[0].missing:
            raise Forbidden(f"this project requires the qualification {projects[0].missing!r}")
        if projects[0].paused:
            raise Forbidden("you are paused on this project for low accuracy; ask an operator")
    if ask.max_live_leases and projects and projects[0].held >= ask.max_live_leases:
        raise _too_many_leases(projects[0].held)
    open_to_worker = [p for p in projects if not (p.missing or p.paused)]
    lease_seconds = {p.project_id: p.lease_seconds for p in open_to_worker}
    if not lease_seconds:
        return None
    return _Seeker(
        index=index,
        worker_id=worker.id,
        lease_seconds=lease_seconds,
        gold_project_ids=[p.project_id for p in open_to_worker if p.gold_rate > 0],
        max_live_leases=ask.max_live_leases,
    )


def _give_gold(db: Session, round_: _Round, seekers: list[_Seeker]) -> list[_Seeker]:
    """Gold tasks at their projects' gold rates, drawn worker by worker (only workers who may
    take a project's gold); returns the seekers still looking for a task."""
    looking = []
    for seeker in seekers:
        gold = None
        if seeker.gold_project_ids:
            gold = quality.pick_gold(
                db, worker_id=seeker.worker_id, project_ids=seeker.gold_project_ids
            )
        if gold is None or (gold[0].id, seeker.worker_id) in round_.tried:
            looking.append(seeker)
        elif round_.may_hold_another(seeker):
            round_.give(seeker, *gold)
    return looking


def _give_from_queue(db: Session, round_: _Round, seekers: list[_Seeker]) -> None:
    """Lock a window of the best tasks for the seekers, count their room again under the locks
    and match them; seekers left without a task while the window was full look further down."""
    skip: list[str] = []
    for _ in range(PICK_ATTEMPTS):
        if not seekers:
            return
        worker_ids = list({seeker.worker_id for seeker in seekers})
        # A margin for tasks some seekers cannot take (tried, or of a project not theirs),
        # rounded up to a power of two: each window size is a statement of its own to prepare.
        window = 1 << (len(seekers) + len(seekers) // 4 - 1).bit_length()
        picked = db.execute(
            _PICK,
            {
                "project_ids": list({p for seeker in seekers for p in seeker.lease_seconds}),
                "worker_ids": worker_ids,
                "workers": len(worker_ids),
                "skip": skip,
                "window": window,
                "now": round_.now,
            },
        ).all()
        if not picked:
            return
        room = {task.id: task.required_responses for task in picked}
        assignments = db.execute(
            _ASSIGNMENTS_OF_PICKED,
            {"task_ids": list(room), "worker_ids": worker_ids, "now": round_.now},
        )
        for task_id, worker_id, live in assignments:
            room[task_id] -= live
            round_.tried.add((task_id, worker_id))
        seekers = _match(round_, seekers, [task for task in picked if room[task.id] > 0], room)
        if len(picked) < window:
            return
        skip.extend(room)


def _match(
    round_: _Round, seekers: list[_Seeker], tasks: list[Any], room: dict[str, int]
) -> list[_Seeker]:
    """Give each seeker in turn the best of the tasks with room left, of one of its projects, that
    its worker has not tried; returns the seekers left without one."""
    unmatched = []
    for seeker in seekers:
        if not round_.may_hold_another(seeker):
            continue
        task = next(
            (
                task
                for task in tasks
                if task.project_id in seeker.lease_seconds
                and (task.id, seeker.worker_id) not in round_.tried
            ),
            None,
        )
        if task is None:
            unmatched.append(seeker)
            continue
        round_.give(seeker, task, task.name)
        room[task.id] -= 1
        if not room[task.id]:
            tasks.remove(task)
    return unmatched


def _write_leases(db: Session, round_: _Round) -> None:
    """Write the leases given, in one statement, and set their asks' results."""
    if not round_.leases:
        return
    rows = [
        {
            "id": lease.read.assignment_id,
            "org_id": lease.org_id,
            "project_id": lease.read.project_id,
            "task_id": lease.read.task_id,
            "worker_id": lease.worker_id,
            "state": "active",
            "leased_at": lease.read.leased_at,
            "leased_until": lease.read.leased_until,
        }
        # In one order everywhere, so that two rounds waiting on each other's leases of the same
        # (gold) task and worker cannot deadlock.
        for lease in sorted(round_.leases, key=lambda lease: (lease.read.task_id, lease.worker_id))
    ]
    written = set(_WRITE_LEASES(db, rows).scalars())
    for lease in round_.leases:
        round_.results[lease.index] = (
            lease.read
            if lease.read.assignment_id in written
            else Conflict("another of your requests leased this task at the same moment; ask again")
        )


_OWN_ASSIGNMENT = (
    select(Assignment)
    .where(Assignment.id == bindparam("assignment_id"), Assignment.worker_id == _WORKER)
    .with_for_update()
    .execution_options(populate_existing=True)
)

# The submitted assignments and their tasks, all locked, in task order: rounds that lock tasks
# in one order cannot deadlock, and a task's row is locked before its assignment's, as
# everywhere. Each task's gold record, project, its pay rate, quality settings and the worker's
# trust there come along for the rest of the submit (consolidation, pay, the callback).
_LOCK_SUBMITTED = (
    select(Task, Assignment, GoldTask.id, Project, payouts.pay_rate(), ProjectQuality, WorkerTrust)
    .join(
        Assignment,
        and_(
            Assignment.task_id == Task.id,
            among(Assignment.id, "assignment_ids"),
        ),
    )
    .join(Project, Project.id == Task.project_id)
    .outerjoin(GoldTask, GoldTask.task_id == Task.id)
    .outerjoin(ProjectQuality, ProjectQuality.project_id == Task.project_id)
    .outerjoin(
        WorkerTrust,
        and_(
            WorkerTrust.project_id == Task.project_id,
            WorkerTrust.worker_id == Assignment.worker_id,
        ),
    )
    .order_by(Task.id, Assignment.id)
    .with_for_update(of=[Task, Assignment])
    .execution_options(populate_existing=True)
)


def _own_assignment(db: Session, *, worker_id: str, assignment_id: str) -> Assignment:
    assignment = db.scalar(
        _OWN_ASSIGNMENT, {"assignment_id": assignment_id, "worker_id": worker_id}
    )
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id!r}")
    return assignment


def _parse(task: Task, raw: dict[str, Any]) -> dict[str, Any]:
    kind = get_task_type(task.type)
    try:
        response = kind.parse_response(kind.Params.model_validate(task.params), raw)
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix="response.") from None
    return response.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class _Answer:
    """A submit that passed its checks, waiting for the round's writes."""

    index: int
    task: Task
    assignment: Assignment
    response: dict[str, Any]
    gold: GoldTask | None


def submit(
    db: Session,
    *,
    worker_id: str,
    assignment_id: str,
    response: dict[str, Any],
    now: datetime | None = None,
) -> SubmitResult:
    """Record a response; the last one needed completes the task in the same transaction."""
    (result,) = submit_all(db, [SubmitAsk(worker_id, assignment_id, response)], now=now)
    if isinstance(result, DomainError):
        raise result
    return result


def submit_all(
    db: Session, asks: list[SubmitAsk], *, now: datetime | None = None
) -> list[SubmitResult | DomainError]:
    """Record responses, each the last one its task needs completing it in the same transaction;
    one result per ask, in order.

    A submit after the lease expired is accepted only if the task still has room for it. An ask
    refused gets its error and writes nothing, without stopping the others. The writes take a
    few statements for all the asks, not a few each: a dispatch round serves many workers.
    """
    now = now or utcnow()
    locked = db.execute(
        _LOCK_SUBMITTED, {"assignment_ids": list({ask.assignment_id for ask in asks})}
    )
    found: dict[str, tuple[Task, Assignment, str | None]] = {}
    pays: dict[str, int] = {}
    for task, assignment, gold_id, project, pay, stored_settings, trust in locked:
        pays[assignment.id] = pay
        quality.settings_of(db, project=project, stored=stored_settings)
        quality.trust_loaded(
            db, project_id=task.project_id, worker_id=assignment.worker_id, row=trust
        )
        found[assignment.id] = (task, assignment, gold_id)
    # Each refused ask's error now; the others' results once their answers are written.
    results: dict[int, SubmitResult | DomainError] = {}
    answers: list[_Answer] = []
    late_answers: Counter[str] = Counter()
    for index, ask in enumerate(asks):
        try:
            answers.append(_check(db, ask, found, answers, late_answers, index=index, now=now))
        except DomainError as error:
            results[index] = error
    assignments = [answer.assignment for answer in answers]
    write_through(
        db,
        assignments,
        each={"response": [answer.response for answer in answers]},
        state="submitted",
        finished_at=now,
    )
    pending = [pays[assignment.id] for assignment in assignments]
    payouts.record_submissions(db, submitted=list(zip(assignments, pending, strict=True)))
    completed = _complete_if_done(db, [answer for answer in answers if answer.gold is None])
    for answer, cents in zip(answers, pending, strict=True):
        task = answer.task
        if answer.gold is not None:
            # A gold answer is scored at once and paid like any work; the gold task never
            # completes, but the reply says what it would say for real work, so it does not
            # give the gold away.
            quality.record_gold_result(
                db, gold=answer.gold, assignment=answer.assignment, task_type=task.type
            )
            payouts.earn(db, assignment_ids=[answer.assignment.id])
        results[answer.index] = SubmitResult(
            assignment_id=answer.assignment.id,
            task_id=task.id,
            state="submitted",
            task_completed=task.id in completed
            if answer.gold is None
            else task.required_responses == 1,
            pending_cents=cents,
        )
    return [results[index] for index in range(len(asks))]


def _check(
    db: Session,
    ask: SubmitAsk,
    found: dict[str, tuple[Task, Assignment, str | None]],
    answers: list[_Answer],
    late_answers: Counter[str],
    *,
    index: int,
    now: datetime,
) -> _Answer:
    """An ask's answer, ready to write, or the error that refuses it.

    ``answers`` are the asks of the round accepted before this one, and ``late_answers`` counts
    per task those that took room their expired lease no longer held: the room they take is not
    in the database yet.
    """
    if ask.assignment_id not in found or found[ask.assignment_id][1].worker_id != ask.worker_id:
        raise NotFound(f"no assignment {ask.assignment_id!r}")
    task, assignment, gold_id = found[ask.assignment_id]
    gold = quality.gold_for_task(db, task_id=task.id) if gold_id is not None else None
    if task.status != "pending" and gold is None:
        raise Conflict(f"task {task.id} is {task.status}; your response was not recorded")
    if any(answer.assignment is assignment for answer in answers):
        raise Conflict(f"assignment {assignment.id} is already submitted")
    if assignment.state in ("submitted", "skipped", "released"):
        raise Conflict(f"assignment {assignment.id} is already {assignment.state}")
    response = _parse(task, ask.response)
    still_leased = assignment.state == "active" and assignment.leased_until > now
    if not still_leased and gold is None:
        taken = _taken(db, task_id=task.id, now=now, excluding=assignment.id)
        if taken + late_answers[task.id] >= task.required_responses:
            raise Conflict(
                f"your lease on task {task.id} expired at {assignment.leased_until.isoformat()} "
                "and the task was handed to another worker; your response was not recorded"
            )
        late_answers[task.id] += 1
    return _Answer(index=index, task=task, assignment=assignment, response=response, gold=gold)


_SUBMITTED_TO = (
    select(Assignment)
    .where(
        among(Assignment.task_id, "task_ids"),
        Assignment.state == "submitted",
    )
    .order_by(Assignment.task_id, Assignment.finished_at, Assignment.id)
)


def _complete_if_done(db: Session, answers: list[_Answer]) -> set[str]:
    """Hand the tasks that have every required response in to the review workflow (which
    consolidates, grows redundancy, opens review or completes the task and earns the pay);
    returns the ids of the tasks completed.

    A task needing one response has exactly the one just submitted: it held the task's only room.
    """
    tasks = {answer.task.id: answer.task for answer in answers}
    submitted: dict[str, list[Assignment]] = {
        answer.task.id: [answer.assignment]
        for answer in answers
        if answer.task.required_responses == 1
    }
    shared = [task_id for task_id, task in tasks.items() if task.required_responses > 1]
    if shared:
        for assignment in db.scalars(_SUBMITTED_TO, {"task_ids": shared}):
            submitted.setdefault(assignment.task_id, []).append(assignment)
    finished = [
        (tasks[task_id], submitted[task_id])
        for task_id in sorted(submitted)
        if len(submitted[task_id]) >= tasks[task_id].required_responses
    ]
    return workflow.responses_in(db, finished=finished) if finished else set()


def _give_back(
    db: Session,
    *,
    worker_id: str,
    assignment_id: str,
    state: str,
    reason: str | None,
    broken: bool = False,
) -> AssignmentRead:
    assignment = _own_assignment(db, worker_id=worker_id, assignment_id=assignment_id)
    if assignment.state not in ("active", "expired"):
        raise Conflict(f"assignment {assignment_id} is already {assignment.state}")
    assignment.state = state
    assignment.finished_at = utcnow()
    assignment.skip_reason = reason
    assignment.reported_broken = broken
    task, project_name = db.execute(
        select(Task, Project.name)
        .join(Project, Project.id == Task.project_id)
        .where(Task.id == assignment.task_id)
    ).one()
    return _assignment_read(assignment, task, project_name)


def skip(
    db: Session, *, worker_id: str, assignment_id: str, reason: str, broken: bool = False
) -> AssignmentRead:
    """Decline a task with a reason; it goes back to the queue, never again to this worker.

    ``broken`` reports that the task itself cannot be done: once the project's number of
    distinct workers have said so, the task fails instead of waiting forever for an answer.
    """
    skipped = _give_back(
        db,
        worker_id=worker_id,
        assignment_id=assignment_id,
        state="skipped",
        reason=reason,
        broken=broken,
    )
    if broken:
        _fail_if_broken(db, task_id=skipped.task_id)
    return skipped


def _fail_if_broken(db: Session, *, task_id: str) -> None:
    task = db.scalar(
        select(Task)
        .where(Task.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None or task.status != "pending" or quality.gold_for_task(db, task_id=task_id):
        return
    db.flush()
    reasons = list(
        db.scalars(
            select(Assignment.skip_reason)
            .where(Assignment.task_id == task_id, Assignment.reported_broken.is_(True))
            .order_by(Assignment.finished_at, Assignment.id)
        )
    )
    needed = db.scalar(
        select(ProjectWorkforce.broken_reports_to_fail).where(
            ProjectWorkforce.project_id == task.project_id
        )
    )
    if len(reasons) < (needed or workforce.DEFAULT_BROKEN_REPORTS_TO_FAIL):
        return
    workflow.fail(
        db,
        task=task,
        error=f"{len(reasons)} workers reported this task broken",
        reasons=[reason or "" for reason in reasons],
    )


def release(db: Session, *, worker_id: str, assignment_id: str) -> AssignmentRead:
    """Hand a task back unfinished (end of shift); it goes to another worker."""
    return _give_back(
        db, worker_id=worker_id, assignment_id=assignment_id, state="released", reason=None
    )


def expire_leases(db: Session, *, now: datetime | None = None) -> int:
    """Mark leases past their time as expired (tidying: they stopped counting already)."""
    result = db.execute(
        update(Assignment)
        .where(Assignment.state == "active", Assignment.leased_until <= (now or utcnow()))
        .values(state="expired")
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def set_worker_status(db: Session, *, org_id: str | None, worker_id: str, status: str) -> Worker:
    """Change a pool worker's status; pausing or banning returns their open leases at once."""
    worker = workforce.set_worker_status(db, org_id=org_id, worker_id=worker_id, status=status)
    if status != "active":
        db.execute(
            update(Assignment)
            .where(Assignment.worker_id == worker_id, Assignment.state == "active")
            .values(state="released", finished_at=utcnow())
        )
    return worker


def history(
    db: Session, *, worker_id: str, limit: int = MAX_PAGE, next_token: str | None = None
) -> AssignmentPage:
    """The worker's assignments, newest first, cursor-paginated."""
    query = (
        select(Assignment, Task, Project.name)
        .join(Task, Task.id == Assignment.task_id)
        .join(Project, Project.id == Assignment.project_id)
        .where(Assignment.worker_id == worker_id)
        .order_by(Assignment.id.desc())
        .limit(limit + 1)
    )
    if next_token:
        query = query.where(Assignment.id < decode_cursor(next_token))
    rows = db.execute(query).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    return AssignmentPage(
        docs=[_assignment_read(a, t, name) for a, t, name in rows],
        next_token=encode_cursor(rows[-1][0].id) if has_more else None,
    )


def get_assignment(db: Session, *, worker_id: str, assignment_id: str) -> AssignmentRead:
    """One of the worker's own assignments; anyone else's is not found."""
    row = db.execute(
        select(Assignment, Task, Project.name)
        .join(Task, Task.id == Assignment.task_id)
        .join(Project, Project.id == Assignment.project_id)
        .where(Assignment.id == assignment_id, Assignment.worker_id == worker_id)
    ).first()
    if row is None:
        raise NotFound(f"no assignment {assignment_id!r}")
    return _assignment_read(*row)


def current_assignment(
    db: Session, *, worker_id: str, project_id: str, now: datetime | None = None
) -> AssignmentRead | None:
    """The worker's live lease on a project, so that coming back resumes it instead of leasing
    a second task."""
    row = db.execute(
        select(Assignment, Task, Project.name)
        .join(Task, Task.id == Assignment.task_id)
        .join(Project, Project.id == Assignment.project_id)
        .where(
            Assignment.worker_id == worker_id,
            Assignment.project_id == project_id,
            Assignment.state == "active",
            Assignment.leased_until > (now or utcnow()),
            Task.status == "pending",
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    ).first()
    return _assignment_read(*row) if row else None
