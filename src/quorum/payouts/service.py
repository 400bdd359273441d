"""Pay: rates, the append-only ledger, and payout runs that never pay an entry twice.

A submitted response writes a ``pending`` entry at the rate of the moment. When the response is
accepted (today: when its task completes) the pending amount is reversed and ``earned``. Bonuses
and clawbacks are entries too. A payout run settles every unsettled payable entry of a worker
with one ``payout`` entry, and records each settled entry in ``payout_item``, whose primary key
makes a second payment of the same entry impossible.

Who pays is the worker's pool: an organization's runs pay its private pool; the platform's runs
(``paid_by="platform"``, one per organization owing anything) pay the public pool, so customers
never see public workers in their runs and the platform never pays a private worker.
"""

from decimal import Decimal

from sqlalchemy import ColumnElement, Exists, Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.accounts.models import Organization
from quorum.csvsafe import Cell, csv_text, neutralized_csv
from quorum.db import new_id, transaction_memo, utcnow
from quorum.db.among import among
from quorum.db.rows import InsertRows
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, NotFound
from quorum.payouts.models import (
    PAYABLE_KINDS,
    LedgerEntry,
    PayoutItem,
    PayoutRun,
    ProjectPayRate,
    TaskTypePayRate,
)
from quorum.payouts.schemas import (
    AdjustmentCreate,
    EarningsRead,
    LedgerEntryRead,
    PayoutRunRead,
    PayRatesRead,
    SharedAdjustmentCreate,
)
from quorum.tasks import service as tasks
from quorum.tasks.models import Project
from quorum.tasktypes import get_task_type
from quorum.workforce import service as workforce
from quorum.workforce.models import Worker

RECENT_ENTRIES = 50
PAYOUT_CSV_HEADER = (
    "payout_run_id",
    "worker_id",
    "email",
    "name",
    "amount_cents",
    "amount",
    "entries",
)
PAYOUT_CSV_NUMBERS = ("amount_cents", "amount", "entries")


def set_project_rate(db: Session, *, org_id: str, project: str, cents: int) -> None:
    """What each response on this project pays, from now on."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    rate = db.get(ProjectPayRate, found.id)
    if rate is None:
        db.add(ProjectPayRate(project_id=found.id, org_id=org_id, cents=cents))
    else:
        rate.cents = cents


def set_task_type_rate(db: Session, *, org_id: str, task_type: str, cents: int) -> None:
    """The organization's rate for a task type, for projects without their own rate."""
    get_task_type(task_type)
    rate = db.get(TaskTypePayRate, (org_id, task_type))
    if rate is None:
        db.add(TaskTypePayRate(org_id=org_id, task_type=task_type, cents=cents))
    else:
        rate.cents = cents


def pay_rates(db: Session, *, org_id: str) -> PayRatesRead:
    projects = db.execute(
        select(Project.name, ProjectPayRate.cents)
        .join(Project, Project.id == ProjectPayRate.project_id)
        .where(ProjectPayRate.org_id == org_id)
    )
    types = db.execute(
        select(TaskTypePayRate.task_type, TaskTypePayRate.cents).where(
            TaskTypePayRate.org_id == org_id
        )
    )
    return PayRatesRead(projects=dict(projects.all()), task_types=dict(types.all()))


def pay_rate() -> ColumnElement[int]:
    """A project's pay per response, as a column of a query over ``Project``: its own rate,
    else its task type's, else 0."""
    own = select(ProjectPayRate.cents).where(ProjectPayRate.project_id == Project.id)
    of_type = select(TaskTypePayRate.cents).where(
        TaskTypePayRate.org_id == Project.org_id, TaskTypePayRate.task_type == Project.type
    )
    return func.coalesce(
        own.correlate(Project).scalar_subquery(), of_type.correlate(Project).scalar_subquery(), 0
    )


