"""Workers, their logins, qualifications, and who may work on which project.

An organization's admins act for it (``org_id``): they see the workers of their private pool and
their own projects and qualifications; everything else is not found. Platform staff (operators)
manage the public pool (``org_id=None``): its workers, and on customers' projects only what an
organization shared with the public pool (``access == "open"``): the qualifications such a project
requires or its reviewers need. Workers act for themselves: a project they are not allowed on
does not exist for them.
"""

from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quorum.credentials import digest, hash_password, new_secret, verify_login
from quorum.db.among import among
from quorum.db.base import utcnow
from quorum.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    invalid_from_validation,
)
from quorum.quality.models import ProjectQuality
from quorum.tasks import service as tasks
from quorum.tasks.models import Project
from quorum.tasktypes import get_task_type
from quorum.workforce.models import (
    ProjectMember,
    ProjectQualification,
    ProjectWorkforce,
    Qualification,
    QualificationTestItem,
    Worker,
    WorkerQualification,
    WorkerToken,
)
from quorum.workforce.schemas import (
    ProjectWorkforceRead,
    ProjectWorkforceUpdate,
    QualificationCreate,
    QualificationRead,
    QualificationTest,
    QualificationTestResult,
    SharedProjectRead,
    TestQuestion,
    WorkerIdentity,
    WorkerInvite,
    WorkerProfileUpdate,
    WorkerProjectRead,
    WorkerQualificationRead,
    WorkerRead,
    WorkerSignup,
)

SESSION_LIFETIME = timedelta(days=14)
INVITATION_LIFETIME = timedelta(days=7)
DEFAULT_LEASE_SECONDS = 600
DEFAULT_BROKEN_REPORTS_TO_FAIL = 3


def _new_token(
    db: Session, *, worker_id: str, kind: str, lifetime: timedelta
) -> tuple[str, WorkerToken]:
    secret = new_secret("wk_")
    token = WorkerToken(
        worker_id=worker_id, kind=kind, digest=digest(secret), expires_at=utcnow() + lifetime
    )
    db.add(token)
    db.flush()
    return secret, token


def worker_read(worker: Worker) -> WorkerRead:
    return WorkerRead(
        id=worker.id,
        email=worker.email,
        name=worker.name,
        locale=worker.locale,
        languages=worker.languages,
        skills=worker.skills,
        status=worker.status,  # type: ignore[arg-type]
        role=worker.role,  # type: ignore[arg-type]
        pool="private" if worker.pool_org_id else "public",
        created_at=worker.created_at,
    )


# Accounts and logins


def _add_worker(db: Session, worker: Worker) -> Worker:
    db.add(worker)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"a worker with email {worker.email!r} already exists") from None
    return worker


def invite_worker(db: Session, *, org_id: str | None, data: WorkerInvite) -> tuple[Worker, str]:
    """Create a worker in the organization's private pool (the public pool for ``None``);
    returns the invitation secret."""
    worker = _add_worker(
        db,
        Worker(
            pool_org_id=org_id,
            email=data.email.lower(),
            name=data.name,
            locale=data.locale,
            languages=data.languages,
            skills=data.skills,
        ),
    )
    secret, _ = _new_token(db, worker_id=worker.id, kind="invitation", lifetime=INVITATION_LIFETIME)
    return worker, secret


def sign_up(db: Session, *, data: WorkerSignup) -> Worker:
    """Accept an invitation (setting a password), or join the public pool."""
    password_hash = hash_password(data.password)
    if data.invitation_token is None:
        if data.email is None:
            raise Invalid("email is required to sign up without an invitation", field="email")
        return _add_worker(
            db, Worker(email=data.email.lower(), name=data.name, password_hash=password_hash)
        )
    now = utcnow()
    token = db.scalar(
        select(WorkerToken).where(
            WorkerToken.digest == digest(data.invitation_token),
            WorkerToken.kind == "invitation",
            WorkerToken.revoked_at.is_(None),
            WorkerToken.expires_at > now,
        )
    )
    if token is None:
        raise Unauthorized("the invitation is invalid, already used, or expired")
    worker = db.get_one(Worker, token.worker_id)
    if data.email is not None and data.email.lower() != worker.email:
        raise Invalid("this invitation was sent to another email address", field="email")
    token.revoked_at = now
    worker.password_hash = password_hash
    if data.name:
        worker.name = data.name
    return worker


