"""Per-field confidence of each task type's consolidated answer, on hand-made answers: choices
carry the one-coin posterior of the delivered value (trust = chance of answering right), written
text, ratings and outlines how closely the workers agreed, a lone answer its worker's trust."""

import pytest

from quorum.tasktypes import get_task_type
from quorum.tasktypes.base import text_similarity
from quorum.tasktypes.comparison import ranking_similarity


def fields_of(type_name: str, params: dict, raw: list[dict], weights: list[float]):
    kind = get_task_type(type_name)
    responses = [kind.Response.model_validate(r) for r in raw]
    final = kind.consolidate(responses, weights)
    return final, kind.confidence(kind.Params.model_validate(params), responses, weights, final)


def posterior(right: list[float], wrong: list[float], options: int) -> float:
    """One-coin posterior of a value backed by workers ``right`` and opposed by ``wrong``, whose
    answers spread over the other ``options - 1`` values (here all on the same one)."""
    chosen = 1.0
    for a in right:
        chosen *= a
    for a in wrong:
        chosen *= (1 - a) / (options - 1)
    rival = 1.0
    for a in right:
        rival *= (1 - a) / (options - 1)
    for a in wrong:
        rival *= a
    others = 1.0
    for a in right + wrong:
        others *= (1 - a) / (options - 1)
    return chosen / (chosen + rival + (options - 2) * others)


def test_comparison_gives_the_winner_its_posterior_and_ratings_their_spread():
    params = {
        "prompt": "Say hi",
        "answers": [{"content": "Hi!"}, {"content": "Hello there."}],
        "rating_scale": {"min": 1, "max": 7},
    }
    raw = [
        {"preferred": 0, "ranking": [0, 1], "rating": 6},
        {"preferred": 0, "ranking": [0, 1], "rating": 6},
        {"preferred": 1, "ranking": [1, 0], "rating": 3},
    ]
    final, fields = fields_of("comparison", params, raw, [0.9, 0.8, 0.6])

    assert (final.preferred, final.ranking, final.rating) == (0, [0, 1], 5)
    assert set(fields) == {"preferred", "ranking", "rating"}
    # Two answers and a tie are three options.
    assert fields["preferred"] == pytest.approx(posterior([0.9, 0.8], [0.6], 3))
    assert fields["ranking"] == pytest.approx((0.9 + 0.8) / 2.3)
    assert fields["rating"] == pytest.approx((0.9 * 5 / 6 + 0.8 * 5 / 6 + 0.6 * 4 / 6) / 2.3)


def test_a_lone_comparison_is_as_sure_as_its_worker():
    params = {"prompt": "p", "answers": [{"content": "a"}, {"content": "b"}], "allow_tie": False}
    _, fields = fields_of("comparison", params, [{"preferred": 1, "ranking": [1, 0]}], [0.75])
    assert fields == {"preferred": pytest.approx(0.75), "ranking": 0.75}


def test_ranking_similarity_counts_pairs_kept_in_order():
    assert ranking_similarity([0, 1, 2], [0, 1, 2]) == 1.0
    assert ranking_similarity([2, 1, 0], [0, 1, 2]) == 0.0
    assert ranking_similarity([1, 0, 2], [0, 1, 2]) == pytest.approx(2 / 3)


def test_categorization_judges_each_taxonomy_on_its_own():
    params = {
        "attachment": "a photo",
        "taxonomies": {
            "animal": {"choices": ["cat", "dog", "bird", "fish"]},
            "tags": {"choices": ["indoor", "night", "blurry"], "allow_multiple": True},
        },
    }
    raw = [
        {"taxonomies": {"animal": "cat", "tags": ["indoor", "night"]}},
        {"taxonomies": {"animal": "cat", "tags": ["indoor"]}},
        {"taxonomies": {"animal": "dog", "tags": ["indoor", "night"]}},
    ]
    final, fields = fields_of("categorization", params, raw, [0.8, 0.8, 0.8])

    assert final.taxonomies == {"animal": "cat", "tags": ["indoor", "night"]}
    assert fields["taxonomies.animal"] == pytest.approx(posterior([0.8, 0.8], [0.8], 4))
    # "night" is the least sure of the tags: two in, one out, as a two-way choice.
    assert fields["taxonomies.tags"] == pytest.approx(posterior([0.8, 0.8], [0.8], 2))
    assert fields["taxonomies.tags"] < posterior([0.8, 0.8, 0.8], [], 2)


def box(left: float, top: float, label: str = "car") -> dict:
    return {"type": "box", "label": label, "left": left, "top": top, "width": 20, "height": 20}


