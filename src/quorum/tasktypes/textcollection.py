"""``textcollection``: workers write or choose values in form fields (prompts, answers, stories).

Params follow Scale: ``attachments`` to read and ``fields`` to fill; the response is
``{"annotations": {field_id: value}}``.
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from quorum.errors import Invalid
from quorum.tasktypes.base import (
    Payload,
    Strict,
    TaskType,
    agreement_confidence,
    choice_confidence,
    register,
    set_confidence,
    set_similarity,
    text_similarity,
)


class Attachment(Strict):
    type: Literal["text", "image", "pdf", "video", "website", "audio"] = "text"
    content: str = Field(min_length=1)
    forms: list[str] | None = None


class _Field(Strict):
    field_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1)
    description: str = ""
    required: bool = True


class TextField(_Field):
    type: Literal["text"]
    min_characters: int = Field(0, ge=0)
    max_characters: int | None = Field(None, ge=1)
    hint: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> "TextField":
        if self.max_characters is not None and self.max_characters < self.min_characters:
            raise ValueError("max_characters must be >= min_characters")
        return self


class Choice(Strict):
    label: str = Field(min_length=1)
    value: str = Field(min_length=1)


class CategoryField(_Field):
    type: Literal["category"]
    choices: list[Choice] = Field(min_length=2)
    min_choices: int = Field(1, ge=0)
    max_choices: int = Field(1, ge=1)


class NumberField(_Field):
    type: Literal["number"]
    min: float | None = None
    max: float | None = None


class BooleanField(_Field):
    type: Literal["boolean"]


FormField = Annotated[
    TextField | CategoryField | NumberField | BooleanField, Field(discriminator="type")
]


class TextCollectionParams(Payload):
    attachments: list[Attachment] = []
    fields: list[FormField] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _unique_ids(cls, fields: list[FormField]) -> list[FormField]:
        ids = [f.field_id for f in fields]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"field_id must be unique, repeated: {duplicates}")
        return fields


FieldValue = str | float | bool | list[str]


class TextCollectionResponse(Payload):
    annotations: dict[str, FieldValue]


def _check_field(field: Any, value: Any) -> None:
    where = f"annotations.{field.field_id}"
    if isinstance(field, TextField):
        if not isinstance(value, str):
            raise Invalid(f"{where} must be text")
        length = len(value.strip())
        if length < field.min_characters:
            raise Invalid(f"{where} needs at least {field.min_characters} characters, got {length}")
        if field.max_characters is not None and length > field.max_characters:
            raise Invalid(f"{where} allows at most {field.max_characters} characters, got {length}")
    elif isinstance(field, CategoryField):
        chosen = value if isinstance(value, list) else [value]
        allowed = {c.value for c in field.choices}
        for v in chosen:
            if v not in allowed:
                raise Invalid(f"{where}: {v!r} is not one of {sorted(allowed)}")
        if not field.min_choices <= len(chosen) <= field.max_choices:
            bounds = f"{field.min_choices} to {field.max_choices}"
            raise Invalid(f"{where} takes {bounds} choices, got {len(chosen)}")
    elif isinstance(field, NumberField):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"{where} must be a number")
        if field.min is not None and value < field.min:
            raise Invalid(f"{where} must be >= {field.min:g}, got {value}")
        if field.max is not None and value > field.max:
            raise Invalid(f"{where} must be <= {field.max:g}, got {value}")
    elif not isinstance(value, bool):
        raise Invalid(f"{where} must be true or false")


def value_similarity(a: Any, b: Any) -> float:
    """Similarity of two field values of the same field."""
    if isinstance(a, str) and isinstance(b, str):
        return text_similarity(a, b)
    if isinstance(a, list) or isinstance(b, list):
        as_set = lambda v: set(v) if isinstance(v, list) else {v}  # noqa: E731
        return set_similarity(as_set(a), as_set(b))
    return 1.0 if a == b else 0.0


class TextCollection(TaskType[TextCollectionParams, TextCollectionResponse]):
    """Written text is not voted on: consolidation keeps the weighted medoid whole."""

    name = "textcollection"
    Params = TextCollectionParams
    Response = TextCollectionResponse

    def check(self, params: TextCollectionParams, response: TextCollectionResponse) -> None:
        fields = {f.field_id: f for f in params.fields}
        for field_id in response.annotations.keys() - fields.keys():
            raise Invalid(f"annotations.{field_id} is not a field of this task")
        for field_id, field in fields.items():
            value = response.annotations.get(field_id)
            if value is None or value == "" or value == []:
                if field.required:
                    raise Invalid(f"annotations.{field_id} is required")
                continue
            _check_field(field, value)

    def score(self, response: TextCollectionResponse, gold: TextCollectionResponse) -> float:
        expected = gold.annotations
        if not expected:
            return 1.0
        given = response.annotations
        return sum(
            value_similarity(given[k], v) if k in given else 0.0 for k, v in expected.items()
        ) / len(expected)

    def confidence(
        self,
        params: TextCollectionParams,
        responses: Sequence[TextCollectionResponse],
        weights: Sequence[float],
        final: TextCollectionResponse,
    ) -> dict[str, float]:
        """Per filled field of the delivered form, which is one worker's (``final`` is one of
        ``responses``)."""
        fields = {f.field_id: f for f in params.fields}
        confidences = {}
        for field_id, chosen in final.annotations.items():
            answered = [
                (r, w) for r, w in zip(responses, weights, strict=True) if field_id in r.annotations
            ]
            author = next(i for i, (r, _) in enumerate(answered) if r is final)
            confidences[f"annotations.{field_id}"] = _field_confidence(
                fields[field_id],
                chosen,
                [(r.annotations[field_id], w) for r, w in answered],
                author,
            )
        return confidences


register(TextCollection())


def _field_confidence(
    field: Any, chosen: FieldValue, given: list[tuple[FieldValue, float]], author: int
) -> float:
    """A choice is judged by the posterior of the delivered value, written text and numbers by
    how close the other workers' values came to it."""
    values, weights = [v for v, _ in given], [w for _, w in given]
    if isinstance(field, CategoryField) and isinstance(chosen, list):
        as_set = lambda v: frozenset(v if isinstance(v, list) else [v])  # noqa: E731
        return set_confidence(as_set(chosen), [as_set(v) for v in values], weights)
    if isinstance(field, CategoryField | BooleanField):
        options = len(field.choices) if isinstance(field, CategoryField) else 2
        return choice_confidence(chosen, values, weights, options)  # type: ignore[arg-type]
    similarities = [value_similarity(v, chosen) for v in values]
    return agreement_confidence(similarities, weights, author=author)
