"""Bounds on the free-form JSON that tenants and workers send and Quorum stores.

Task params and metadata, project params, worker responses, review corrections, gold answers,
qualification tests and model replies are stored as JSON and read back by every surface (the
API, exports, the worker's next task, pages). A value that the database cannot hold, or that a
reader cannot walk (nested 900 levels, a reader's recursion limit), would be stored and then
break each read: so such a value is refused when it comes in, with a message naming the field.
Every schema that takes free-form JSON uses the types below; bulk imports go through the same
schemas, so one walk (``json_bound_errors``) is the one rule.

What is refused, and why:

- nesting deeper than ``MAX_DEPTH`` (readers and serializers recurse per level);
- a value larger than its limit once encoded (``JsonLimits.max_bytes``), a string longer than
  ``MAX_STRING_CHARS``, an object with more than ``MAX_OBJECT_KEYS`` keys or a key longer than
  ``MAX_KEY_CHARS`` (one request must not fill the disk or a reader's memory);
- a NUL character in a string or key (PostgreSQL's ``text`` and ``jsonb`` cannot hold ``\\u0000``)
  and a lone surrogate (not Unicode: it cannot be encoded as UTF-8);
- NaN and Infinity (Python's parser accepts the tokens, JSON and PostgreSQL do not; ``1e400``
  parses as Infinity) and integers outside 64 bits (what exports, columns and other languages'
  clients hold);
- anything that is not JSON (bytes or dates from a Parquet row, say).

Numbers come back as the same decimal value; PostgreSQL's jsonb writes them without an exponent,
so a float may come back as an int equal to it (``1e16`` as ``10000000000000000``), which every
reader takes (exports write params and metadata as JSON text).

Accepted as they are: ``-0`` (read back as ``0`` from PostgreSQL, equal to it), and duplicate
keys in a request body, where the last one wins as in every JSON parser the server uses (the
stored object has the key once; refusing would need a parser of our own in front of FastAPI's).

Depth counts containers: ``{}`` is 1 level deep, ``{"a": {"b": []}}`` 3. The limits are
constants, not settings, because schemas are built at import time and every process must
agree on what it will later be able to read.
"""

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

KIB = 1024
MIB = 1024 * KIB
MAX_DEPTH = 32
"""Levels of nesting: far more than any task type's shape needs (5 or so), and far under the
recursion limits of the parsers and serializers that read stored values back (about 200-1000)."""
MAX_STRING_CHARS = 1_000_000
"""Characters in one string: a long document or a model's long answer fits (a 250k-token
context is about a million characters); a whole body of junk in one field does not."""
MAX_KEY_CHARS = 256
"""Characters in one object key: keys are names (fields, labels), not content."""
MAX_OBJECT_KEYS = 10_000
"""Keys in one object: a generous form or attribute map; 100k keys is an attack on the reader."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers a 64-bit column, Parquet exports and most clients' JSON parsers hold exactly."""


@dataclass(frozen=True)
class JsonLimits:
    """The bounds of one kind of stored value; ``max_bytes`` is its size as compact UTF-8 JSON
    (escapes aside)."""

    max_bytes: int
    max_depth: int = MAX_DEPTH
    max_string_chars: int = MAX_STRING_CHARS

    def describe_size(self) -> str:
        return (
            f"{self.max_bytes // MIB} MiB"
            if self.max_bytes >= MIB
            else f"{self.max_bytes // KIB} KiB"
        )


METADATA = JsonLimits(max_bytes=256 * KIB)
"""A task's or batch's metadata: the customer's own bookkeeping, returned with every task read."""
PAYLOAD = JsonLimits(max_bytes=4 * MIB)
"""Task params (project defaults included), worker responses, corrections and answers: the work
itself, which may carry long texts (conversations, documents), under the 10 MiB request body."""

Loc = tuple[str | int, ...]
_LOC_KEY_CHARS = 64


class _Path:
    """Where a value sits, as a linked list from the leaf: cheap to extend, built only on error."""

    __slots__ = ("parent", "part")

    def __init__(self, parent: "_Path | None", part: str | int) -> None:
        self.parent, self.part = parent, part

    def loc(self) -> Loc:
        parts: list[str | int] = []
        node: _Path | None = self
        while node is not None:
            parts.append(_printable(node.part) if isinstance(node.part, str) else node.part)
            node = node.parent
        return tuple(reversed(parts))


def _printable(key: str) -> str:
    """A key as it can appear in an error message: short, encodable, without NUL."""
    if len(key) > _LOC_KEY_CHARS:
        key = key[:_LOC_KEY_CHARS] + "…"
    if "\x00" in key or _utf8_size(key) is None:
        return ascii(key)
    return key


