"""``categorization``: pick one or several categories for a text or an image.

Accepts Scale's legacy form (``categories`` with the answer in ``category``) and the taxonomy form
(``taxonomies`` with the answer in ``taxonomies``). Exactly one of the two must be given.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from quorum.errors import Invalid
from quorum.tasktypes.base import (
    Payload,
    Strict,
    TaskType,
    choice_confidence,
    register,
    set_confidence,
    set_similarity,
    weighted_vote,
)

AttachmentType = Literal["text", "image", "website"]


class Taxonomy(Strict):
    type: Literal["category"] = "category"
    description: str = ""
    choices: list[str] = Field(min_length=2)
    allow_multiple: bool = False


class CategorizationParams(Payload):
    attachment: str = Field(min_length=1)
    attachment_type: AttachmentType = "text"
    categories: list[str] | None = Field(None, min_length=2)
    allow_multiple: bool = False
    taxonomies: dict[str, Taxonomy] | None = None

    @model_validator(mode="after")
    def _one_ontology(self) -> "CategorizationParams":
        # Runs once per task of a bulk import: a categories list is checked in place.
        categories, taxonomies = self.categories, self.taxonomies
        if (categories is None) == (taxonomies is None):
            raise ValueError("give exactly one of categories or taxonomies")
        if categories is not None:
            if len(set(categories)) != len(categories):
                raise ValueError("categories has duplicate choices")
            return self
        if not taxonomies:
            raise ValueError("taxonomies must not be empty")
        for name, choices in self.ontologies().items():
            if len(set(choices)) != len(choices):
                raise ValueError(f"{name} has duplicate choices")
        return self

    def ontologies(self) -> dict[str, list[str]]:
        if self.categories is not None:
            return {"categories": self.categories}
        return {f"taxonomies.{k}.choices": t.choices for k, t in (self.taxonomies or {}).items()}


class CategorizationResponse(Payload):
    category: str | list[str] | None = None
    taxonomies: dict[str, str | list[str]] | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> "CategorizationResponse":
        if (self.category is None) == (self.taxonomies is None):
            raise ValueError("give exactly one of category or taxonomies")
        return self

    def answers(self) -> dict[str, frozenset[str]]:
        """Every question's chosen values, keyed by question (``category`` or a taxonomy)."""
        raw = {"category": self.category} if self.category is not None else self.taxonomies or {}
        return {k: frozenset([v] if isinstance(v, str) else v) for k, v in raw.items()}


def _check_choice(field: str, value: str | list[str], choices: list[str], multiple: bool) -> None:
    values = [value] if isinstance(value, str) else value
    if isinstance(value, list) and not multiple:
        raise Invalid(f"{field} takes one choice, got a list")
    if not values:
        raise Invalid(f"{field} needs at least one choice")
    for v in values:
        if v not in choices:
            raise Invalid(f"{field}: {v!r} is not one of {choices}")


class Categorization(TaskType[CategorizationParams, CategorizationResponse]):
    name = "categorization"
    Params = CategorizationParams
    Response = CategorizationResponse

    def check(self, params: CategorizationParams, response: CategorizationResponse) -> None:
        if params.categories is not None:
            if response.category is None:
                raise Invalid("response.category is required for a task with categories")
            _check_choice("category", response.category, params.categories, params.allow_multiple)
            return
        taxonomies = params.taxonomies or {}
        given = response.taxonomies
        if given is None:
            raise Invalid("response.taxonomies is required for a task with taxonomies")
        for name in given.keys() - taxonomies.keys():
            raise Invalid(f"taxonomies.{name} is not a taxonomy of this task")
        for name, taxonomy in taxonomies.items():
            if name not in given:
                raise Invalid(f"taxonomies.{name} is required")
            _check_choice(
                f"taxonomies.{name}", given[name], taxonomy.choices, taxonomy.allow_multiple
            )

    def score(self, response: CategorizationResponse, gold: CategorizationResponse) -> float:
        ours, theirs = response.answers(), gold.answers()
        if not theirs:
            return 1.0
        return sum(set_similarity(ours.get(k, frozenset()), v) for k, v in theirs.items()) / len(
            theirs
        )

    def consolidate(
        self, responses: Sequence[CategorizationResponse], weights: Sequence[float]
    ) -> CategorizationResponse:
        """Weighted vote per question; a multi-choice question keeps the choices over half."""
        if not responses:
            raise Invalid("nothing to consolidate")
        per_question: dict[str, list[tuple[frozenset[str], float]]] = defaultdict(list)
        for response, weight in zip(responses, weights, strict=True):
            for question, values in response.answers().items():
                per_question[question].append((values, weight))
        first = responses[0]
        result: dict[str, str | list[str]] = {}
        for question, votes in per_question.items():
            original = (
                first.category if question == "category" else (first.taxonomies or {})[question]
            )
            if isinstance(original, list):
                total = sum(w for _, w in votes)
                support: dict[str, float] = defaultdict(float)
                for values, w in votes:
                    for v in values:
                        support[v] += w
                result[question] = sorted(v for v, s in support.items() if s > total / 2)
            else:
                chosen = weighted_vote([next(iter(v)) for v, _ in votes], [w for _, w in votes])
                result[question] = str(chosen)
        if "category" in result:
            return CategorizationResponse(category=result["category"])
        return CategorizationResponse(taxonomies=result)

    def confidence(
        self,
        params: CategorizationParams,
        responses: Sequence[CategorizationResponse],
        weights: Sequence[float],
        final: CategorizationResponse,
    ) -> dict[str, float]:
        """Per question, the posterior of the delivered choice (of each in-or-out decision for a
        multiple choice), as for a single category before the project's model is fitted."""
        ontologies = params.ontologies()
        fields: dict[str, float] = {}
        for question, chosen in final.answers().items():
            path = "category" if question == "category" else f"taxonomies.{question}"
            options = ontologies["categories" if question == "category" else f"{path}.choices"]
            given = [
                (answers[question], w)
                for answers, w in zip((r.answers() for r in responses), weights, strict=True)
                if question in answers
            ]
            answers, trust = [a for a, _ in given], [w for _, w in given]
            raw = final.category if question == "category" else (final.taxonomies or {})[question]
            if isinstance(raw, list):
                fields[path] = set_confidence(chosen, answers, trust)
            else:
                fields[path] = choice_confidence(chosen, answers, trust, len(options))
        return fields


register(Categorization())
