"""Workers, their login tokens, qualifications, and the rules of who may work on a project."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class Worker(Base):
    """A contractor of the workforce, in an organization's private pool or in the public pool."""

    __tablename__ = "worker"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    pool_org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(20), default="en")
    languages: Mapped[list[Any]] = mapped_column(default=list)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(10), default="active")
    # worker labels; reviewer may also take review work (on projects whose qualification they hold)
    role: Mapped[str] = mapped_column(String(10), default="worker", server_default="worker")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerToken(Base):
    """A login session or an invitation; only the SHA-256 digest of its secret is stored."""

    __tablename__ = "worker_token"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Qualification(Base):
    """A skill an organization requires on some projects, earned by a test or granted."""

    __tablename__ = "qualification"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    task_type: Mapped[str | None] = mapped_column(String(40))
    pass_mark: Mapped[float] = mapped_column(Float, default=1.0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualificationTestItem(Base):
    """One question of a qualification test: task params and the known right answer."""

    __tablename__ = "qualification_test_item"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    qualification_id: Mapped[str] = mapped_column(
        ForeignKey("qualification.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    params: Mapped[dict[str, Any]]
    gold: Mapped[dict[str, Any]]


class WorkerQualification(Base):
    """A worker's standing on a qualification: attempts, last score, granted or revoked."""

    __tablename__ = "worker_qualification"

    worker_id: Mapped[str] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
    )
    qualification_id: Mapped[str] = mapped_column(
        ForeignKey("qualification.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_score: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(10))
    granted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ProjectWorkforce(Base):
    """How a project is staffed: who may work on it and how long a lease lasts."""

    __tablename__ = "project_workforce"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    access: Mapped[str] = mapped_column(String(10), default="members")
    lease_seconds: Mapped[int] = mapped_column(default=600)
    # A task that this many distinct workers skip as broken fails (status ``error``).
    broken_reports_to_fail: Mapped[int] = mapped_column(default=3, server_default="3")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProjectQualification(Base):
    """A qualification every worker on the project must hold."""

    __tablename__ = "project_qualification"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    qualification_id: Mapped[str] = mapped_column(
        ForeignKey("qualification.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProjectMember(Base):
    """A worker explicitly allowed on a project."""

    __tablename__ = "project_member"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
