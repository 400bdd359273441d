"""Exception handlers: every failure leaves as ``{"status_code", "error", ...}`` JSON."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from quorum.errors import DomainError, invalid_from_validation
from quorum.jsonbounds import MAX_DEPTH

log = logging.getLogger("quorum.api")


def domain_error_response(exc: DomainError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        error = invalid_from_validation(exc)
        return JSONResponse(error.body(), status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's JSON parse of the body
            message = f"body: nested deeper than {MAX_DEPTH} levels"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        return JSONResponse(
            {"status_code": exc.status_code, "error": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        """The database refused a value the schema let through (a NUL byte, an overlong name)."""
        reason = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
        return JSONResponse(
            {"status_code": 400, "error": f"invalid value: {reason}"}, status_code=400
        )

    @app.exception_handler(IntegrityError)
    @app.exception_handler(StaleDataError)
    async def concurrent_change(
        request: Request, exc: IntegrityError | StaleDataError
    ) -> JSONResponse:
        """A concurrent request changed what this one read: it deleted the project this one
        configures (a constraint refuses the insert, or the update finds no row left), or took
        the name this one claims. Nothing was written; the caller may retry."""
        reason = exc.orig if isinstance(exc, IntegrityError) else exc
        log.warning("concurrent change on %s %s: %s", request.method, request.url.path, reason)
        return JSONResponse(
            {
                "status_code": 409,
                "error": "a concurrent change conflicts with this request (something it refers "
                "to was deleted or taken meanwhile); nothing was written, try again",
            },
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"status_code": 500, "error": "internal server error"}, status_code=500)
