"""Quality: gold tasks, consolidation with per-field confidence, worker trust, and metrics.

Trust is a Beta posterior: a Beta(3, 1) prior, each gold result counted in full and the
Dawid-Skene estimate counted at half weight per label (it is inferred, not known). A worker is
paused on a project once, after enough scored work, that posterior makes it very likely
(``PAUSE_CONFIDENCE``) that their accuracy is under the project's threshold: their leases end and
their answers on unfinished tasks are discarded, so the room returns.
"""

import random
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np
from pydantic import ValidationError
from scipy.special import betainc
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from quorum.db import transaction_memo, utcnow
from quorum.db.among import among
from quorum.db.rows import InsertRows
from quorum.dispatch.models import Assignment
from quorum.errors import Conflict, Invalid, NotFound, invalid_from_validation
from quorum.payouts import service as payouts
from quorum.quality import aggregation
from quorum.quality.models import (
    GoldResult,
    GoldTask,
    ProjectQuality,
    TaskConfidence,
    WorkerTrust,
)
from quorum.quality.schemas import (
    AgreementBin,
    ConfusionRead,
    GoldCreate,
    GoldRead,
    ProjectMetricsRead,
    QualitySettingsRead,
    QualitySettingsUpdate,
    WorkerQualityRead,
)
from quorum.tasks import service as tasks
from quorum.tasks.models import Project, Task
from quorum.tasktypes import get_task_type
from quorum.workforce.models import Qualification

PRIOR_RIGHT, PRIOR_WRONG = 3.0, 1.0
EM_EVIDENCE_WEIGHT = 0.5
# A worker is paused when their accuracy is under the threshold with at least this posterior
# probability: a mean under it is not enough, since a fair worker's first answers often look bad.
PAUSE_CONFIDENCE = 0.9
# Re-fit a project's Dawid-Skene model after this many completions.
REFIT_EVERY = 20
# Each row of a worker's fitted confusion matrix is blended with this many labels' worth of their
# one-coin trust when judging a single task, so that few answers cannot make it overconfident.
CONFUSION_PRIOR_LABELS = 10
GOLD_PASS_SCORE = 0.5
# A gold task is drawn among this many the worker has not seen yet.
GOLD_CHOICES = 50
CONFIDENCE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_gold_draw = random.Random()


# Settings


def _insert_if_missing(db: Session, model: type[Any], values: dict[str, Any]) -> None:
    """Insert a row unless its key exists: concurrent transactions may race to create it."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(insert(model).values(**values).on_conflict_do_nothing())


_DEFAULTS_SEEN = "quality.defaults"


def _stored_settings(db: Session, *, project_id: str) -> ProjectQuality:
    """The project's settings row, created with the defaults if it was never configured."""
    if db.get(ProjectQuality, project_id) is None:
        defaults = settings_for(db, project_id=project_id)
        _insert_if_missing(
            db,
            ProjectQuality,
            {
                column.key: getattr(defaults, column.key)
                for column in ProjectQuality.__table__.columns
                if column.key != "updated_at"
            },
        )
    # From now on the row answers, not the defaults remembered while it was missing.
    transaction_memo(db, _DEFAULTS_SEEN).pop(project_id, None)
    return db.get_one(ProjectQuality, project_id)


def settings_for(db: Session, *, project_id: str) -> ProjectQuality:
    """The project's quality settings; defaults (no gold, fixed redundancy) until configured."""
    remembered = transaction_memo(db, _DEFAULTS_SEEN).get(project_id)
    if remembered is not None:
        return remembered
    found = db.get(ProjectQuality, project_id)
    if found is not None:
        return found
    return settings_of(db, project=db.get_one(Project, project_id), stored=None)


