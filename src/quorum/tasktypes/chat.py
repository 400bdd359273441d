"""``chat``: the worker writes a whole multi-turn conversation (user and assistant turns) against
the guidelines, for supervised fine-tuning. The response is in the ``messages`` format that SFT
training code reads.
"""

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from quorum.errors import Invalid
from quorum.tasktypes.base import (
    Payload,
    Strict,
    TaskType,
    agreement_confidence,
    register,
    text_similarity,
)


class ChatParams(Payload):
    guidelines: str = ""
    system_prompt: str | None = None
    topic: str | None = None
    min_turns: int = Field(2, ge=1, description="messages, user and assistant counted separately")
    max_turns: int | None = Field(None, ge=1)
    max_characters_per_turn: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> "ChatParams":
        if self.max_turns is not None and self.max_turns < self.min_turns:
            raise ValueError("max_turns must be >= min_turns")
        return self


class Message(Strict):
    role: Literal["user", "assistant"]
    content: str


class ChatResponse(Payload):
    messages: list[Message] = Field(min_length=1)


class Chat(TaskType[ChatParams, ChatResponse]):
    name = "chat"
    Params = ChatParams
    Response = ChatResponse

    def check(self, params: ChatParams, response: ChatResponse) -> None:
        count = len(response.messages)
        if count < params.min_turns:
            raise Invalid(f"messages needs at least {params.min_turns} turns, got {count}")
        if params.max_turns is not None and count > params.max_turns:
            raise Invalid(f"messages allows at most {params.max_turns} turns, got {count}")
        for index, message in enumerate(response.messages):
            expected = "user" if index % 2 == 0 else "assistant"
            if message.role != expected:
                raise Invalid(
                    f"messages[{index}].role must be {expected!r}: turns alternate, user first"
                )
            length = len(message.content.strip())
            if length == 0:
                raise Invalid(f"messages[{index}].content must not be empty")
            limit = params.max_characters_per_turn
            if limit is not None and length > limit:
                raise Invalid(
                    f"messages[{index}].content allows at most {limit} characters, got {length}"
                )

    def score(self, response: ChatResponse, gold: ChatResponse) -> float:
        """Turn-by-turn text similarity, a missing or extra turn scoring zero."""
        turns = max(len(response.messages), len(gold.messages))
        pairs = zip(response.messages, gold.messages, strict=False)
        return (
            sum(text_similarity(a.content, b.content) for a, b in pairs if a.role == b.role) / turns
        )

    def confidence(
        self,
        params: ChatParams,
        responses: Sequence[ChatResponse],
        weights: Sequence[float],
        final: ChatResponse,
    ) -> dict[str, float]:
        """One figure for the conversation: it is written whole by one worker, and other
        workers' conversations differ turn by turn however good they are."""
        author = next(i for i, r in enumerate(responses) if r is final)
        scores = [self.score(r, final) for r in responses]
        return {"messages": agreement_confidence(scores, weights, author=author)}


register(Chat())
