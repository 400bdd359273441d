"""Dependencies shared by every router: the database session and who is calling (an
organization's API key, a worker's session, a platform staff member's session)."""

import base64
import binascii
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote

from fastapi import Depends, Request
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from quorum.accounts import service as accounts
from quorum.accounts.schemas import Caller, StaffCaller
from quorum.api.ratelimit import check_request_rate
from quorum.audit import service as audit
from quorum.errors import Invalid, Unauthorized
from quorum.web.security import CSRF_HEADER, SAFE_METHODS, csrf_matches, csrf_refused
from quorum.workforce import service as workforce
from quorum.workforce.schemas import WorkerIdentity


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent.

    Declared with ``scope="function"`` below, so a reply the client sees is a committed write.
    """
    with request.app.state.session_factory() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def _key_from_header(header: str) -> str:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Malformed Basic authorization header") from None
        return decoded.partition(":")[0]
    raise Unauthorized("Use HTTP Basic with the API key as user name, or a Bearer token")


SomeActor = TypeVar("SomeActor", Caller, StaffCaller)


def _from_request(actor: SomeActor, request: Request) -> SomeActor:
    """The actor with the request id and client address its audit entries record."""
    return actor.model_copy(
        update={
            "request_id": getattr(request.state, "request_id", ""),
            "address": request.client.host if request.client else "",
        }
    )


def get_caller(request: Request, db: SessionDep) -> Caller:
    """Authenticate the API key (Basic, as Scale's client sends it, or Bearer)."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Please provide a valid API key (HTTP Basic user name or Bearer token)")
    caller = accounts.authenticate(db, secret=_key_from_header(header))
    check_request_rate(request, f"key:{caller.key_id}")
    return _from_request(caller, request)


CallerDep = Annotated[Caller, Depends(get_caller)]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def get_staff(request: Request, db: SessionDep) -> StaffCaller:
    """Authenticate a platform staff member by their Bearer session token."""
    staff = accounts.authenticate_staff(db, secret=_bearer(request))
    check_request_rate(request, f"staff:{staff.id}")
    return _from_request(staff, request)


StaffDep = Annotated[StaffCaller, Depends(get_staff)]


def _audited(request: Request, db: Session, actor: Caller | StaffCaller) -> None:
    if request.method not in SAFE_METHODS:
        audit.record(
            db,
            actor=actor,
            action=getattr(request.scope.get("route"), "name", request.method),
            method=request.method,
            path=request.url.path,
            target=dict(request.path_params),
        )


def authorize(check: Callable[[Caller], None]) -> Any:
    """Depend on the caller once ``check`` (a policy function) allowed it.

    A state-changing request that succeeds is recorded in the audit log inside the request's
    transaction, so the change and its record commit together; a refused or failed one is not.
    """

    def authorized(request: Request, caller: CallerDep, db: SessionDep) -> Iterator[Caller]:
        check(caller)
        yield caller
        _audited(request, db, caller)

    return Depends(authorized, scope="function")


def authorize_staff(check: Callable[[StaffCaller], None]) -> Any:
    """``authorize`` for platform staff: the policy decides, and every change is audited."""

    def authorized(request: Request, staff: StaffDep, db: SessionDep) -> Iterator[StaffCaller]:
        check(staff)
        yield staff
        _audited(request, db, staff)

    return Depends(authorized, scope="function")


# A path segment naming a project or batch. The raw-path middleware keeps "%2F" and "%25" encoded
# inside segments so that names may contain "/"; this decodes them.
PathName = Annotated[str, AfterValidator(unquote)]


def _assume_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# Scale's client sends times as "YYYY-MM-DD HH:MM:SS.ffffff" without a zone: they are UTC.
UTCDatetime = Annotated[datetime, AfterValidator(_assume_utc)]


def allow_query(*names: str) -> Callable[[Request], None]:
    """A dependency refusing query parameters the endpoint does not know (no silent drops)."""
    allowed = set(names)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise Invalid(
                f"unknown query parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}",
                field=unknown[0],
            )

    return check


WORKER_SESSION_COOKIE = "quorum_worker_session"


def worker_secret(request: Request) -> str:
    """A worker's session token: a Bearer token (worker API) or the session cookie (web)."""
    secret = _bearer(request) or request.cookies.get(WORKER_SESSION_COOKIE, "")
    if not secret:
        raise Unauthorized("log in as a worker: send the session token as a Bearer token")
    return secret


def api_worker_secret(request: Request) -> str:
    """The worker session token of an API request that changes something: a Bearer token, or
    the session cookie with its CSRF token in the header (403 without it; 401 with neither).
    A browser sends the cookie on any site's behalf, the token only from Quorum's own pages."""
    secret = worker_secret(request)
    if not _bearer(request) and not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise csrf_refused()
    return secret


def get_worker(request: Request, db: SessionDep) -> WorkerIdentity:
    """Authenticate a worker: a Bearer session token (worker API) or the session cookie (web),
    which for a request that changes something must carry the pages' CSRF token too."""
    safe = request.method in SAFE_METHODS
    secret = worker_secret(request) if safe else api_worker_secret(request)
    worker = workforce.authenticate_worker(db, secret=secret)
    check_request_rate(request, f"worker:{worker.id}")
    return worker


WorkerDep = Annotated[WorkerIdentity, Depends(get_worker)]