def settings_of(db: Session, *, project: Project, stored: ProjectQuality | None) -> ProjectQuality:
    """The settings of a project whose settings row (or its absence) the caller just loaded.

    Defaults are remembered for the transaction, so that ``settings_for`` asks the database no
    more (a submit asks several times, and an absent row, unlike a present one, is not kept in the
    session's identity map).
    """
    if stored is not None:
        return stored
    remembered = transaction_memo(db, _DEFAULTS_SEEN)
    if project.id not in remembered:
        remembered[project.id] = ProjectQuality(
            project_id=project.id,
            org_id=project.org_id,
            gold_rate=0.0,
            consolidation="dawid_skene",
            confidence_target=0.0,
            max_responses=project.required_responses,
            trust_threshold=0.0,
            trust_min_scored=10,
            review_levels=0,
            reviewer_qualification_id=None,
            model={},
        )
    return remembered[project.id]


def _settings_read(db: Session, project: Project, found: ProjectQuality) -> QualitySettingsRead:
    qualification = (
        db.get(Qualification, found.reviewer_qualification_id)
        if found.reviewer_qualification_id
        else None
    )
    return QualitySettingsRead(
        project=project.name,
        gold_rate=found.gold_rate,
        consolidation=found.consolidation,  # type: ignore[arg-type]
        confidence_target=found.confidence_target,
        max_responses=found.max_responses,
        trust_threshold=found.trust_threshold,
        trust_min_scored=found.trust_min_scored,
        review_levels=found.review_levels,
        reviewer_qualification=qualification.name if qualification else None,
    )


def project_settings(db: Session, *, org_id: str, project: str) -> QualitySettingsRead:
    found = tasks.get_project(db, org_id=org_id, name=project)
    return _settings_read(db, found, settings_for(db, project_id=found.id))


def configure(
    db: Session, *, org_id: str, project: str, data: QualitySettingsUpdate
) -> QualitySettingsRead:
    """Change a project's gold rate, redundancy, trust threshold or review levels."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    current = _stored_settings(db, project_id=found.id)
    changes = data.model_dump(exclude_unset=True)
    if "reviewer_qualification" in changes:
        name = changes.pop("reviewer_qualification")
        qualification_id = None
        if name is not None:
            qualification_id = db.scalar(
                select(Qualification.id).where(
                    Qualification.org_id == org_id, Qualification.name == name
                )
            )
            if qualification_id is None:
                raise NotFound(f"no qualification named {name!r}", field="reviewer_qualification")
        current.reviewer_qualification_id = qualification_id
    for field, value in changes.items():
        if value is not None:
            setattr(current, field, value)
    if current.review_levels > 0 and current.reviewer_qualification_id is None:
        raise Invalid(
            "review_levels needs a reviewer_qualification: reviewers are the workers holding it",
            field="reviewer_qualification",
        )
    if current.max_responses < found.required_responses:
        raise Invalid(
            f"max_responses must be at least the project's required_responses "
            f"({found.required_responses}), got {current.max_responses}",
            field="max_responses",
        )
    db.flush()
    return _settings_read(db, found, current)


# Gold tasks


def _gold_read(db: Session, gold: GoldTask, project_name: str) -> GoldRead:
    served, mean_score = db.execute(
        select(func.count(), func.avg(GoldResult.score)).where(GoldResult.gold_task_id == gold.id)
    ).one()
    status = db.scalar(select(Task.status).where(Task.id == gold.task_id))
    return GoldRead(
        id=gold.id,
        task_id=gold.task_id,
        project=project_name,
        imported=status == "gold",
        answer=gold.answer,
        served=served,
        mean_score=mean_score,
        created_at=gold.created_at,
    )


def _parse_answer(kind_name: str, params: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    kind = get_task_type(kind_name)
    try:
        parsed = kind.parse_response(kind.Params.model_validate(params), answer)
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix="answer.") from None
    return parsed.model_dump(mode="json", exclude_none=True)


def create_gold(db: Session, *, org_id: str, project: str, data: GoldCreate) -> GoldRead:
    """Mark a completed task as gold, or import a new one with its answer."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    if data.task_id is not None:
        task = tasks.get_task(db, org_id=org_id, task_id=data.task_id)
        if task.project_id != found.id:
            raise NotFound(f"no task {data.task_id!r} in project {project!r}", field="task_id")
        if task.status != "completed":
            raise Invalid(
                f"task {task.id} is {task.status}; only a completed task can become gold",
                field="task_id",
            )
        raw = data.answer or {k: v for k, v in (task.response or {}).items() if k != "confidence"}
        answer = _parse_answer(task.type, task.params, raw)
    else:
        task = tasks.create_task(
            db,
            org_id=org_id,
            task_type=found.type,
            body={"project": found.name, "instruction": data.instruction, **(data.params or {})},
        )
        answer = _parse_answer(task.type, task.params, data.answer or {})
        task.status = "gold"
    if db.scalar(select(GoldTask.id).where(GoldTask.task_id == task.id)) is not None:
        raise Conflict(f"task {task.id} is already gold")
    gold = GoldTask(org_id=org_id, project_id=found.id, task_id=task.id, answer=answer)
    db.add(gold)
    db.flush()
    return _gold_read(db, gold, found.name)


