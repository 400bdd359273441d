"""The worker API's next and submit, served without FastAPI's per-request machinery.

Every worker calls these two in a loop; they are most of a busy server's requests. Through
FastAPI (its exception and exit-stack middleware, routing, dependency solving, body validation,
response validation and serialization) a request cost about 165 us of CPU before any dispatch
work, against about 40 us for the HTTP server itself: with canned dispatch answers, a server
process spent 0.55-0.69 ms of CPU per next + submit cycle, and 0.32-0.34 ms with this path in
front (our own middleware still applies: request id, access log, metrics, limits).

This path serves a request only when its body validates as the endpoint's model; a bad or
missing body goes on to the FastAPI routes, which stay the documented endpoints and answer bad
input as every endpoint does. A valid body then meets the routes' own checks
(``dispatch.policy``: credentials, CSRF for the session cookie, a JSON content type; the rate
and the lease cap in the dispatch round), in the routes' order, so that a refusal here is the
one the route would give.
"""

from typing import TypeVar

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from quorum.api.errors import domain_error_response
from quorum.api.middleware import replay_body
from quorum.dispatch import policy
from quorum.dispatch.schemas import AssignmentRead, NextTaskRequest, SubmitRequest, SubmitResult
from quorum.errors import DomainError

_JSON = "application/json"
Body = TypeVar("Body", bound=BaseModel)


class DispatchHotPath:
    """ASGI middleware in front of the routes: serves next and submit itself, as the endpoints
    in ``dispatch.router`` do, and passes every other request on.

    It matches paths with those two routes' own patterns (of ``router``, the worker router) and
    names the route in the request's scope as FastAPI's routing would (the access log and
    metrics read it).
    """

    def __init__(self, app: ASGIApp, router: APIRouter) -> None:
        self.app = app
        routes = {route.name: route for route in router.routes if isinstance(route, APIRoute)}
        self.next_route, self.submit_route = routes["next_task"], routes["submit"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        leasing = self.next_route.path_regex.fullmatch(path)
        submitted = None if leasing else self.submit_route.path_regex.fullmatch(path)
        if not (leasing or submitted):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await request.body()
        except ClientDisconnect:  # gone, or refused by the body size limit, which answered
            return
        data = _valid_body(body, SubmitRequest if submitted else NextTaskRequest)
        if data is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        scope["route"] = self.submit_route if submitted else self.next_route
        try:
            # The route's dependency; it decodes a valid body before, so it refuses the same.
            secret = policy.api_worker_secret_with_json(request)
            if submitted:
                response = await serve_submit(request, secret, submitted["assignment_id"], data)
            else:
                response = await serve_next(request, secret, data)
        except DomainError as error:
            response = domain_error_response(error)
        await response(scope, receive, send)


def _valid_body(body: bytes, model: type[Body]) -> Body | None:
    """The body as the endpoint's model; None when FastAPI should answer it (its error)."""
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


async def serve_next(request: Request, secret: str, data: NextTaskRequest) -> Response:
    """Lease the worker whose session ``secret`` is the next task: 200 with it, or 204 when
    there is none."""
    assignment = await request.app.state.dispatch_rounds.next_task(
        secret,
        project_id=data.project_id,
        max_live_leases=policy.lease_cap(request.app.state.settings),
    )
    if assignment is None:
        return Response(status_code=204)
    return _json(AssignmentRead.__pydantic_serializer__.to_json(assignment))


async def serve_submit(
    request: Request, secret: str, assignment_id: str, data: SubmitRequest
) -> Response:
    """Submit the response of the worker whose session ``secret`` is; the reply means it is
    stored."""
    result = await request.app.state.dispatch_rounds.submit(
        secret, assignment_id=assignment_id, response=data.response
    )
    return _json(SubmitResult.__pydantic_serializer__.to_json(result))


def _json(content: bytes) -> Response:
    return Response(content, media_type=_JSON)