def log_in(db: Session, *, email: str, password: str) -> tuple[str, WorkerToken, Worker]:
    """Check the password and open a session; the same message for every failure."""
    worker = db.scalar(select(Worker).where(Worker.email == email.lower()))
    kept = verify_login(worker.password_hash if worker else None, password)
    if worker is None or kept is None:
        raise Unauthorized("wrong email or password")
    if worker.status == "banned":
        raise Forbidden("this worker account is banned")
    worker.password_hash = kept
    secret, token = _new_token(db, worker_id=worker.id, kind="session", lifetime=SESSION_LIFETIME)
    return secret, token, worker


def open_session(db: Session, *, worker_id: str) -> str:
    """A session token for a worker without a password check (for the CLI and tests' setup)."""
    secret, _ = _new_token(db, worker_id=worker_id, kind="session", lifetime=SESSION_LIFETIME)
    return secret


def log_out(db: Session, *, token_id: str) -> None:
    token = db.get_one(WorkerToken, token_id)
    token.revoked_at = utcnow()


# Every worker request runs this: built once (see dispatch's hot path for why).
_SESSIONS_OF = (
    select(
        WorkerToken.digest,
        WorkerToken.id,
        Worker.id,
        Worker.status,
        Worker.role,
        Worker.pool_org_id,
    )
    .join(Worker, Worker.id == WorkerToken.worker_id)
    .where(
        among(WorkerToken.digest, "digests"),
        WorkerToken.kind == "session",
        WorkerToken.revoked_at.is_(None),
        WorkerToken.expires_at > bindparam("now", type_=WorkerToken.expires_at.type),
    )
)


def authenticate_worker(db: Session, *, secret: str) -> WorkerIdentity:
    """Resolve a session token to its worker; banned workers are refused."""
    found = authenticate_workers(db, secrets=[secret])[secret]
    if isinstance(found, DomainError):
        raise found
    return found


def authenticate_workers(
    db: Session, *, secrets: list[str]
) -> dict[str, WorkerIdentity | DomainError]:
    """``authenticate_worker`` for the requests of a dispatch round, with one query: each
    secret's worker, or the error that refuses it."""
    digests = {digest(secret): secret for secret in secrets}
    found: dict[str, WorkerIdentity | DomainError] = {
        secret: Unauthorized("the worker session is invalid or expired; log in again")
        for secret in secrets
    }
    for row in db.execute(_SESSIONS_OF, {"digests": list(digests), "now": utcnow()}):
        token_digest, token_id, worker_id, status, role, pool_org_id = row
        found[digests[token_digest]] = (
            Forbidden("this worker account is banned")
            if status == "banned"
            else WorkerIdentity(
                id=worker_id, status=status, role=role, pool_org_id=pool_org_id, token_id=token_id
            )
        )
    return found


def get_worker_self(db: Session, *, worker_id: str) -> Worker:
    return db.get_one(Worker, worker_id)