def list_gold(db: Session, *, org_id: str, project: str) -> list[GoldRead]:
    found = tasks.get_project(db, org_id=org_id, name=project)
    golds = db.scalars(
        select(GoldTask).where(GoldTask.project_id == found.id).order_by(GoldTask.id)
    )
    return [_gold_read(db, gold, found.name) for gold in golds]


def pick_gold(db: Session, *, worker_id: str, project_ids: list[str]) -> tuple[Task, str] | None:
    """At each project's gold rate, a gold task the worker has not seen (with its project name)."""
    rates = dict(
        db.execute(
            select(ProjectQuality.project_id, ProjectQuality.gold_rate).where(
                ProjectQuality.project_id.in_(project_ids), ProjectQuality.gold_rate > 0
            )
        ).all()
    )
    drawn = [p for p, rate in rates.items() if _gold_draw.random() < rate]
    if not drawn:
        return None
    seen = (
        select(Assignment.id)
        .where(Assignment.task_id == GoldTask.task_id, Assignment.worker_id == worker_id)
        .exists()
    )
    unseen = db.scalars(
        select(GoldTask.task_id)
        .where(GoldTask.project_id.in_(drawn), ~seen)
        .order_by(GoldTask.id)
        .limit(GOLD_CHOICES)
    ).all()
    if not unseen:
        return None
    task = db.get_one(Task, _gold_draw.choice(unseen))
    project_name = db.scalar(select(Project.name).where(Project.id == task.project_id))
    return task, project_name or ""


def gold_for_task(db: Session, *, task_id: str) -> GoldTask | None:
    return db.scalar(select(GoldTask).where(GoldTask.task_id == task_id))


def record_gold_result(
    db: Session, *, gold: GoldTask, assignment: Assignment, task_type: str
) -> float:
    """Score a worker's answer on a gold task and update their trust; returns the score."""
    kind = get_task_type(task_type)
    score = kind.score(
        kind.Response.model_validate(assignment.response),
        kind.Response.model_validate(gold.answer),
    )
    db.add(
        GoldResult(
            org_id=gold.org_id,
            project_id=gold.project_id,
            gold_task_id=gold.id,
            worker_id=assignment.worker_id,
            assignment_id=assignment.id,
            score=score,
        )
    )
    trust = _trust_row(db, project_id=gold.project_id, worker_id=assignment.worker_id)
    trust.gold_scored += 1
    trust.gold_score_sum += score
    _refresh_trust(db, trust, settings_for(db, project_id=gold.project_id))
    return score


# Worker trust


def _trust_row(db: Session, *, project_id: str, worker_id: str) -> WorkerTrust:
    transaction_memo(db, _TRUST_SEEN).pop((project_id, worker_id), None)
    row = db.get(WorkerTrust, (project_id, worker_id))
    if row is None:
        org_id = db.scalar(select(Project.org_id).where(Project.id == project_id))
        _insert_if_missing(
            db,
            WorkerTrust,
            {
                "project_id": project_id,
                "worker_id": worker_id,
                "org_id": org_id,
                "gold_scored": 0,
                "gold_score_sum": 0.0,
                "em_labels": 0,
                "trust": beta_trust(),
                "scored_at_reinstatement": 0,
                "updated_at": utcnow(),
            },
        )
        row = db.get_one(WorkerTrust, (project_id, worker_id))
    return row