def _utf8_size(text: str) -> int | None:
    """Bytes of ``text`` in UTF-8; None when it holds a lone surrogate (not Unicode)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def json_bound_problem(value: Any, limits: JsonLimits) -> tuple[Loc, str] | None:
    """The first reason ``value`` may not be stored, with where it is (``()``: the whole value),
    or None when it is within ``limits``.

    The walk uses its own stack, so no depth of input can exhaust Python's; it stops at the first
    problem and at the first level past ``max_depth``, so its cost is bounded by what it accepts.
    """
    size = 0
    stack: list[tuple[Any, int, _Path | None]] = [(value, 0, None)]
    while stack:
        node, depth, path = stack.pop()
        kind = type(node)
        if kind is str:
            if len(node) > limits.max_string_chars:
                return _at(path), f"longer than {limits.max_string_chars} characters"
            if "\x00" in node:
                return _at(path), "contains a NUL character (\\u0000), which cannot be stored"
            text_size = _utf8_size(node)
            if text_size is None:
                return _at(path), "contains a lone surrogate (not valid Unicode)"
            size += text_size + 2
        elif kind is dict or kind is list or kind is tuple:
            if depth >= limits.max_depth:
                return (), f"nested deeper than {limits.max_depth} levels"
            size += 1 + max(len(node), 1)
            if kind is not dict:
                stack.extend((item, depth + 1, _Path(path, i)) for i, item in enumerate(node))
            else:
                if len(node) > MAX_OBJECT_KEYS:
                    return _at(path), f"more than {MAX_OBJECT_KEYS} keys"
                for key, item in node.items():
                    key_path = _Path(path, key if type(key) is str else str(key))
                    if type(key) is not str:
                        return key_path.loc(), "keys must be strings"
                    if len(key) > MAX_KEY_CHARS:
                        return key_path.loc(), f"key longer than {MAX_KEY_CHARS} characters"
                    if "\x00" in key:
                        return key_path.loc(), "key contains a NUL character (\\u0000)"
                    key_size = _utf8_size(key)
                    if key_size is None:
                        return key_path.loc(), "key contains a lone surrogate (not valid Unicode)"
                    size += key_size + 3
                    stack.append((item, depth + 1, key_path))
        elif kind is int:
            if not INT_MIN <= node <= INT_MAX:
                return _at(path), "integer out of range (a 64-bit integer: -2^63 to 2^63-1)"
            size += len(str(node))
        elif kind is float:
            if not math.isfinite(node):
                return _at(path), "not a finite number (NaN and Infinity are not JSON)"
            size += len(repr(node))
        elif node is None or kind is bool:
            size += 5
        elif isinstance(node, BaseModel):
            continue  # built by code (a consolidated answer), from parts validated already
        else:
            return _at(path), f"not a JSON value ({kind.__name__})"
        if size > limits.max_bytes:
            return (), f"larger than {limits.describe_size()} when encoded"
    return None


def _at(path: _Path | None) -> Loc:
    return path.loc() if path is not None else ()


def _refuse(loc: Loc, message: str) -> ValidationError:
    """A validation error at ``loc`` under the field being validated (pydantic prefixes it)."""
    error = PydanticCustomError("json_bounds", message)
    return ValidationError.from_exception_data(
        "json_bounds", [InitErrorDetails(type=error, loc=loc, input=None)]
    )


def bounded(limits: JsonLimits, *, named: str | None = None) -> AfterValidator:
    """A pydantic validator keeping a JSON value within ``limits``; errors name the field.

    ``named`` names a value that is a whole request body (whose own name is just "body").
    """
    prefix: Loc = (named,) if named else ()

    def check(value: Any) -> Any:
        problem = json_bound_problem(value, limits)
        if problem is not None:
            loc, message = problem
            raise _refuse((*prefix, *loc), message)
        return value

    return AfterValidator(check)


BoundedMetadata = Annotated[dict[str, Any], bounded(METADATA)]
"""Free-form metadata of a task or a batch."""
BoundedObject = Annotated[dict[str, Any], bounded(PAYLOAD)]
"""A free-form JSON object that is work: params, a response, an answer."""
BoundedText = Annotated[str, bounded(PAYLOAD)]
"""A string stored as text (an instruction, a model's output): no NUL, valid Unicode, bounded."""


class BoundedPayload(BaseModel):
    """Base of a task type's ``Params`` and ``Response``: the whole raw document is checked
    against ``PAYLOAD`` before its fields are, so every way a payload is parsed (API, imports,
    review, gold, model replies) refuses the same shapes."""

    @model_validator(mode="before")
    @classmethod
    def _within_bounds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            problem = json_bound_problem(data, PAYLOAD)
            if problem is not None:
                raise _refuse(*problem)
        return data
