"""``comparison``: given a prompt and two or more model answers, pick the better one (or a tie),
optionally rank them all, rate on a scale and explain why. Feeds preference data (DPO) and
model leaderboards.

``presented_order`` records the order the worker saw the answers in (the web app shuffles it per
worker), so position bias can be measured.
"""

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import Literal

from pydantic import Field, model_validator

from quorum.errors import Invalid
from quorum.tasktypes.base import (
    Payload,
    Strict,
    TaskType,
    agreement_confidence,
    choice_confidence,
    register,
    weighted_vote,
)


class ModelAnswer(Strict):
    content: str = Field(min_length=1)
    model: str | None = Field(None, description="hidden from workers")


class RatingScale(Strict):
    min: int = 1
    max: int = 7
    labels: dict[str, str] = {}

    @model_validator(mode="after")
    def _range(self) -> "RatingScale":
        if self.max <= self.min:
            raise ValueError("rating_scale.max must be greater than rating_scale.min")
        return self


class ComparisonParams(Payload):
    prompt: str = Field(min_length=1)
    answers: list[ModelAnswer] = Field(min_length=2, max_length=10)
    allow_tie: bool = True
    rating_scale: RatingScale | None = None
    rationale: Literal["required", "optional", "none"] = "optional"
    criteria: list[str] = []


class ComparisonResponse(Payload):
    preferred: int | None = Field(None, ge=0, description="index of the better answer; null = tie")
    ranking: list[int] | None = None
    rating: int | None = None
    rationale: str | None = None
    presented_order: list[int] | None = None


def _is_permutation(values: list[int], size: int) -> bool:
    return sorted(values) == list(range(size))


def ranking_similarity(a: list[int], b: list[int]) -> float:
    """Share of answer pairs the two rankings put in the same order (1 - normalized Kendall tau
    distance); 1.0 with fewer than two answers."""
    position = {answer: i for i, answer in enumerate(b)}
    pairs = list(combinations(a, 2))
    if not pairs:
        return 1.0
    return sum(position[x] < position[y] for x, y in pairs) / len(pairs)


class Comparison(TaskType[ComparisonParams, ComparisonResponse]):
    name = "comparison"
    Params = ComparisonParams
    Response = ComparisonResponse

    def check(self, params: ComparisonParams, response: ComparisonResponse) -> None:
        count = len(params.answers)
        if response.preferred is None and not params.allow_tie:
            raise Invalid("preferred is required: this task does not allow a tie")
        if response.preferred is not None and response.preferred >= count:
            raise Invalid(
                f"preferred must be an answer index below {count}, got {response.preferred}"
            )
        if response.ranking is not None:
            if not _is_permutation(response.ranking, count):
                raise Invalid(f"ranking must order every answer index 0..{count - 1} once")
            if response.preferred is not None and response.ranking[0] != response.preferred:
                raise Invalid("ranking must start with the preferred answer")
        if response.presented_order is not None and not _is_permutation(
            response.presented_order, count
        ):
            raise Invalid(f"presented_order must hold every answer index 0..{count - 1} once")
        scale = params.rating_scale
        if scale is None and response.rating is not None:
            raise Invalid("rating: this task has no rating scale")
        if scale is not None:
            if response.rating is None:
                raise Invalid("rating is required")
            if not scale.min <= response.rating <= scale.max:
                raise Invalid(
                    f"rating must be within {scale.min}..{scale.max}, got {response.rating}"
                )
        rationale = (response.rationale or "").strip()
        if params.rationale == "required" and not rationale:
            raise Invalid("rationale is required")
        if params.rationale == "none" and rationale:
            raise Invalid("rationale: this task does not take one")

    def score(self, response: ComparisonResponse, gold: ComparisonResponse) -> float:
        """1 for the same preference, 0.5 between a tie and a preference, 0 for opposite ones."""
        if response.preferred == gold.preferred:
            return 1.0
        if response.preferred is None or gold.preferred is None:
            return 0.5
        return 0.0

    def consolidate(
        self, responses: Sequence[ComparisonResponse], weights: Sequence[float]
    ) -> ComparisonResponse:
        """Weighted vote on the preference, weighted Borda count on rankings, mean rating."""
        if not responses:
            raise Invalid("nothing to consolidate")
        preferred = weighted_vote([r.preferred for r in responses], weights)
        ranking = None
        ranked = [(r.ranking, w) for r, w in zip(responses, weights, strict=True) if r.ranking]
        if ranked:
            points: dict[int, float] = defaultdict(float)
            for order, weight in ranked:
                for position, index in enumerate(order):
                    points[index] += weight * (len(order) - position)
            ranking = sorted(points, key=lambda i: (-points[i], i))
        rated = [
            (r.rating, w) for r, w in zip(responses, weights, strict=True) if r.rating is not None
        ]
        rating = None
        if rated:
            rating = round(sum(r * w for r, w in rated) / sum(w for _, w in rated))
        agreeing = [
            (r, w) for r, w in zip(responses, weights, strict=True) if r.preferred == preferred
        ]
        rationale = max(agreeing, key=lambda rw: rw[1])[0].rationale if agreeing else None
        return ComparisonResponse(
            preferred=preferred,  # type: ignore[arg-type]
            ranking=ranking,
            rating=rating,
            rationale=rationale,
        )

    def confidence(
        self,
        params: ComparisonParams,
        responses: Sequence[ComparisonResponse],
        weights: Sequence[float],
        final: ComparisonResponse,
    ) -> dict[str, float]:
        """The posterior of the winning answer (a tie is one more option); for the ranking and the
        rating, how close the workers' own were to the delivered one. A written rationale is one
        worker's and gets none."""
        options = len(params.answers) + (1 if params.allow_tie else 0)
        fields = {
            "preferred": choice_confidence(
                final.preferred, [r.preferred for r in responses], weights, options
            )
        }
        if final.ranking is not None:
            ranked = [(r.ranking, w) for r, w in zip(responses, weights, strict=True) if r.ranking]
            fields["ranking"] = agreement_confidence(
                [ranking_similarity(order, final.ranking) for order, _ in ranked],
                [w for _, w in ranked],
            )
        scale = params.rating_scale
        if final.rating is not None and scale is not None:
            rated = [
                (r.rating, w)
                for r, w in zip(responses, weights, strict=True)
                if r.rating is not None
            ]
            span = scale.max - scale.min
            fields["rating"] = agreement_confidence(
                [1 - abs(rating - final.rating) / span for rating, _ in rated],
                [w for _, w in rated],
            )
        return fields


register(Comparison())