_TRUST_SEEN = "quality.trust"


def trust_loaded(db: Session, *, project_id: str, worker_id: str, row: WorkerTrust | None) -> None:
    """Note the worker's trust record on the project (None: they have none yet), which the caller
    just loaded, so that consolidating in this transaction does not ask for it again."""
    transaction_memo(db, _TRUST_SEEN)[project_id, worker_id] = row


_TRUST_ROWS = select(WorkerTrust).where(
    among(WorkerTrust.project_id, "project_ids"),
    among(WorkerTrust.worker_id, "worker_ids"),
)


def _trust_rows_read_only(
    db: Session, *, project_id: str, worker_ids: list[str]
) -> list[WorkerTrust]:
    """The workers' records, unsaved defaults for newcomers: consolidating a task locks none
    of them, so completions of tasks that share workers never wait on each other."""
    _learn_trust(db, {(project_id, w) for w in worker_ids})
    seen = transaction_memo(db, _TRUST_SEEN)
    newcomer = {"trust": beta_trust(), "em_labels": 0, "confusion": None}
    return [seen[project_id, w] or WorkerTrust(worker_id=w, **newcomer) for w in worker_ids]


def _learn_trust(db: Session, pairs: set[tuple[str, str]]) -> None:
    """Note the trust records (or their absence) of these (project, worker) pairs that the
    transaction does not know yet, with one query for them all."""
    seen = transaction_memo(db, _TRUST_SEEN)
    unseen = pairs - seen.keys()
    if not unseen:
        return
    query = {
        "project_ids": list({p for p, _ in unseen}),
        "worker_ids": list({w for _, w in unseen}),
    }
    found = {(row.project_id, row.worker_id): row for row in db.scalars(_TRUST_ROWS, query)}
    for pair in unseen:
        seen[pair] = found.get(pair)


def trust_weights(db: Session, *, project_id: str, worker_ids: list[str]) -> dict[str, float]:
    """Each worker's trust on the project (gold and EM evidence); the prior for newcomers and 0
    for a worker paused there."""
    rows = _trust_rows_read_only(
        db, project_id=project_id, worker_ids=list(dict.fromkeys(worker_ids))
    )
    return {row.worker_id: 0.0 if row.paused_at is not None else row.trust for row in rows}


def _beta_posterior(
    gold_scored: int, gold_score_sum: float, em_accuracy: float | None, em_labels: int
) -> tuple[float, float]:
    """The (right, wrong) parameters of a worker's accuracy posterior."""
    em_weight = EM_EVIDENCE_WEIGHT * em_labels if em_accuracy is not None else 0.0
    right = PRIOR_RIGHT + gold_score_sum + em_weight * (em_accuracy or 0.0)
    wrong = PRIOR_WRONG + (gold_scored - gold_score_sum) + em_weight * (1 - (em_accuracy or 0.0))
    return right, wrong


def beta_trust(
    gold_scored: int = 0,
    gold_score_sum: float = 0.0,
    em_accuracy: float | None = None,
    em_labels: int = 0,
) -> float:
    """Posterior mean accuracy: Beta prior, gold results, and EM evidence at half weight."""
    right, wrong = _beta_posterior(gold_scored, gold_score_sum, em_accuracy, em_labels)
    return right / (right + wrong)


def pause_due(row: WorkerTrust, settings: ProjectQuality) -> bool:
    """Whether to pause this worker: enough work scored since any reinstatement, and accuracy
    under the project's threshold with probability ``PAUSE_CONFIDENCE`` under their posterior."""
    scored = row.gold_scored + row.em_labels - row.scored_at_reinstatement
    if row.paused_at is not None or scored < settings.trust_min_scored:
        return False
    right, wrong = _beta_posterior(
        row.gold_scored, row.gold_score_sum, row.em_accuracy, row.em_labels
    )
    return float(betainc(right, wrong, settings.trust_threshold)) > PAUSE_CONFIDENCE