def project_rates(db: Session, *, project_ids: list[str]) -> dict[str, int]:
    """What a response pays now on each project."""
    rates = select(Project.id, pay_rate()).where(Project.id.in_(project_ids))
    return {project_id: cents for project_id, cents in db.execute(rates)}


_ledger = LedgerEntry.__table__
_ADD_ENTRIES = InsertRows(
    _ledger,
    [
        "id",
        "org_id",
        "worker_id",
        "kind",
        "cents",
        "assignment_id",
        "payout_run_id",
        "note",
        "created_at",
    ],
)
_PENDING_WRITTEN = "payouts.pending"


def record_submissions(db: Session, *, submitted: list[tuple[Assignment, int]]) -> None:
    """Write the pending pay of submitted responses, each with what its project pays now (read
    in this transaction, as ``pay_rate``), with one statement however many there are: a
    dispatch round submits many at once.

    The transaction remembers them, so that earning them at once (the task completes with these
    answers) needs no query of the ledger.
    """
    now = utcnow()
    written = transaction_memo(db, _PENDING_WRITTEN)
    entries = []
    for assignment, cents in submitted:
        entries.append(
            {
                "id": new_id(),
                "org_id": assignment.org_id,
                "worker_id": assignment.worker_id,
                "kind": "pending",
                "cents": cents,
                "assignment_id": assignment.id,
                "payout_run_id": None,
                "note": "response submitted",
                "created_at": now,
            }
        )
        written[assignment.id] = (assignment.org_id, assignment.worker_id, assignment.id, cents)
    if entries:
        _ADD_ENTRIES(db, entries)


_PENDING_OF = select(
    _ledger.c.org_id, _ledger.c.worker_id, _ledger.c.assignment_id, _ledger.c.cents
).where(
    among(_ledger.c.assignment_id, "assignment_ids"),
    _ledger.c.kind == "pending",
    _ledger.c.cents > 0,
)


def earn(db: Session, *, assignment_ids: list[str]) -> None:
    """Turn the pending pay of accepted responses into earnings (reversal plus earned entry)."""
    written = transaction_memo(db, _PENDING_WRITTEN)
    # Remembered entries may pay nothing; the query leaves those out itself.
    pending = [written[i] for i in assignment_ids if i in written and written[i][3] > 0]
    unseen = [i for i in assignment_ids if i not in written]
    if unseen:
        pending += db.execute(_PENDING_OF, {"assignment_ids": unseen}).all()
    if not pending:
        return
    now = utcnow()
    entries = [
        {
            "id": new_id(),
            "org_id": org_id,
            "worker_id": worker_id,
            "assignment_id": assignment_id,
            "payout_run_id": None,
            "created_at": now,
            "kind": kind,
            "cents": sign * cents,
            "note": note,
        }
        for org_id, worker_id, assignment_id, cents in pending
        for kind, sign, note in (("pending", -1, "accepted"), ("earned", 1, "task completed"))
    ]
    _ADD_ENTRIES(db, entries)


def adjust(db: Session, *, org_id: str, worker_id: str, data: AdjustmentCreate) -> LedgerEntry:
    """Add a bonus or claw money back from a worker of the organization's pool."""
    workforce.get_worker(db, org_id=org_id, worker_id=worker_id)
    return _adjustment(db, org_id=org_id, worker_id=worker_id, data=data)


def adjust_shared(db: Session, *, worker_id: str, data: SharedAdjustmentCreate) -> LedgerEntry:
    """A platform operator's bonus or clawback for a public-pool worker's work on a shared
    project; the project's organization owes it, like the work itself."""
    workforce.get_worker(db, org_id=None, worker_id=worker_id)
    project = workforce.shared_project(db, project_id=data.project_id)
    return _adjustment(
        db, org_id=project.org_id, worker_id=worker_id, data=data, project_id=project.id
    )


