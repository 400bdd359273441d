"""The task-type extension point.

A task type is a module in this package that defines a subclass of ``TaskType`` and registers one
instance of it. It declares what the customer sends (``Params``), what a worker submits
(``Response``) and the rules every other domain relies on:

- ``check(params, response)``: semantic validation beyond the schema (a box inside the image, a
  label in the ontology, text within its length bounds); raises ``Invalid`` with a message that
  names the field;
- ``score(response, gold)``: how close a response is to a known answer, in [0, 1];
- ``agreement(responses)``: how much several workers agree, in [0, 1];
- ``consolidate(responses, weights)``: the single answer delivered to the customer;
- ``confidence(params, responses, weights, final)``: how sure each field of that answer is, in
  [0, 1], keyed by the field's path (``category``, ``annotations[0].iou``). The customer gets it as
  ``response.confidence``; the least sure field decides whether a task asks for more responses.

``weights`` are the workers' trust: their estimated chance of answering right.

Params and responses are strict pydantic models (``Payload``): unknown fields are refused, never
dropped, and shapes that could not be stored or read back are refused (``quorum.jsonbounds``).
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from difflib import SequenceMatcher
from itertools import combinations
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from quorum.errors import Invalid
from quorum.jsonbounds import BoundedPayload

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class Strict(BaseModel):
    """Base for customer and worker payloads: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Payload(Strict, BoundedPayload):
    """Base of a type's ``Params`` and ``Response``: the whole document within ``jsonbounds``'
    limits (depth, size, no NUL, finite numbers), whoever parses it."""


class TaskType(Generic[P, R]):
    name: ClassVar[str]
    Params: type[P]
    Response: type[R]

    def check(self, params: P, response: R) -> None:
        """Refuse a response that is well-formed but wrong for these params."""

    def score(self, response: R, gold: R) -> float:
        raise NotImplementedError

    def agreement(self, responses: Sequence[R]) -> float:
        """Mean pairwise score; 1.0 when there is nothing to disagree with."""
        pairs = list(combinations(responses, 2))
        if not pairs:
            return 1.0
        return sum((self.score(a, b) + self.score(b, a)) / 2 for a, b in pairs) / len(pairs)

    def consolidate(self, responses: Sequence[R], weights: Sequence[float]) -> R:
        """By default the weighted medoid: the response that agrees most with the others."""
        return weighted_medoid(responses, weights, self.score)

    def confidence(
        self, params: P, responses: Sequence[R], weights: Sequence[float], final: R
    ) -> dict[str, float]:
        """How sure each field of ``final`` (what ``consolidate`` made of these) is."""
        raise NotImplementedError

    def parse_response(self, params: P, raw: dict[str, Any]) -> R:
        """Validate a worker's raw answer against the schema and then ``check``."""
        response = self.Response.model_validate(raw)
        self.check(params, response)
        return response


_REGISTRY: dict[str, TaskType[Any, Any]] = {}


def register(task_type: TaskType[Any, Any]) -> TaskType[Any, Any]:
    _REGISTRY[task_type.name] = task_type
    return task_type


def get_task_type(name: str) -> TaskType[Any, Any]:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise Invalid(f"unknown task type {name!r}; supported types are {known}") from None


def task_type_names() -> list[str]:
    return sorted(_REGISTRY)


def weighted_vote(values: Sequence[Hashable], weights: Sequence[float]) -> Hashable:
    """The value with the largest total weight (first seen wins a tie)."""
    totals: dict[Hashable, float] = defaultdict(float)
    for value, weight in zip(values, weights, strict=True):
        totals[value] += weight
    return max(totals, key=lambda v: totals[v])


def weighted_medoid(
    items: Sequence[R], weights: Sequence[float], similarity: Callable[[R, R], float]
) -> R:
    """The item with the largest weighted similarity to all the items (itself included)."""
    if not items:
        raise Invalid("nothing to consolidate")

    def support(candidate: R) -> float:
        return sum(
            w * similarity(candidate, other) for other, w in zip(items, weights, strict=True)
        )

    return max(items, key=support)


def text_similarity(a: str, b: str) -> float:
    """Similarity of two texts in [0, 1], whitespace and case folded."""
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    if a == b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def set_similarity(a: set[Any], b: set[Any]) -> float:
    """Jaccard index; two empty sets agree fully."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def choice_confidence(
    chosen: Hashable, answers: Sequence[Hashable], weights: Sequence[float], options: int
) -> float:
    """Posterior that ``chosen`` is right among ``options`` equally likely values, each answer
    right with its worker's trust and wrong evenly over the rest: categories' one-coin model."""
    import numpy as np

    from quorum.quality.aggregation import item_posterior, one_coin_likelihoods

    values = list(dict.fromkeys([chosen, *answers]))
    count = max(options, len(values))
    index = np.array([values.index(a) for a in answers], dtype=np.intp)
    likelihoods = one_coin_likelihoods(index, np.asarray(weights, dtype=float), count)
    return float(item_posterior(np.full(count, 1.0 / count), likelihoods)[0])


def set_confidence(
    chosen: frozenset[Any], answers: Sequence[frozenset[Any]], weights: Sequence[float]
) -> float:
    """A multiple choice: each value's in-or-out decision as a two-way choice; the least sure."""
    values = set(chosen).union(*answers) or {None}
    return min(
        choice_confidence(v in chosen, [v in a for a in answers], weights, 2) for v in values
    )


def agreement_confidence(
    similarities: Sequence[float], weights: Sequence[float], *, author: int | None = None
) -> float:
    """Trust-weighted mean similarity of the answers to the delivered value, for values that are
    not voted on (free text, ratings, outlines). The ``author`` of a value delivered whole is left
    out, since it agrees with itself; a lone answer is as sure as its worker's trust."""
    if len(similarities) == 1:
        return weights[0]
    others = [
        (s, w) for i, (s, w) in enumerate(zip(similarities, weights, strict=True)) if i != author
    ]
    total = sum(w for _, w in others)
    return sum(s * w for s, w in others) / total if total > 0 else 0.0