def _refresh_trust(db: Session, row: WorkerTrust, settings: ProjectQuality) -> None:
    row.trust = beta_trust(row.gold_scored, row.gold_score_sum, row.em_accuracy, row.em_labels)
    if pause_due(row, settings):
        pause(db, project_id=row.project_id, worker_id=row.worker_id, row=row)


def pause(db: Session, *, project_id: str, worker_id: str, row: WorkerTrust | None = None) -> None:
    """Stop a worker on a project: leases end, answers on unfinished tasks go back as room."""
    row = row or _trust_row(db, project_id=project_id, worker_id=worker_id)
    row.paused_at = utcnow()
    db.execute(
        update(Assignment)
        .where(
            Assignment.project_id == project_id,
            Assignment.worker_id == worker_id,
            Assignment.state == "active",
        )
        .values(state="released", finished_at=utcnow())
    )
    unfinished = db.scalars(
        select(Assignment.id)
        .join(Task, Task.id == Assignment.task_id)
        .where(
            Assignment.project_id == project_id,
            Assignment.worker_id == worker_id,
            Assignment.state == "submitted",
            Task.status == "pending",
        )
    ).all()
    discard_responses(db, assignment_ids=list(unfinished), note="worker paused for low trust")


def discard_responses(db: Session, *, assignment_ids: list[str], note: str) -> None:
    """Reject submitted answers: their room returns to the queue and their pay is taken back."""
    if not assignment_ids:
        return
    db.execute(
        update(Assignment)
        .where(Assignment.id.in_(assignment_ids), Assignment.state == "submitted")
        .values(state="rejected")
    )
    payouts.claw_back(db, assignment_ids=assignment_ids, note=note)


def paused_project_ids(db: Session, *, worker_id: str, project_ids: list[str]) -> set[str]:
    """The projects among these on which the worker is paused."""
    return set(
        db.scalars(
            select(WorkerTrust.project_id).where(
                WorkerTrust.worker_id == worker_id,
                WorkerTrust.project_id.in_(project_ids),
                WorkerTrust.paused_at.is_not(None),
            )
        )
    )


def reinstate(db: Session, *, org_id: str, project: str, worker_id: str) -> WorkerQualityRead:
    """Lift a pause; the worker is judged again only after another minimum of scored work."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    row = db.get(WorkerTrust, (found.id, worker_id))
    if row is None or row.org_id != org_id:
        raise NotFound(f"no worker {worker_id!r} on project {project!r}")
    row.paused_at = None
    row.scored_at_reinstatement = row.gold_scored + row.em_labels
    db.flush()
    return _worker_quality_read(row, settings_for(db, project_id=found.id).model)


def _worker_quality_read(row: WorkerTrust, model: dict[str, Any]) -> WorkerQualityRead:
    confusion = None
    if row.confusion is not None and model.get("classes"):
        confusion = ConfusionRead(classes=model["classes"], matrix=row.confusion)
    return WorkerQualityRead(
        worker_id=row.worker_id,
        trust=row.trust,
        gold_scored=row.gold_scored,
        gold_accuracy=row.gold_score_sum / row.gold_scored if row.gold_scored else None,
        em_accuracy=row.em_accuracy,
        em_labels=row.em_labels,
        confusion=confusion,
        paused=row.paused_at is not None,
        paused_at=row.paused_at,
    )


def worker_quality(db: Session, *, org_id: str, project: str) -> list[WorkerQualityRead]:
    """Every worker's trust, gold record and confusion matrix on a project."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    model = settings_for(db, project_id=found.id).model
    rows = db.scalars(
        select(WorkerTrust).where(WorkerTrust.project_id == found.id).order_by(WorkerTrust.trust)
    )
    return [_worker_quality_read(row, model) for row in rows]


# Consolidation


@dataclass(frozen=True)
class Consolidated:
    """The answer to deliver (with its ``confidence`` per field), or a request for more work."""

    response: dict[str, Any]
    confidence: float
    needs_more: bool


