"""Rendering pages: templates, safe Markdown, and the route class every page router uses."""

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup

from quorum.errors import DomainError, Unauthorized
from quorum.web.security import csrf_token, finish_page

TEMPLATES = Path(__file__).parent / "templates"

# Raw HTML in task content is shown as text, never passed through; markdown-it also refuses
# javascript:, vbscript: and data: (other than images) link targets.
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> Markup:
    """Task-supplied Markdown as HTML that cannot carry script."""
    return Markup(_markdown.render(text or ""))


def format_cents(cents: int | None) -> str:
    return f"${(cents or 0) / 100:,.2f}"


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters["markdown"] = render_markdown
templates.env.filters["cents"] = format_cents
templates.env.filters["when"] = format_time


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page from a template, with the CSRF token in its context and the security headers."""
    response = templates.TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), **context}, status_code=status_code
    )
    return finish_page(request, response)


class SignInRequired(Exception):
    """Raised by page dependencies: the visitor is sent to the sign-in page of their role."""

    def __init__(self, login_path: str) -> None:
        self.login_path = login_path


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


class PageRoute(APIRoute):
    """Pages answer errors with an HTML page (or JSON to the tools' fetch calls) and carry the
    security headers; a missing sign-in redirects to the right sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                if wants_json(request):
                    error = Unauthorized("your session ended; sign in again")
                    return finish_page(request, JSONResponse(error.body(), status_code=401))
                target = quote(request.url.path, safe="/")
                response = RedirectResponse(f"{exc.login_path}?next={target}", status_code=303)
            except DomainError as exc:
                if wants_json(request):
                    response = JSONResponse(exc.body(), status_code=exc.status_code)
                else:
                    response = render(
                        request,
                        "error.html",
                        status_code=exc.status_code,
                        message=exc.message,
                        status=exc.status_code,
                    )
            return finish_page(request, response)

        return page_handler


def safe_next(target: str | None, default: str) -> str:
    """A post-sign-in destination on this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default