def update_profile(db: Session, *, worker_id: str, data: WorkerProfileUpdate) -> Worker:
    worker = db.get_one(Worker, worker_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(worker, field, value)
    return worker


def _in_pool(org_id: str | None) -> ColumnElement[bool]:
    """The organization's private pool, or the public pool (the platform's) for ``None``."""
    return Worker.pool_org_id.is_(None) if org_id is None else Worker.pool_org_id == org_id


def get_worker(db: Session, *, org_id: str | None, worker_id: str) -> Worker:
    """A worker of the pool (see ``_in_pool``); any other worker is not found."""
    worker = db.scalar(select(Worker).where(Worker.id == worker_id, _in_pool(org_id)))
    if worker is None:
        raise NotFound(f"no worker {worker_id!r}")
    return worker


def list_workers(db: Session, *, org_id: str | None) -> list[Worker]:
    return list(db.scalars(select(Worker).where(_in_pool(org_id)).order_by(Worker.id)))


def set_worker_status(db: Session, *, org_id: str | None, worker_id: str, status: str) -> Worker:
    """Activate, pause or ban a worker of the pool (dispatch returns their leases)."""
    worker = get_worker(db, org_id=org_id, worker_id=worker_id)
    worker.status = status
    return worker


def set_worker_role(db: Session, *, org_id: str | None, worker_id: str, role: str) -> Worker:
    """Make a worker of the pool a reviewer (who may also take review work), or not."""
    worker = get_worker(db, org_id=org_id, worker_id=worker_id)
    worker.role = role
    return worker


# Qualifications


def _qualification_read(db: Session, qualification: Qualification) -> QualificationRead:
    size = db.scalar(
        select(func.count()).where(QualificationTestItem.qualification_id == qualification.id)
    )
    return QualificationRead(
        id=qualification.id,
        name=qualification.name,
        description=qualification.description,
        task_type=qualification.task_type,
        pass_mark=qualification.pass_mark,
        max_attempts=qualification.max_attempts,
        test_size=size or 0,
        created_at=qualification.created_at,
    )


def create_qualification(
    db: Session, *, org_id: str, data: QualificationCreate
) -> QualificationRead:
    """Create a qualification, with a test whose answers are checked by the task type now."""
    if data.test_items and data.task_type is None:
        raise Invalid("task_type is required for a qualification with a test", field="task_type")
    qualification = Qualification(
        org_id=org_id,
        name=data.name,
        description=data.description,
        task_type=data.task_type,
        pass_mark=data.pass_mark,
        max_attempts=data.max_attempts,
    )
    db.add(qualification)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"a qualification named {data.name!r} already exists") from None
    if data.task_type is not None:
        kind = get_task_type(data.task_type)
        for index, item in enumerate(data.test_items):
            prefix = f"test_items.{index}."
            try:
                params = kind.Params.model_validate(item.params)
            except ValidationError as exc:
                raise invalid_from_validation(exc, prefix=f"{prefix}params.") from None
            try:
                gold = kind.parse_response(params, item.gold)
            except ValidationError as exc:
                raise invalid_from_validation(exc, prefix=f"{prefix}gold.") from None
            except Invalid as exc:
                raise Invalid(f"{prefix}gold: {exc.message}") from None
            db.add(
                QualificationTestItem(
                    qualification_id=qualification.id,
                    position=index,
                    params=params.model_dump(mode="json", exclude_unset=True),
                    gold=gold.model_dump(mode="json", exclude_none=True),
                )
            )
    db.flush()
    return _qualification_read(db, qualification)


def list_qualifications(db: Session, *, org_id: str) -> list[QualificationRead]:
    rows = db.scalars(
        select(Qualification).where(Qualification.org_id == org_id).order_by(Qualification.id)
    )
    return [_qualification_read(db, q) for q in rows]


def _org_qualification(db: Session, *, org_id: str, qualification_id: str) -> Qualification:
    qualification = db.scalar(
        select(Qualification).where(
            Qualification.id == qualification_id, Qualification.org_id == org_id
        )
    )
    if qualification is None:
        raise NotFound(f"no qualification {qualification_id!r}")
    return qualification


def _standing(db: Session, *, worker_id: str, qualification_id: str) -> WorkerQualification:
    standing = db.get(WorkerQualification, (worker_id, qualification_id))
    if standing is None:
        standing = WorkerQualification(
            worker_id=worker_id, qualification_id=qualification_id, attempts=0
        )
        db.add(standing)
    return standing


def _set_held(db: Session, *, worker_id: str, qualification_id: str, held: bool) -> None:
    standing = _standing(db, worker_id=worker_id, qualification_id=qualification_id)
    if held:
        standing.source = "granted"
        standing.granted_at = utcnow()
        standing.revoked_at = None
    else:
        standing.revoked_at = utcnow()


def grant_qualification(db: Session, *, org_id: str, worker_id: str, qualification_id: str) -> None:
    """An admin vouches for a worker: the qualification is held until revoked."""
    get_worker(db, org_id=org_id, worker_id=worker_id)
    _org_qualification(db, org_id=org_id, qualification_id=qualification_id)
    _set_held(db, worker_id=worker_id, qualification_id=qualification_id, held=True)


def revoke_qualification(
    db: Session, *, org_id: str, worker_id: str, qualification_id: str
) -> None:
    """Take a qualification away; the worker gets no more tasks of projects that need it."""
    get_worker(db, org_id=org_id, worker_id=worker_id)
    _org_qualification(db, org_id=org_id, qualification_id=qualification_id)
    _set_held(db, worker_id=worker_id, qualification_id=qualification_id, held=False)