def _single_category(params: dict[str, Any], responses: list[dict[str, Any]]) -> bool:
    return (
        params.get("categories") is not None
        and not params.get("allow_multiple")
        and all(isinstance(r.get("category"), str) for r in responses)
    )


def _category_posterior(
    settings: ProjectQuality,
    classes: list[str],
    answers: list[str],
    trust_rows: list[WorkerTrust],
) -> np.ndarray:
    """P(true class | answers): each worker's confusion matrix where fitted, else their trust."""
    model_classes = settings.model.get("classes", [])
    index = {c: i for i, c in enumerate(model_classes)}
    fitted = settings.consolidation == "dawid_skene" and all(c in index for c in classes)
    if fitted:
        columns = [index[c] for c in classes]
        priors = np.asarray(settings.model["priors"])[columns]
        priors = priors / priors.sum()
    else:
        priors = np.full(len(classes), 1.0 / len(classes))
    answer_index = np.array([classes.index(a) for a in answers])
    likelihoods = aggregation.one_coin_likelihoods(
        answer_index, np.array([row.trust for row in trust_rows]), len(classes)
    )
    if fitted:
        for i, (answer, row) in enumerate(zip(answers, trust_rows, strict=True)):
            if row.confusion is not None:
                fitted_column = np.asarray(row.confusion)[columns, index[answer]]
                per_class = row.em_labels / len(model_classes)
                weight = per_class / (per_class + CONFUSION_PRIOR_LABELS)
                likelihoods[i] = weight * fitted_column + (1 - weight) * likelihoods[i]
    return aggregation.item_posterior(priors, likelihoods)


def consolidate(
    db: Session, *, finished: list[tuple[Task, list[Assignment]]]
) -> list[Consolidated]:
    """Each task's answer from its responses, weighted by trust, with each field's confidence.

    When its least sure field is under the project's confidence target, and below its maximum,
    the task asks for one more response instead (adaptive redundancy). That least sure figure is
    also the task's recorded confidence, which metrics and the review queue read. The trust
    records and the confidences take one statement each for all the tasks (a dispatch round
    completes many at once).
    """
    _learn_trust(db, {(t.project_id, a.worker_id) for t, submitted in finished for a in submitted})
    outcomes = [_consolidate_one(db, task, submitted) for task, submitted in finished]
    now = utcnow()
    _RECORD_CONFIDENCE(
        db,
        [
            {
                "task_id": task.id,
                "project_id": task.project_id,
                "confidence": outcome.confidence,
                "responses": len(submitted),
                "updated_at": now,
            }
            for (task, submitted), outcome in zip(finished, outcomes, strict=True)
        ],
    )
    return outcomes


_confidence = TaskConfidence.__table__
# Whether or not the task had a confidence (a task asking for more responses is consolidated
# again with each), one statement writes it.
_RECORD_CONFIDENCE = InsertRows(
    _confidence,
    ["task_id", "project_id", "confidence", "responses", "updated_at"],
    finish=lambda statement: statement.on_conflict_do_update(
        index_elements=[_confidence.c.task_id],
        set_={n: statement.excluded[n] for n in ("confidence", "responses", "updated_at")},
    ),
)


def _consolidate_one(db: Session, task: Task, submitted: list[Assignment]) -> Consolidated:
    settings = settings_for(db, project_id=task.project_id)
    kind = get_task_type(task.type)
    trust_rows = _trust_rows_read_only(
        db, project_id=task.project_id, worker_ids=[a.worker_id for a in submitted]
    )
    raw = [a.response or {} for a in submitted]
    if _single_category(task.params, raw):
        classes = list(task.params["categories"])
        posterior = _category_posterior(settings, classes, [r["category"] for r in raw], trust_rows)
        best = int(posterior.argmax())
        confidence = float(posterior[best])
        response: dict[str, Any] = {
            "category": classes[best],
            "confidence": {"category": round(confidence, 6)},
        }
    else:
        parsed = [kind.Response.model_validate(r) for r in raw]
        weights = [row.trust for row in trust_rows]
        final = kind.consolidate(parsed, weights)
        fields = kind.confidence(kind.Params.model_validate(task.params), parsed, weights, final)
        # A task is as sure as its least sure field; a form left entirely empty has none.
        confidence = min(fields.values(), default=1.0)
        response = {
            **final.model_dump(mode="json", exclude_none=True),
            "confidence": {field: round(value, 6) for field, value in fields.items()},
        }
    needs_more = confidence < settings.confidence_target and len(submitted) < settings.max_responses
    if needs_more:
        task.required_responses = len(submitted) + 1
    return Consolidated(response=response, confidence=confidence, needs_more=needs_more)


