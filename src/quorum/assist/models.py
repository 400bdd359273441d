"""Model backends of an organization, the pre-labels they suggested, the ratings they gave as
automatic raters (kept apart from human responses), and the active-learning model of each project
that opted in."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
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


class ActiveLearningModel(Base):
    """A project's in-tree text classifier, trained on its completed tasks.

    The fitted scikit-learn pipeline is pickled into the database (not a file under the home
    directory) so that every server sharing the database serves and trains the same model.
    """

    __tablename__ = "active_learning_model"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    backend_id: Mapped[str] = mapped_column(
        ForeignKey("model_backend.id", ondelete="CASCADE"), index=True
    )
    order_queue: Mapped[bool] = mapped_column(default=False)
    retrain_every: Mapped[int] = mapped_column(default=20)
    min_labels: Mapped[int] = mapped_column(default=10)
    model: Mapped[bytes | None] = mapped_column(LargeBinary)
    classes: Mapped[list[Any]] = mapped_column(default=list)
    # Completed tasks counted at the last training attempt (a fit needs two categories).
    trained_on: Mapped[int] = mapped_column(default=0)
    trained_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