def shared_qualification(db: Session, *, qualification_id: str) -> Qualification:
    """A qualification that a project shared with the public pool requires of its workers or
    reviewers: the only ones platform staff may grant or revoke."""
    shared = select(ProjectWorkforce.project_id).where(ProjectWorkforce.access == "open")
    required = select(ProjectQualification.qualification_id).where(
        ProjectQualification.project_id.in_(shared)
    )
    reviewing = select(ProjectQuality.reviewer_qualification_id).where(
        ProjectQuality.project_id.in_(shared), ProjectQuality.review_levels > 0
    )
    qualification = db.scalar(
        select(Qualification).where(
            Qualification.id == qualification_id,
            or_(Qualification.id.in_(required), Qualification.id.in_(reviewing)),
        )
    )
    if qualification is None:
        raise NotFound(f"no qualification {qualification_id!r} of a project shared with the pool")
    return qualification


def set_shared_qualification(
    db: Session, *, worker_id: str, qualification_id: str, held: bool
) -> Qualification:
    """Platform staff grant or revoke a shared project's qualification of a public-pool worker."""
    get_worker(db, org_id=None, worker_id=worker_id)
    qualification = shared_qualification(db, qualification_id=qualification_id)
    _set_held(db, worker_id=worker_id, qualification_id=qualification_id, held=held)
    return qualification


def _visible_qualifications(db: Session, *, worker: WorkerIdentity) -> list[Qualification]:
    """Those of the worker's own pool, and those that open projects reachable by them require."""
    required_by_open = (
        select(ProjectQualification.qualification_id)
        .join(ProjectWorkforce, ProjectWorkforce.project_id == ProjectQualification.project_id)
        .where(ProjectWorkforce.access == "open")
    )
    if worker.pool_org_id is not None:
        required_by_open = required_by_open.where(ProjectWorkforce.org_id == worker.pool_org_id)
        condition = or_(
            Qualification.org_id == worker.pool_org_id, Qualification.id.in_(required_by_open)
        )
    else:
        condition = Qualification.id.in_(required_by_open)
    return list(db.scalars(select(Qualification).where(condition).order_by(Qualification.id)))


def _visible_qualification(
    db: Session, *, worker: WorkerIdentity, qualification_id: str
) -> Qualification:
    for qualification in _visible_qualifications(db, worker=worker):
        if qualification.id == qualification_id:
            return qualification
    raise NotFound(f"no qualification {qualification_id!r}")


def _holds(standing: WorkerQualification | None) -> bool:
    return standing is not None and standing.granted_at is not None and standing.revoked_at is None


def worker_qualifications(db: Session, *, worker: WorkerIdentity) -> list[WorkerQualificationRead]:
    """The qualifications a worker can see, whether they hold each, and what is left to try."""
    result = []
    for qualification in _visible_qualifications(db, worker=worker):
        standing = db.get(WorkerQualification, (worker.id, qualification.id))
        attempts = standing.attempts if standing else 0
        has_test = bool(
            db.scalar(
                select(exists().where(QualificationTestItem.qualification_id == qualification.id))
            )
        )
        result.append(
            WorkerQualificationRead(
                qualification_id=qualification.id,
                name=qualification.name,
                held=_holds(standing),
                source=standing.source if standing else None,
                attempts=attempts,
                attempts_left=max(qualification.max_attempts - attempts, 0),
                last_score=standing.last_score if standing else None,
                has_test=has_test,
            )
        )
    return result


def _test_items(db: Session, qualification: Qualification) -> list[QualificationTestItem]:
    items = list(
        db.scalars(
            select(QualificationTestItem)
            .where(QualificationTestItem.qualification_id == qualification.id)
            .order_by(QualificationTestItem.position)
        )
    )
    if not items or qualification.task_type is None:
        raise NotFound(f"qualification {qualification.name!r} has no test; ask an operator")
    return items


def qualification_test(
    db: Session, *, worker: WorkerIdentity, qualification_id: str
) -> QualificationTest:
    """The test's questions (never the answers)."""
    qualification = _visible_qualification(db, worker=worker, qualification_id=qualification_id)
    items = _test_items(db, qualification)
    standing = db.get(WorkerQualification, (worker.id, qualification.id))
    return QualificationTest(
        qualification_id=qualification.id,
        name=qualification.name,
        description=qualification.description,
        task_type=qualification.task_type or "",
        pass_mark=qualification.pass_mark,
        attempts_left=max(qualification.max_attempts - (standing.attempts if standing else 0), 0),
        questions=[TestQuestion(item_id=item.id, params=item.params) for item in items],
    )