def consolidation_lag(db: Session) -> dict[str, int]:
    """Per Dawid-Skene project, the completed tasks its last fit has not seen yet."""
    fitted = dict(
        db.execute(
            select(ProjectQuality.project_id, ProjectQuality.model).where(
                ProjectQuality.consolidation == "dawid_skene"
            )
        ).all()
    )
    if not fitted:
        return {}
    completed = db.execute(
        select(Task.project_id, func.count())
        .where(Task.project_id.in_(fitted), Task.status == "completed")
        .group_by(Task.project_id)
    ).all()
    return {
        project_id: count - (fitted[project_id] or {}).get("fitted_completed", 0)
        for project_id, count in completed
    }


def projects_due_for_refit(db: Session) -> list[str]:
    """Projects with ``REFIT_EVERY`` or more completions since their last Dawid-Skene fit.

    The fit reads every answer of a project and rewrites its workers' trust rows, so it runs in the
    background (``QualityRefitter``), never inside the submit that completed a task.
    """
    return [p for p, lag in consolidation_lag(db).items() if lag >= REFIT_EVERY]


def _categorical_answers(db: Session, *, project_id: str) -> list[tuple[str, str, str]]:
    """(task, worker, answer) of every live single-category answer on the project."""
    rows = db.execute(
        select(Assignment.task_id, Assignment.worker_id, Assignment.response)
        .join(Task, Task.id == Assignment.task_id)
        .where(
            Assignment.project_id == project_id,
            Assignment.state == "submitted",
            Task.type == "categorization",
        )
    ).all()
    return [
        (task_id, worker_id, response["category"])
        for task_id, worker_id, response in rows
        if isinstance((response or {}).get("category"), str)
    ]


def _as_labels(
    answers: list[tuple[str, str, str]], classes: list[str]
) -> tuple[aggregation.Labels, list[str], list[str]]:
    task_ids = sorted({t for t, _, _ in answers})
    worker_ids = sorted({w for _, w, _ in answers})
    task_index = {t: i for i, t in enumerate(task_ids)}
    worker_index = {w: i for i, w in enumerate(worker_ids)}
    class_index = {c: i for i, c in enumerate(classes)}
    labels = aggregation.Labels(
        tasks=np.array([task_index[t] for t, _, _ in answers], dtype=np.intp),
        workers=np.array([worker_index[w] for _, w, _ in answers], dtype=np.intp),
        labels=np.array([class_index[a] for _, _, a in answers], dtype=np.intp),
        n_tasks=len(task_ids),
        n_workers=len(worker_ids),
        n_classes=len(classes),
    )
    return labels, task_ids, worker_ids


