"""Model backends of an organization, the pre-labels they suggested and the ratings they gave
as automatic raters (kept apart from human responses)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quorum.db.base import Base, IdType, new_id, utcnow


class ModelBackendConfig(Base):
    __tablename__ = "model_backend"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelAnswer(Base):
    """A backend's answer to a task: a pre-label shown to workers, or an automatic rating."""

    __tablename__ = "model_answer"
    __table_args__ = (UniqueConstraint("task_id", "backend_id", "role"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    backend_id: Mapped[str] = mapped_column(
        ForeignKey("model_backend.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    response: Mapped[dict[str, Any]]
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