def take_qualification_test(
    db: Session, *, worker: WorkerIdentity, qualification_id: str, answers: dict[str, dict]
) -> QualificationTestResult:
    """Score every answer with the task type's ``score``; the mean must reach the pass mark."""
    qualification = _visible_qualification(db, worker=worker, qualification_id=qualification_id)
    items = _test_items(db, qualification)
    standing = _standing(db, worker_id=worker.id, qualification_id=qualification.id)
    if _holds(standing):
        raise Conflict(f"you already hold {qualification.name!r}")
    if standing.attempts >= qualification.max_attempts:
        raise Forbidden(f"no attempts left at the {qualification.name!r} test")
    unknown = sorted(answers.keys() - {item.id for item in items})
    if unknown:
        raise Invalid(f"answers.{unknown[0]}: not a question of this test", field="answers")
    kind = get_task_type(qualification.task_type or "")
    total = 0.0
    for item in items:
        raw = answers.get(item.id)
        if raw is None:
            raise Invalid(f"answers.{item.id}: every question needs an answer", field="answers")
        params = kind.Params.model_validate(item.params)
        try:
            response = kind.parse_response(params, raw)
        except ValidationError as exc:
            raise invalid_from_validation(exc, prefix=f"answers.{item.id}.") from None
        total += kind.score(response, kind.Response.model_validate(item.gold))
    score = total / len(items)
    standing.attempts += 1
    standing.last_score = score
    passed = score >= qualification.pass_mark
    if passed:
        standing.source = "test"
        standing.granted_at = utcnow()
        standing.revoked_at = None
    return QualificationTestResult(
        score=score,
        pass_mark=qualification.pass_mark,
        passed=passed,
        attempts_left=qualification.max_attempts - standing.attempts,
    )


# Project staffing


def _settings(db: Session, project: Project) -> ProjectWorkforce:
    settings = db.get(ProjectWorkforce, project.id)
    if settings is None:
        settings = ProjectWorkforce(
            project_id=project.id,
            org_id=project.org_id,
            access="members",
            lease_seconds=DEFAULT_LEASE_SECONDS,
            broken_reports_to_fail=DEFAULT_BROKEN_REPORTS_TO_FAIL,
        )
        db.add(settings)
    return settings


def project_workforce(db: Session, *, org_id: str, project: str) -> ProjectWorkforceRead:
    found = tasks.get_project(db, org_id=org_id, name=project)
    settings = db.get(ProjectWorkforce, found.id)
    required = db.scalars(
        select(Qualification.name)
        .join(ProjectQualification, ProjectQualification.qualification_id == Qualification.id)
        .where(ProjectQualification.project_id == found.id)
        .order_by(Qualification.name)
    )
    members = db.scalars(
        select(ProjectMember.worker_id)
        .where(ProjectMember.project_id == found.id)
        .order_by(ProjectMember.worker_id)
    )
    return ProjectWorkforceRead(
        project=found.name,
        access=settings.access if settings else "members",  # type: ignore[arg-type]
        lease_seconds=settings.lease_seconds if settings else DEFAULT_LEASE_SECONDS,
        broken_reports_to_fail=(
            settings.broken_reports_to_fail if settings else DEFAULT_BROKEN_REPORTS_TO_FAIL
        ),
        required_qualifications=list(required),
        members=list(members),
    )


def configure_project(
    db: Session, *, org_id: str, project: str, data: ProjectWorkforceUpdate
) -> ProjectWorkforceRead:
    """Set who may work on a project (members only, or the open pool) and what they need."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    settings = _settings(db, found)
    if data.access is not None:
        settings.access = data.access
    if data.lease_seconds is not None:
        settings.lease_seconds = data.lease_seconds
    if data.broken_reports_to_fail is not None:
        settings.broken_reports_to_fail = data.broken_reports_to_fail
    if data.required_qualifications is not None:
        names = set(data.required_qualifications)
        found_ids = dict(
            db.execute(
                select(Qualification.name, Qualification.id).where(
                    Qualification.org_id == org_id, Qualification.name.in_(names)
                )
            ).all()
        )
        for name in sorted(names - found_ids.keys()):
            raise NotFound(f"no qualification named {name!r}", field="required_qualifications")
        db.execute(delete(ProjectQualification).where(ProjectQualification.project_id == found.id))
        db.add_all(
            ProjectQualification(project_id=found.id, qualification_id=qualification_id)
            for qualification_id in found_ids.values()
        )
    db.flush()
    return project_workforce(db, org_id=org_id, project=project)


def add_member(db: Session, *, org_id: str, project: str, worker_id: str) -> ProjectWorkforceRead:
    """Allow a worker of the organization's pool on one of its projects (idempotent)."""
    found = tasks.get_project(db, org_id=org_id, name=project)
    get_worker(db, org_id=org_id, worker_id=worker_id)
    _settings(db, found)
    if db.get(ProjectMember, (found.id, worker_id)) is None:
        db.add(ProjectMember(project_id=found.id, worker_id=worker_id))
    db.flush()
    return project_workforce(db, org_id=org_id, project=project)