def _adjustment(
    db: Session,
    *,
    org_id: str,
    worker_id: str,
    data: AdjustmentCreate,
    project_id: str | None = None,
) -> LedgerEntry:
    if data.assignment_id is not None:
        assignment = select(Assignment.worker_id).where(
            Assignment.id == data.assignment_id, Assignment.org_id == org_id
        )
        if project_id is not None:
            assignment = assignment.where(Assignment.project_id == project_id)
        if db.scalar(assignment) != worker_id:
            raise NotFound(f"no assignment {data.assignment_id!r} of this worker")
    entry = LedgerEntry(
        org_id=org_id,
        worker_id=worker_id,
        kind=data.kind,
        cents=data.cents if data.kind == "bonus" else -data.cents,
        assignment_id=data.assignment_id,
        note=data.note,
    )
    db.add(entry)
    db.flush()
    return entry


def earnings(db: Session, *, worker_id: str) -> EarningsRead:
    """A worker's sums over every organization they worked for, and their latest entries."""
    pending, balance, paid = db.execute(
        select(
            func.coalesce(func.sum(case((LedgerEntry.kind == "pending", LedgerEntry.cents))), 0),
            func.coalesce(func.sum(case((LedgerEntry.kind != "pending", LedgerEntry.cents))), 0),
            func.coalesce(func.sum(case((LedgerEntry.kind == "payout", -LedgerEntry.cents))), 0),
        ).where(LedgerEntry.worker_id == worker_id)
    ).one()
    entries = db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.worker_id == worker_id)
        .order_by(LedgerEntry.id.desc())
        .limit(RECENT_ENTRIES)
    )
    return EarningsRead(
        pending_cents=pending,
        balance_cents=balance,
        paid_cents=paid,
        entries=[LedgerEntryRead.model_validate(e) for e in entries],
    )


def worker_ledger(db: Session, *, org_id: str, worker_id: str) -> list[LedgerEntryRead]:
    """Every entry an organization's pool worker has with it, oldest first."""
    workforce.get_worker(db, org_id=org_id, worker_id=worker_id)
    entries = db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.org_id == org_id, LedgerEntry.worker_id == worker_id)
        .order_by(LedgerEntry.id)
    )
    return [LedgerEntryRead.model_validate(e) for e in entries]


def run_payouts(db: Session, *, org_id: str) -> PayoutRun:
    """Pay every worker of the organization's pool with a positive unsettled balance."""
    return _run(db, org_id=org_id, paid_by="organization")


def run_platform_payouts(db: Session) -> list[PayoutRun]:
    """Pay the public pool what each organization owes it: one run per organization owing."""
    owing = db.scalars(
        select(LedgerEntry.org_id)
        .join(Worker, Worker.id == LedgerEntry.worker_id)
        .where(
            Worker.pool_org_id.is_(None),
            LedgerEntry.kind.in_(PAYABLE_KINDS),
            ~_settled(),
        )
        .distinct()
        .order_by(LedgerEntry.org_id)
    ).all()
    return [_run(db, org_id=org_id, paid_by="platform") for org_id in owing]


def _settled() -> Exists:
    return (
        select(PayoutItem.ledger_entry_id)
        .where(PayoutItem.ledger_entry_id == LedgerEntry.id)
        .exists()
    )


