"""Model backends: where pre-labels and automatic ratings come from.

A backend answers one task at a time: given the task type and its params, it returns a suggested
response (in the task type's ``Response`` shape) and a confidence in [0, 1]. Two kinds:

- ``http``: an endpoint that accepts ``POST {"type": ..., "params": {...}}`` and replies
  ``{"response": {...}, "confidence": 0.87}`` (any server, in any language, can speak this);
- ``python``: a model the platform operator installed in the server, chosen by the public name
  the operator gave it (see ``OperatorBackends``), called as ``function(type, params)`` and
  returning the same dictionary;
- ``builtin``: a model that ships with Quorum and learns from the project itself; the only one is
  ``active-learning`` (see ``quorum.assist.active_learning``), opened per project.
"""

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from quorum.errors import Invalid
from quorum.outside import OutsideClient, Refused, Unreachable, checked_url
from quorum.settings import OPERATOR_BACKEND_NAME

BACKEND_KINDS = ("http", "python", "builtin")
BUILTIN_BACKENDS = ("active-learning",)
ENTRY_POINT_GROUP = "quorum.assist_backends"
# A model's answer is one task's response and a confidence; a pre-label is bounded far below this.
MAX_REPLY_BYTES = 8 * 1024 * 1024
log = logging.getLogger("quorum.assist")


@dataclass(frozen=True)
class Suggestion:
    response: dict[str, Any]
    confidence: float


class ModelBackend(Protocol):
    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion: ...


def _suggestion(reply: Any, source: str) -> Suggestion:
    if not isinstance(reply, dict) or not isinstance(reply.get("response"), dict):
        raise Invalid(f"{source} replied without a response object")
    confidence = reply.get("confidence", 1.0)
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise Invalid(f"{source} replied with a confidence outside [0, 1]: {confidence!r}")
    return Suggestion(response=reply["response"], confidence=float(confidence))


class HttpBackend:
    """A model served over HTTP with the protocol above, at a URL a tenant named: reached only
    through the guarded client, and its failures told without the network's details."""

    def __init__(self, url: str, outside: OutsideClient) -> None:
        self.url = url
        self.outside = outside

    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion:
        source = f"model backend {self.url[:200]}"
        request = json.dumps({"type": task_type, "params": params}).encode()
        try:
            reply = self.outside.request(
                "POST",
                self.url,
                content=request,
                headers={"Content-Type": "application/json"},
                max_bytes=MAX_REPLY_BYTES,
            )
        except Unreachable as exc:
            raise Invalid(f"{source} failed: {exc.message}") from None
        if not reply.is_success:
            raise Invalid(f"{source} answered HTTP {reply.status_code}")
        try:
            body = json.loads(reply.content)
        except (ValueError, RecursionError):
            raise Invalid(f"{source} replied with something that is not JSON") from None
        return _suggestion(body, source)


class PythonBackend:
    """A model called in-process: a function the platform operator installed."""

    def __init__(self, name: str, function: Callable[[str, dict[str, Any]], Any]) -> None:
        self.name = name
        self.function = function

    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion:
        return _suggestion(self.function(task_type, params), f"python backend {self.name!r}")


@dataclass(frozen=True)
class OperatorBackends:
    """The in-process models this platform offers, by public name: the operator's setting
    ``QUORUM_ASSIST_PYTHON_BACKENDS`` (name -> ``"package.module:function"``) and the entry
    points that installed packages declare in the group ``quorum.assist_backends`` (the setting
    wins on a shared name).

    Tenants choose among these names and nothing else: a tenant's string is looked up, never
    imported, so a python backend cannot run code the operator did not install and offer.
    """

    entry_points: Mapping[str, EntryPoint]

    @classmethod
    def offered(cls, configured: Mapping[str, str]) -> "OperatorBackends":
        """The installed entry points with a valid name, then the configured ones."""
        found = {}
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if re.fullmatch(OPERATOR_BACKEND_NAME, entry_point.name):
                found[entry_point.name] = entry_point
            else:
                log.warning("entry point %r ignored: not a backend name", entry_point.name)
        for name, value in configured.items():
            found[name] = EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
        return cls(found)

    @property
    def names(self) -> list[str]:
        return sorted(self.entry_points)

    def check(self, name: str) -> None:
        """Refuse a name the operator does not offer, listing those it does."""
        if name not in self.entry_points:
            offered = ", ".join(self.names) or "none (this platform offers no python backends)"
            raise Invalid(
                f"target of a python backend must be the name of a model this platform offers, "
                f"got {name[:100]!r}; offered: {offered}",
                field="target",
            )

    def open(self, name: str) -> PythonBackend:
        """The named model's function, imported now (it is the operator's code)."""
        self.check(name)
        try:
            function = self.entry_points[name].load()
        except (ImportError, AttributeError):
            log.exception("python backend %r cannot be loaded", name)
            function = None
        if not callable(function):
            raise Invalid(
                f"python backend {name!r} is offered but cannot be loaded; "
                "ask the platform operator to fix its configuration"
            )
        return PythonBackend(name, function)


@dataclass(frozen=True)
class ModelSources:
    """Where a tenant's models may come from: the operator's in-process models, and URLs
    reached through the guarded client (``quorum.outside``)."""

    offered: OperatorBackends
    outside: OutsideClient


def check_backend(kind: str, target: str, *, sources: ModelSources) -> None:
    """Refuse a backend that cannot work: an unknown built-in or python model, a URL that is not
    http(s) (its address is checked when it is called: a name may resolve elsewhere by then)."""
    if kind == "python":
        sources.offered.check(target)
    elif kind == "http":
        try:
            checked_url(target)
        except Refused as exc:
            raise Invalid(exc.message, field="target") from None
    elif kind != "builtin":
        open_backend(kind, target, sources=sources)
    elif target not in BUILTIN_BACKENDS:
        raise Invalid(
            f"target of a builtin backend must be one of {BUILTIN_BACKENDS}, got {target!r}"
        )


def open_backend(kind: str, target: str, *, sources: ModelSources) -> ModelBackend:
    """An HTTP or operator-offered python backend (built-ins are opened by the service, per
    project)."""
    if kind == "http":
        return HttpBackend(target, sources.outside)
    if kind == "python":
        return sources.offered.open(target)
    if kind == "builtin":
        raise Invalid(f"the builtin backend {target!r} is opened for a project, not alone")
    raise Invalid(f"kind must be one of {', '.join(BACKEND_KINDS)}, got {kind!r}")