def refit(db: Session, *, project_id: str) -> None:
    """Fit Dawid-Skene on all the project's category answers, gold clamped; update trust."""
    _stored_settings(db, project_id=project_id)
    # One re-fit of a project at a time; it then updates workers' rows in a fixed order.
    settings = db.scalars(
        select(ProjectQuality)
        .where(ProjectQuality.project_id == project_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if settings is None:  # another server is fitting this project right now
        return
    completed = db.scalar(
        select(func.count()).where(Task.project_id == project_id, Task.status == "completed")
    )
    settings.model = {**settings.model, "fitted_completed": completed or 0}
    answers = _categorical_answers(db, project_id=project_id)
    if not answers:
        return
    golds: dict[str, dict[str, Any]] = {
        task_id: answer
        for task_id, answer in db.execute(
            select(GoldTask.task_id, GoldTask.answer).where(GoldTask.project_id == project_id)
        )
    }
    classes = sorted({a for _, _, a in answers} | {g["category"] for g in golds.values()})
    labels, task_ids, worker_ids = _as_labels(answers, classes)
    task_index = {t: i for i, t in enumerate(task_ids)}
    gold = {
        task_index[t]: classes.index(g["category"]) for t, g in golds.items() if t in task_index
    }
    fit = aggregation.dawid_skene(labels, gold=gold)
    # One pseudo-task per class keeps a class the fit has not seen yet possible.
    priors = (fit.priors * labels.n_tasks + 1) / (labels.n_tasks + len(classes))
    settings.model = {
        "classes": classes,
        "priors": priors.round(6).tolist(),
        "fitted_completed": completed or 0,
    }
    accuracy = fit.worker_accuracy()
    counts = np.bincount(labels.workers, minlength=labels.n_workers)
    for w, worker_id in enumerate(worker_ids):
        row = _trust_row(db, project_id=project_id, worker_id=worker_id)
        row.em_accuracy = float(accuracy[w])
        row.em_labels = int(counts[w])
        row.confusion = fit.confusions[w].round(4).tolist()
        _refresh_trust(db, row, settings)


# Metrics


def _alpha(answers: list[tuple[str, str, str]]) -> tuple[float | None, int]:
    """Krippendorff's alpha (nominal) over tasks with two or more answers."""
    by_task: dict[str, list[str]] = {}
    for task_id, _, answer in answers:
        by_task.setdefault(task_id, []).append(answer)
    classes = sorted({a for _, _, a in answers})
    rows = [values for values in by_task.values() if len(values) >= 2]
    if len(rows) < 2 or len(classes) < 2:
        return None, len(by_task)
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(rows), len(classes)))
    for r, values in enumerate(rows):
        for value in values:
            counts[r, index[value]] += 1
    alpha = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    return float(alpha), len(by_task)


def metrics(
    db: Session, *, org_id: str, project: str, batch: str | None = None
) -> ProjectMetricsRead:
    """Agreement (Krippendorff's alpha), confidence spread, gold pass rate and worker records."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    answers = _categorical_answers(db, project_id=found.id)
    confidence_query = select(TaskConfidence.confidence).where(
        TaskConfidence.project_id == found.id
    )
    if batch is not None:
        batch_row = tasks.get_batch(db, org_id=org_id, name=batch)
        in_batch = set(db.scalars(select(Task.id).where(Task.batch_id == batch_row.id)))
        answers = [a for a in answers if a[0] in in_batch]
        confidence_query = confidence_query.join(Task, Task.id == TaskConfidence.task_id).where(
            Task.batch_id == batch_row.id
        )
    else:
        golds = set(db.scalars(select(GoldTask.task_id).where(GoldTask.project_id == found.id)))
        answers = [a for a in answers if a[0] not in golds]
    alpha, labeled = _alpha(answers)
    confidences = np.array(db.scalars(confidence_query).all(), dtype=float)
    histogram, _ = np.histogram(confidences, bins=CONFIDENCE_BINS)
    scored, passed = db.execute(
        select(func.count(), func.count().filter(GoldResult.score >= GOLD_PASS_SCORE)).where(
            GoldResult.project_id == found.id
        )
    ).one()
    return ProjectMetricsRead(
        project=found.name,
        batch=batch,
        labeled_tasks=labeled,
        krippendorff_alpha=alpha,
        mean_confidence=float(confidences.mean()) if len(confidences) else None,
        confidence_distribution=[
            AgreementBin(low=low, high=high, tasks=int(n))
            for low, high, n in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:], histogram, strict=False)
        ],
        gold_pass_rate=passed / scored if scored else None,
        gold_scored=scored,
        workers=worker_quality(db, org_id=org_id, project=project),
    )
