"""I/O models for pay rates, ledger entries, earnings and payout runs."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LedgerKind = Literal["pending", "earned", "bonus", "clawback", "payout"]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayRateSet(Write):
    cents: int = Field(ge=0, le=1_000_000)


class PayRatesRead(BaseModel):
    projects: dict[str, int]
    task_types: dict[str, int]


class AdjustmentCreate(Write):
    """A bonus (paid on top) or a clawback (taken back); ``cents`` is always positive."""

    kind: Literal["bonus", "clawback"]
    cents: int = Field(gt=0, le=10_000_000)
    note: str = Field(min_length=1, max_length=2000)
    assignment_id: str | None = None


class SharedAdjustmentCreate(AdjustmentCreate):
    """A platform operator's bonus or clawback for a public-pool worker's work on a project shared
    with the pool; the project's organization owes it, like the work itself."""

    project_id: str


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: LedgerKind
    cents: int
    assignment_id: str | None
    payout_run_id: str | None
    note: str
    created_at: datetime


class EarningsRead(BaseModel):
    """Balances are sums of the ledger: ``balance_cents`` is owed now, pending awaits completion."""

    pending_cents: int
    balance_cents: int
    paid_cents: int
    entries: list[LedgerEntryRead]


class PayoutRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    paid_by: Literal["organization", "platform"]
    total_cents: int
    worker_count: int
    created_at: datetime
