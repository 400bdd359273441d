"""Figures about an organization's tasks for its dashboard: progress per state, throughput.

Aggregated in SQL (one GROUP BY each), so the pages stay fast on projects with many tasks.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from quorum.tasks.models import TASK_STATUSES, Task


@dataclass(frozen=True)
class Progress:
    """Task counts per state of one project."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done_fraction(self) -> float:
        finished = self.counts["completed"] + self.counts["canceled"] + self.counts["error"]
        return finished / self.total if self.total else 0.0


def project_progress(db: Session, *, org_id: str) -> dict[str, Progress]:
    """Per project id, how many of its tasks are in each state (every state listed, even at 0).

    Gold tasks imported by quality (status ``gold``) are the operator's, not the customer's work.
    """
    counts: dict[str, dict[str, int]] = {}
    rows = db.execute(
        select(Task.project_id, Task.status, func.count())
        .where(Task.org_id == org_id, Task.status.in_(TASK_STATUSES))
        .group_by(Task.project_id, Task.status)
    )
    for project_id, status, count in rows:
        counts.setdefault(project_id, dict.fromkeys(TASK_STATUSES, 0))[status] = count
    return {project_id: Progress(c) for project_id, c in counts.items()}


@dataclass(frozen=True)
class Bucket:
    start: datetime
    completed: int


def throughput(
    db: Session,
    *,
    org_id: str,
    project_id: str,
    buckets: int = 24,
    bucket: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> list[Bucket]:
    """Tasks completed per time bucket, oldest first, ending with the bucket holding ``now``."""
    seconds = int(bucket.total_seconds())
    now = now or datetime.now(UTC)
    last = int(now.timestamp()) // seconds
    first = last - buckets + 1
    since = datetime.fromtimestamp(first * seconds, UTC)
    if db.get_bind().dialect.name == "postgresql":
        epoch = func.extract("epoch", Task.completed_at)
    else:
        epoch = cast(func.strftime("%s", Task.completed_at), Integer)
    index = cast(func.floor(epoch / seconds), Integer)
    rows = db.execute(
        select(index, func.count())
        .where(
            Task.org_id == org_id,
            Task.project_id == project_id,
            Task.completed_at.is_not(None),
            Task.completed_at >= since,
        )
        .group_by(index)
    )
    per_index = {int(i): n for i, n in rows}
    return [
        Bucket(datetime.fromtimestamp(i * seconds, UTC), per_index.get(i, 0))
        for i in range(first, last + 1)
    ]
