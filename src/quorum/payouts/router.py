"""Pay endpoints: an organization's admins set rates, adjust and pay their private pool; platform
operators pay the public pool and adjust its pay on shared projects; workers read their earnings."""

from typing import Annotated

from fastapi import APIRouter, Response

from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.deps import PathName, SessionDep, WorkerDep, authorize, authorize_staff
from quorum.payouts import policy, service
from quorum.payouts.models import PayoutRun
from quorum.payouts.schemas import (
    AdjustmentCreate,
    EarningsRead,
    LedgerEntryRead,
    PayoutRunRead,
    PayRateSet,
    PayRatesRead,
    SharedAdjustmentCreate,
)

operator_router = APIRouter(prefix="/v1", tags=["pay (operators)"])
worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
staff_router = APIRouter(prefix="/v1/staff", tags=["platform staff"])
PayReader = Annotated[Caller, authorize(policy.read_pay)]
PayManager = Annotated[Caller, authorize(policy.manage_pay)]
PlatformPayManager = Annotated[StaffCaller, authorize_staff(policy.manage_platform_pay)]


@operator_router.put("/projects/{name}/pay-rate", response_model=PayRatesRead)
def set_project_rate(
    name: PathName, data: PayRateSet, caller: PayManager, db: SessionDep
) -> PayRatesRead:
    """Cents paid per accepted response on this project."""
    service.set_project_rate(db, org_id=caller.org_id, project=name, cents=data.cents)
    return service.pay_rates(db, org_id=caller.org_id)


@operator_router.put("/pay-rates/{task_type}", response_model=PayRatesRead)
def set_task_type_rate(
    task_type: str, data: PayRateSet, caller: PayManager, db: SessionDep
) -> PayRatesRead:
    """Default cents per response of a task type, for projects without their own rate."""
    service.set_task_type_rate(db, org_id=caller.org_id, task_type=task_type, cents=data.cents)
    return service.pay_rates(db, org_id=caller.org_id)


@operator_router.get("/pay-rates", response_model=PayRatesRead)
def pay_rates(caller: PayReader, db: SessionDep) -> PayRatesRead:
    return service.pay_rates(db, org_id=caller.org_id)


@operator_router.post("/workers/{worker_id}/adjustments", response_model=LedgerEntryRead)
def adjust(
    worker_id: str, data: AdjustmentCreate, caller: PayManager, db: SessionDep
) -> LedgerEntryRead:
    """Add a bonus or a clawback to a worker's ledger."""
    entry = service.adjust(db, org_id=caller.org_id, worker_id=worker_id, data=data)
    caller.created(ledger_entry_id=entry.id)
    return LedgerEntryRead.model_validate(entry)


@operator_router.get("/workers/{worker_id}/ledger", response_model=list[LedgerEntryRead])
def worker_ledger(worker_id: str, caller: PayReader, db: SessionDep) -> list[LedgerEntryRead]:
    return service.worker_ledger(db, org_id=caller.org_id, worker_id=worker_id)


@operator_router.post("/payouts", response_model=PayoutRunRead)
def run_payouts(caller: PayManager, db: SessionDep) -> PayoutRunRead:
    """Pay every positive unsettled balance of the private pool; an entry is never paid twice."""
    run = service.run_payouts(db, org_id=caller.org_id)
    caller.created(payout_run_id=run.id)
    return PayoutRunRead.model_validate(run)


@operator_router.get("/payouts", response_model=list[PayoutRunRead])
def list_payouts(caller: PayReader, db: SessionDep) -> list[PayoutRunRead]:
    return service.list_payout_runs(db, org_id=caller.org_id)


@operator_router.get(
    "/payouts/{run_id}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def payout_csv(run_id: str, caller: PayReader, db: SessionDep) -> Response:
    """The run's CSV (one row per worker paid), as written with the run; cells a worker chose
    never start a spreadsheet formula."""
    return _csv(service.get_payout_run(db, org_id=caller.org_id, run_id=run_id))


def _csv(run: PayoutRun) -> Response:
    return Response(
        service.payout_csv(run),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payout-{run.id}.csv"'},
    )


@worker_router.get("/earnings", response_model=EarningsRead)
def my_earnings(worker: WorkerDep, db: SessionDep) -> EarningsRead:
    """My pending pay, balance owed, total paid, and latest ledger entries."""
    return service.earnings(db, worker_id=worker.id)


@staff_router.post("/workers/{worker_id}/adjustments", response_model=LedgerEntryRead)
def adjust_shared(
    worker_id: str, data: SharedAdjustmentCreate, staff: PlatformPayManager, db: SessionDep
) -> LedgerEntryRead:
    """A bonus or clawback for a public-pool worker's work on a shared project."""
    entry = service.adjust_shared(db, worker_id=worker_id, data=data)
    staff.acting_on(entry.org_id)
    staff.created(ledger_entry_id=entry.id)
    return LedgerEntryRead.model_validate(entry)


@staff_router.post("/payouts", response_model=list[PayoutRunRead])
def run_platform_payouts(staff: PlatformPayManager, db: SessionDep) -> list[PayoutRunRead]:
    """Pay the public pool: one run per organization owing it; no entry is paid twice."""
    runs = service.run_platform_payouts(db)
    staff.created(payout_run_ids=",".join(run.id for run in runs))
    return [PayoutRunRead.model_validate(run) for run in runs]


@staff_router.get("/payouts", response_model=list[PayoutRunRead])
def list_platform_payouts(staff: PlatformPayManager, db: SessionDep) -> list[PayoutRunRead]:
    return service.list_payout_runs(db, org_id=None)


@staff_router.get(
    "/payouts/{run_id}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def platform_payout_csv(run_id: str, staff: PlatformPayManager, db: SessionDep) -> Response:
    return _csv(service.get_payout_run(db, org_id=None, run_id=run_id))