def _run(db: Session, *, org_id: str, paid_by: str) -> PayoutRun:
    """Settle what the organization owes one pool (its own, or the public one for the
    platform); ledger and CSV in one transaction."""
    # One run per organization at a time: the organization row is the lock.
    db.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())
    pool = (
        Worker.pool_org_id == org_id if paid_by == "organization" else Worker.pool_org_id.is_(None)
    )
    unsettled = db.execute(
        select(LedgerEntry.id, LedgerEntry.worker_id, LedgerEntry.cents)
        .join(Worker, Worker.id == LedgerEntry.worker_id)
        .where(
            LedgerEntry.org_id == org_id,
            LedgerEntry.kind.in_(PAYABLE_KINDS),
            pool,
            ~_settled(),
        )
        .order_by(LedgerEntry.id)
    ).all()
    by_worker: dict[str, list[tuple[str, int]]] = {}
    for entry_id, worker_id, cents in unsettled:
        by_worker.setdefault(worker_id, []).append((entry_id, cents))
    payable = {
        worker_id: entries
        for worker_id, entries in by_worker.items()
        if sum(cents for _, cents in entries) > 0
    }
    workers = {w.id: w for w in db.scalars(select(Worker).where(Worker.id.in_(payable)))}
    run = PayoutRun(
        org_id=org_id, paid_by=paid_by, total_cents=0, worker_count=len(payable), csv=""
    )
    db.add(run)
    db.flush()
    rows: list[list[Cell]] = []
    for worker_id in sorted(payable):
        entries = payable[worker_id]
        amount = sum(cents for _, cents in entries)
        run.total_cents += amount
        worker = workers[worker_id]
        rows.append(
            [
                run.id,
                worker_id,
                worker.email,
                worker.name,
                amount,
                Decimal(amount).scaleb(-2),
                len(entries),
            ]
        )
        db.add(
            LedgerEntry(
                org_id=org_id,
                worker_id=worker_id,
                kind="payout",
                cents=-amount,
                payout_run_id=run.id,
                note=f"payout run {run.id}",
            )
        )
        db.add_all(PayoutItem(ledger_entry_id=e, payout_run_id=run.id) for e, _ in entries)
    run.csv = csv_text(PAYOUT_CSV_HEADER, rows)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("another payout run settled these entries; run again") from None
    return run


def _runs(org_id: str | None) -> Select[tuple[PayoutRun]]:
    """The organization's own runs, or (``None``) every run the platform made."""
    if org_id is None:
        return select(PayoutRun).where(PayoutRun.paid_by == "platform")
    return select(PayoutRun).where(PayoutRun.org_id == org_id, PayoutRun.paid_by == "organization")


def list_payout_runs(db: Session, *, org_id: str | None) -> list[PayoutRunRead]:
    runs = db.scalars(_runs(org_id).order_by(PayoutRun.id.desc()))
    return [PayoutRunRead.model_validate(r) for r in runs]


def get_payout_run(db: Session, *, org_id: str | None, run_id: str) -> PayoutRun:
    run = db.scalar(_runs(org_id).where(PayoutRun.id == run_id))
    if run is None:
        raise NotFound(f"no payout run {run_id!r}")
    return run


def payout_csv(run: PayoutRun) -> str:
    """The run's CSV as written with the run, its workers' names and emails neutralized for
    spreadsheets (a run stored before that was done is neutralized here)."""
    return neutralized_csv(run.csv, numeric_columns=PAYOUT_CSV_NUMBERS)


def claw_back(db: Session, *, assignment_ids: list[str], note: str) -> None:
    """Take back the pay of rejected responses: drop what is pending, claw back what was earned."""
    rows = db.execute(
        select(
            LedgerEntry.assignment_id,
            LedgerEntry.org_id,
            LedgerEntry.worker_id,
            func.sum(case((LedgerEntry.kind == "pending", LedgerEntry.cents), else_=0)),
            func.sum(
                case((LedgerEntry.kind.in_(("earned", "clawback")), LedgerEntry.cents), else_=0)
            ),
        )
        .where(LedgerEntry.assignment_id.in_(assignment_ids))
        .group_by(LedgerEntry.assignment_id, LedgerEntry.org_id, LedgerEntry.worker_id)
    ).all()
    for assignment_id, org_id, worker_id, pending, earned in rows:
        common = {"org_id": org_id, "worker_id": worker_id, "assignment_id": assignment_id}
        if pending > 0:
            db.add(LedgerEntry(kind="pending", cents=-pending, note=note, **common))
        if earned > 0:
            db.add(LedgerEntry(kind="clawback", cents=-earned, note=note, **common))
