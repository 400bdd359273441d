"""categorization, textcollection, comparison and chat: checks, scores and consolidation."""

import pytest

from quorum.errors import Invalid
from quorum.tasktypes import get_task_type

categorization = get_task_type("categorization")
textcollection = get_task_type("textcollection")
comparison = get_task_type("comparison")
chat = get_task_type("chat")


def cat(**params):
    return categorization.Params.model_validate({"attachment": "x", **params})


def test_categorization_single_and_multiple_choice():
    single = cat(categories=["a", "b", "c"])
    categorization.parse_response(single, {"category": "a"})
    with pytest.raises(Invalid, match="takes one choice"):
        categorization.parse_response(single, {"category": ["a", "b"]})
    with pytest.raises(Invalid, match="'z' is not one of"):
        categorization.parse_response(single, {"category": "z"})
    multiple = cat(categories=["a", "b", "c"], allow_multiple=True)
    categorization.parse_response(multiple, {"category": ["a", "c"]})


def test_categorization_taxonomies():
    params = cat(
        taxonomies={
            "colour": {"choices": ["red", "blue"]},
            "tags": {"choices": ["x", "y", "z"], "allow_multiple": True},
        }
    )
    categorization.parse_response(params, {"taxonomies": {"colour": "red", "tags": ["x"]}})
    with pytest.raises(Invalid, match=r"taxonomies\.tags is required"):
        categorization.parse_response(params, {"taxonomies": {"colour": "red"}})


def test_categorization_params_need_exactly_one_ontology():
    with pytest.raises(ValueError, match="exactly one of categories or taxonomies"):
        cat()


def test_categorization_params_refuse_repeated_choices_and_no_taxonomy():
    with pytest.raises(ValueError, match="categories has duplicate choices"):
        cat(categories=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"taxonomies\.t\.choices has duplicate choices"):
        cat(taxonomies={"t": {"choices": ["x", "x"]}})
    with pytest.raises(ValueError, match="taxonomies must not be empty"):
        cat(taxonomies={})


def test_categorization_weighted_vote_and_multi_choice_majority():
    r = categorization.Response.model_validate
    votes = [r({"category": "a"}), r({"category": "b"}), r({"category": "b"})]
    assert categorization.consolidate(votes, [1, 1, 1]).category == "b"
    assert categorization.consolidate(votes, [3, 1, 1]).category == "a"
    multi = [r({"category": ["a", "b"]}), r({"category": ["a"]}), r({"category": ["a", "c"]})]
    assert categorization.consolidate(multi, [1, 1, 1]).category == ["a"]
    assert categorization.score(r({"category": ["a", "b"]}), r({"category": ["a"]})) == 0.5
    assert categorization.agreement(votes) == pytest.approx(1 / 3)


TEXT = textcollection.Params.model_validate(
    {
        "fields": [
            {
                "type": "text",
                "field_id": "q",
                "title": "Q",
                "min_characters": 5,
                "max_characters": 20,
            },
            {
                "type": "category",
                "field_id": "topic",
                "title": "Topic",
                "choices": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}],
            },
            {
                "type": "number",
                "field_id": "n",
                "title": "N",
                "min": 0,
                "max": 10,
                "required": False,
            },
        ]
    }
)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"q": "hi", "topic": "a"}, "annotations.q needs at least 5 characters, got 2"),
        ({"q": "x" * 21, "topic": "a"}, "annotations.q allows at most 20 characters, got 21"),
        ({"q": "hello", "topic": "c"}, "annotations.topic: 'c' is not one of"),
        ({"q": "hello"}, "annotations.topic is required"),
        ({"q": "hello", "topic": "a", "n": 11}, "annotations.n must be <= 10"),
        ({"q": "hello", "topic": "a", "extra": "x"}, "annotations.extra is not a field"),
    ],
)
def test_textcollection_checks_each_field(answers, message):
    with pytest.raises(Invalid, match=message):
        textcollection.parse_response(TEXT, {"annotations": answers})


def test_textcollection_consolidation_keeps_the_most_typical_response_whole():
    r = textcollection.Response.model_validate
    answers = [
        r({"annotations": {"q": "what is light"}}),
        r({"annotations": {"q": "what is light?"}}),
        r({"annotations": {"q": "completely different text"}}),
    ]
    assert textcollection.consolidate(answers, [1, 1, 1]).annotations["q"] in (
        "what is light",
        "what is light?",
    )


COMPARE = comparison.Params.model_validate(
    {
        "prompt": "p",
        "answers": [{"content": "a"}, {"content": "b"}, {"content": "c"}],
        "rating_scale": {"min": 1, "max": 5},
        "rationale": "required",
        "allow_tie": False,
    }
)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"preferred": None, "rating": 3, "rationale": "x"}, "does not allow a tie"),
        ({"preferred": 3, "rating": 3, "rationale": "x"}, "answer index below 3"),
        ({"preferred": 0, "rating": 9, "rationale": "x"}, r"rating must be within 1\.\.5"),
        ({"preferred": 0, "rating": 3, "rationale": " "}, "rationale is required"),
        (
            {"preferred": 0, "rating": 3, "rationale": "x", "ranking": [1, 0, 2]},
            "ranking must start with the preferred",
        ),
        (
            {"preferred": 0, "rating": 3, "rationale": "x", "presented_order": [0, 0, 1]},
            "presented_order must hold every answer",
        ),
    ],
)
def test_comparison_checks(answer, message):
    with pytest.raises(Invalid, match=message):
        comparison.parse_response(COMPARE, answer)


def test_comparison_consolidation_votes_and_borda_ranks():
    r = comparison.Response.model_validate
    answers = [
        r({"preferred": 1, "ranking": [1, 0, 2], "rating": 4, "rationale": "b best"}),
        r({"preferred": 1, "ranking": [1, 2, 0], "rating": 5, "rationale": "b"}),
        r({"preferred": 0, "ranking": [0, 1, 2], "rating": 1, "rationale": "a"}),
    ]
    result = comparison.consolidate(answers, [1, 1, 1])
    assert result.preferred == 1
    assert result.ranking == [1, 0, 2]
    assert result.rating == 3
    assert comparison.score(r({"preferred": None}), r({"preferred": 1})) == 0.5


def test_chat_turns_alternate_and_respect_bounds():
    params = chat.Params.model_validate({"min_turns": 2, "max_turns": 4})
    ok = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    chat.parse_response(params, ok)
    with pytest.raises(Invalid, match=r"messages\[0\].role must be 'user'"):
        chat.parse_response(params, {"messages": ok["messages"][::-1]})
    with pytest.raises(Invalid, match="at least 2 turns"):
        chat.parse_response(params, {"messages": ok["messages"][:1]})
    with pytest.raises(Invalid, match=r"messages\[1\].content must not be empty"):
        chat.parse_response(
            params, {"messages": [ok["messages"][0], {"role": "assistant", "content": " "}]}
        )