def remove_member(
    db: Session, *, org_id: str, project: str, worker_id: str
) -> ProjectWorkforceRead:
    found = tasks.get_project(db, org_id=org_id, name=project)
    get_worker(db, org_id=org_id, worker_id=worker_id)
    db.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == found.id, ProjectMember.worker_id == worker_id
        )
    )
    return project_workforce(db, org_id=org_id, project=project)


def _shared_projects() -> Select[tuple[Project]]:
    return (
        select(Project)
        .join(ProjectWorkforce, ProjectWorkforce.project_id == Project.id)
        .where(ProjectWorkforce.access == "open")
    )


def shared_projects(db: Session) -> list[SharedProjectRead]:
    """Every customer project open to the public pool: what platform staff may look after."""
    return [
        SharedProjectRead.model_validate(p)
        for p in db.scalars(_shared_projects().order_by(Project.id))
    ]


def shared_project(db: Session, *, project_id: str) -> Project:
    """A customer project open to the public pool; private ones do not exist for staff."""
    project = db.scalar(_shared_projects().where(Project.id == project_id))
    if project is None:
        raise NotFound(f"no project {project_id!r} shared with the public pool")
    return project


@dataclass(frozen=True)
class Reachable:
    """A project a worker is allowed on, and whether they hold what it requires."""

    project_id: str
    lease_seconds: int
    missing_qualifications: tuple[str, ...]


def may_work_on(
    worker_id: ColumnElement[str], pool_org_id: ColumnElement[str | None]
) -> ColumnElement[bool]:
    """Whether a worker may touch a project (joined with its ``ProjectWorkforce``): as a member,
    or because it is open to the pool the worker belongs to (a public worker: every open pool).

    Takes SQL expressions so that dispatch can bind them in its prebuilt statements.
    """
    member = exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.worker_id == worker_id
    )
    in_pool = or_(pool_org_id.is_(None), Project.org_id == pool_org_id)
    return or_(member, and_(ProjectWorkforce.access == "open", in_pool))


def reachable_projects(
    db: Session, *, worker: WorkerIdentity, project_id: str | None = None
) -> list[Reachable]:
    """Projects the worker may touch: by membership, or open to their pool."""
    query = (
        select(Project.id, ProjectWorkforce.lease_seconds)
        .join(ProjectWorkforce, ProjectWorkforce.project_id == Project.id)
        .where(may_work_on(literal(worker.id), literal(worker.pool_org_id, String)))
        .order_by(Project.id)
    )
    if project_id is not None:
        query = query.where(Project.id == project_id)
    rows = db.execute(query).all()
    if not rows:
        return []
    held = (
        select(WorkerQualification.qualification_id)
        .where(
            WorkerQualification.worker_id == worker.id,
            WorkerQualification.granted_at.is_not(None),
            WorkerQualification.revoked_at.is_(None),
        )
        .scalar_subquery()
    )
    missing: dict[str, list[str]] = {}
    for project, name in db.execute(
        select(ProjectQualification.project_id, Qualification.name)
        .join(Qualification, Qualification.id == ProjectQualification.qualification_id)
        .where(
            ProjectQualification.project_id.in_([r[0] for r in rows]),
            ProjectQualification.qualification_id.not_in(held),
        )
        .order_by(Qualification.name)
    ):
        missing.setdefault(project, []).append(name)
    return [Reachable(pid, lease, tuple(missing.get(pid, ()))) for pid, lease in rows]


def worker_projects(db: Session, *, worker: WorkerIdentity) -> list[WorkerProjectRead]:
    """The projects a worker may see, with what they still need to get tasks from each."""
    reachable = {r.project_id: r for r in reachable_projects(db, worker=worker)}
    projects = db.scalars(select(Project).where(Project.id.in_(reachable)).order_by(Project.id))
    return [
        WorkerProjectRead(
            id=project.id,
            name=project.name,
            type=project.type,
            instruction=str(project.params.get("instruction", "")),
            qualified=not reachable[project.id].missing_qualifications,
            missing_qualifications=list(reachable[project.id].missing_qualifications),
        )
        for project in projects
    ]
