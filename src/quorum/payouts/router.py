"""Pay endpoints: operators set rates, adjust, and run payouts; workers read their earnings."""

from typing import Annotated

from fastapi import APIRouter, Response

from quorum.accounts.schemas import Caller
from quorum.api.deps import PathName, SessionDep, WorkerDep, authorize
from quorum.payouts import policy, service
from quorum.payouts.schemas import (
    AdjustmentCreate,
    EarningsRead,
    LedgerEntryRead,
    PayoutRunRead,
    PayRateSet,
    PayRatesRead,
)

operator_router = APIRouter(prefix="/v1", tags=["pay (operators)"])
worker_router = APIRouter(prefix="/v1/worker", tags=["worker API"])
PayReader = Annotated[Caller, authorize(policy.read_pay)]
PayManager = Annotated[Caller, authorize(policy.manage_pay)]


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
    return LedgerEntryRead.model_validate(entry)


@operator_router.get("/workers/{worker_id}/ledger", response_model=list[LedgerEntryRead])
def worker_ledger(worker_id: str, caller: PayReader, db: SessionDep) -> list[LedgerEntryRead]:
    return service.worker_ledger(db, org_id=caller.org_id, worker_id=worker_id)


@operator_router.post("/payouts", response_model=PayoutRunRead)
def run_payouts(caller: PayManager, db: SessionDep) -> PayoutRunRead:
    """Pay every positive unsettled balance; an entry is never paid twice."""
    return PayoutRunRead.model_validate(service.run_payouts(db, org_id=caller.org_id))


@operator_router.get("/payouts", response_model=list[PayoutRunRead])
def list_payouts(caller: PayReader, db: SessionDep) -> list[PayoutRunRead]:
    return service.list_payout_runs(db, org_id=caller.org_id)


@operator_router.get(
    "/payouts/{run_id}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def payout_csv(run_id: str, caller: PayReader, db: SessionDep) -> Response:
    """The run's CSV (one row per worker paid), as written with the run."""
    run = service.get_payout_run(db, org_id=caller.org_id, run_id=run_id)
    return Response(
        run.csv,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payout-{run.id}.csv"'},
    )


@worker_router.get("/earnings", response_model=EarningsRead)
def my_earnings(worker: WorkerDep, db: SessionDep) -> EarningsRead:
    """My pending pay, balance owed, total paid, and latest ledger entries."""
    return service.earnings(db, worker_id=worker.id)
