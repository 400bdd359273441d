"""Model backends: where pre-labels and automatic ratings come from.

A backend answers one task at a time: given the task type and its params, it returns a suggested
response (in the task type's ``Response`` shape) and a confidence in [0, 1]. Two kinds:

- ``http``: an endpoint that accepts ``POST {"type": ..., "params": {...}}`` and replies
  ``{"response": {...}, "confidence": 0.87}`` (any server, in any language, can speak this);
- ``python``: an entry point ``"package.module:function"`` called as ``function(type, params)``
  and returning the same dictionary;
- ``builtin``: a model that ships with Quorum and learns from the project itself; the only one is
  ``active-learning`` (see ``quorum.assist.active_learning``), opened per project.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from quorum.errors import Invalid

BACKEND_KINDS = ("http", "python", "builtin")
BUILTIN_BACKENDS = ("active-learning",)


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
    """A model served over HTTP with the protocol above."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout

    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion:
        try:
            reply = httpx.post(
                self.url, json={"type": task_type, "params": params}, timeout=self.timeout
            )
            reply.raise_for_status()
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Invalid(f"model backend {self.url} failed: {exc}") from None
        return _suggestion(body, f"model backend {self.url}")


class PythonBackend:
    """A model called in-process through an entry point ``module:function``."""

    def __init__(self, entry_point: str) -> None:
        self.entry_point = entry_point
        self.function = load_entry_point(entry_point)

    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion:
        return _suggestion(self.function(task_type, params), f"entry point {self.entry_point}")


def load_entry_point(entry_point: str) -> Callable[[str, dict[str, Any]], Any]:
    module_name, _, attribute = entry_point.partition(":")
    if not module_name or not attribute:
        raise Invalid(f"target must look like 'package.module:function', got {entry_point!r}")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        raise Invalid(f"entry point {entry_point!r} cannot be loaded") from None
    if not callable(function):
        raise Invalid(f"entry point {entry_point!r} is not callable")
    return function


def check_backend(kind: str, target: str) -> None:
    """Refuse a backend that cannot work: an unknown built-in, an entry point that does not
    load (a URL is tried when first used)."""
    if kind != "builtin":
        open_backend(kind, target)
    elif target not in BUILTIN_BACKENDS:
        raise Invalid(
            f"target of a builtin backend must be one of {BUILTIN_BACKENDS}, got {target!r}"
        )


def open_backend(kind: str, target: str) -> ModelBackend:
    """An HTTP or entry-point backend (built-ins are opened by the service, per project)."""
    if kind == "http":
        return HttpBackend(target)
    if kind == "python":
        return PythonBackend(target)
    if kind == "builtin":
        raise Invalid(f"the builtin backend {target!r} is opened for a project, not alone")
    raise Invalid(f"kind must be one of {', '.join(BACKEND_KINDS)}, got {kind!r}")