def annotations(*shapes: dict) -> dict:
    return {"annotations": [{"uuid": f"s{i}", **s} for i, s in enumerate(shapes)]}


def test_imageannotation_gives_each_shape_its_presence_and_overlap():
    params = {
        "attachment": "https://example.com/street.jpg",
        "geometries": {"box": {"objects_to_annotate": ["car"]}},
    }
    raw = [
        annotations(box(10, 10), box(100, 100)),
        annotations(box(12, 10), box(100, 100)),
        annotations(box(10, 10), box(300, 300)),
    ]
    final, fields = fields_of("imageannotation", params, raw, [0.9, 0.8, 0.7])

    fused_left = (0.9 * 10 + 0.8 * 12 + 0.7 * 10) / 2.4
    assert [(a.left, a.top) for a in final.annotations] == [
        pytest.approx((fused_left, 10)),
        pytest.approx((100, 100)),
    ]
    # Everybody drew the first car; two of three the second; only the third worker the box at
    # (300, 300), which is left out, so the list is as complete as that box is absent.
    assert fields["annotations[0].presence"] == pytest.approx(posterior([0.9, 0.8, 0.7], [], 2))
    assert fields["annotations[1].presence"] == pytest.approx(posterior([0.9, 0.8], [0.7], 2))
    assert fields["annotations"] == pytest.approx(posterior([0.9, 0.8], [0.7], 2))
    assert fields["annotations[1].iou"] == pytest.approx(1.0)

    def iou(shift: float) -> float:  # two 20 px boxes, one moved sideways
        overlap = (20 - abs(shift)) * 20
        return overlap / (2 * 400 - overlap)

    assert fields["annotations[0].iou"] == pytest.approx(
        (0.9 * iou(10 - fused_left) + 0.8 * iou(12 - fused_left) + 0.7 * iou(10 - fused_left)) / 2.4
    )


def test_one_annotator_is_as_sure_as_their_trust():
    params = {
        "attachment": "https://example.com/street.jpg",
        "geometries": {"box": {"objects_to_annotate": ["car"]}},
    }
    _, fields = fields_of("imageannotation", params, [annotations(box(10, 10))], [0.75])
    assert fields == {
        "annotations[0].presence": pytest.approx(0.75),
        "annotations[0].iou": 0.75,
        "annotations": pytest.approx(0.75),
    }
    _, nothing = fields_of("imageannotation", params, [annotations(), annotations()], [0.75, 0.75])
    assert nothing == {"annotations": pytest.approx(posterior([0.75, 0.75], [], 2))}


def test_textcollection_votes_choices_and_compares_written_text():
    params = {
        "fields": [
            {"type": "text", "field_id": "summary", "title": "Summary"},
            {
                "type": "category",
                "field_id": "tone",
                "title": "Tone",
                "choices": [{"label": x, "value": x} for x in ("calm", "angry", "sad")],
            },
            {"type": "boolean", "field_id": "safe", "title": "Safe"},
        ]
    }
    raw = [
        {"annotations": {"summary": "a cat sleeps", "tone": "calm", "safe": True}},
        {"annotations": {"summary": "a cat sleeps", "tone": "calm", "safe": True}},
        {"annotations": {"summary": "a dog barks", "tone": "angry", "safe": True}},
    ]
    weights = [0.9, 0.8, 0.6]
    final, fields = fields_of("textcollection", params, raw, weights)

    assert final.annotations == raw[0]["annotations"]
    assert fields["annotations.tone"] == pytest.approx(posterior([0.9, 0.8], [0.6], 3))
    assert fields["annotations.safe"] == pytest.approx(posterior([0.9, 0.8, 0.6], [], 2))
    # The delivered summary is the first worker's: the others' similarity to it, by trust.
    expected = (0.8 * 1.0 + 0.6 * text_similarity("a dog barks", "a cat sleeps")) / 1.4
    assert fields["annotations.summary"] == pytest.approx(expected)
    assert fields["annotations.summary"] < fields["annotations.safe"]


def test_chat_is_judged_whole():
    params = {"min_turns": 2}
    talk = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    }
    _, alone = fields_of("chat", params, [talk], [0.7])
    assert alone == {"messages": 0.7}
    other = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]
    }
    final, pair = fields_of("chat", params, [talk, other], [0.9, 0.6])
    assert final.messages[1].content == "hello", "the more trusted writer's conversation"
    kind = get_task_type("chat")
    similarity = kind.score(kind.Response.model_validate(other), final)
    assert pair == {"messages": pytest.approx(similarity)} and 0 < similarity < 1
