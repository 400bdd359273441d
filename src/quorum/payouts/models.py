"""Pay rates, the append-only ledger of earnings, and payout runs."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow

# pending: earned on submit, not yet payable (reversed when it becomes earned or is dropped);
# earned, bonus, clawback: the payable balance; payout: money sent (negative).
PAYABLE_KINDS = ("earned", "bonus", "clawback")


class ProjectPayRate(Base):
    """What a project pays per submitted response, in cents."""

    __tablename__ = "project_pay_rate"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    cents: Mapped[int]


class TaskTypePayRate(Base):
    """An organization's default rate for a task type, used where a project sets none."""

    __tablename__ = "task_type_pay_rate"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    task_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    cents: Mapped[int]


class LedgerEntry(Base):
    """One movement of a worker's money owed by one organization; never updated or deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_org_id_worker_id", "org_id", "worker_id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    cents: Mapped[int]
    # The assignment paid for. Not a foreign key: checking one locked the assignment row its
    # submit had just updated, which cost PostgreSQL more than the rest of writing the entry
    # (0.38 of 1.0 ms of its CPU per next + submit cycle). Earned money is history: deleting
    # the work it paid for detaches the entry (ownership.delete_project), never drops it.
    assignment_id: Mapped[str | None] = mapped_column(IdType, index=True)
    payout_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("payout_run.id", ondelete="CASCADE")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutRun(Base):
    """One payment run of an organization; its CSV is stored with it, in the same transaction."""

    __tablename__ = "payout_run"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # organization: the organization pays its private pool; platform: the platform's staff pay
    # the public pool what this organization owes it.
    paid_by: Mapped[str] = mapped_column(
        String(12), default="organization", server_default="organization"
    )
    total_cents: Mapped[int]
    worker_count: Mapped[int]
    csv: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutItem(Base):
    """A payable entry settled by a run: the primary key makes paying it twice impossible."""

    __tablename__ = "payout_item"

    ledger_entry_id: Mapped[str] = mapped_column(
        ForeignKey("ledger_entry.id", ondelete="CASCADE"), primary_key=True
    )
    payout_run_id: Mapped[str] = mapped_column(
        ForeignKey("payout_run.id", ondelete="CASCADE"), index=True
    )
