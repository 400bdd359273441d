"""imageannotation: validation against the ontology and the image, IoU scoring, fusion."""

import pytest

from quorum.errors import Invalid
from quorum.tasktypes import get_task_type
from quorum.tasktypes.imageannotation import match_shapes, shape_similarity

kind = get_task_type("imageannotation")
PARAMS = kind.Params.model_validate(
    {
        "attachment": "https://example.com/a.jpg",
        "geometries": {
            "box": {
                "objects_to_annotate": ["car", {"choice": "vehicle", "subchoices": ["bus"]}],
                "min_width": 4,
            },
            "polygon": {"objects_to_annotate": ["tree"], "max_vertices": 5},
            "point": {"objects_to_annotate": ["wheel"]},
        },
        "annotation_attributes": {
            "occluded": {"type": "category", "choices": ["no", "yes"]},
            "note": {"type": "text", "required": False},
        },
        "image_width": 100,
        "image_height": 80,
    }
)


def box(uuid="b1", label="car", left=10, top=10, width=20, height=20, **attributes):
    return {
        "uuid": uuid,
        "type": "box",
        "label": label,
        "left": left,
        "top": top,
        "width": width,
        "height": height,
        "attributes": {"occluded": "no", **attributes},
    }


def response(*annotations):
    return kind.Response.model_validate({"annotations": list(annotations)})


def test_valid_response_passes():
    poly = {
        "uuid": "p",
        "type": "polygon",
        "label": "tree",
        "attributes": {"occluded": "yes"},
        "vertices": [{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 5, "y": 8}],
    }
    kind.parse_response(PARAMS, {"annotations": [box(), box("b2", "bus"), poly]})


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (box(label="boat"), "annotations[0].label 'boat' is not one of"),
        (box(label="vehicle"), "is not one of"),  # a choice with subchoices is not a leaf label
        (box(width=2), "annotations[0].width must be >= 4"),
        (box(left=90), "annotations[0] lies outside the 100x80 image"),
        ({**box(), "attributes": {}}, "annotations[0].attributes.occluded is required"),
        (box(occluded="maybe"), "annotations[0].attributes.occluded: 'maybe' is not one of"),
        (box(colour="red"), "annotations[0].attributes.colour is not an attribute of this task"),
        (
            {
                "uuid": "p",
                "type": "polygon",
                "label": "tree",
                "attributes": {"occluded": "no"},
                "vertices": [
                    {"x": 0, "y": 0},
                    {"x": 10, "y": 10},
                    {"x": 10, "y": 0},
                    {"x": 0, "y": 10},
                ],
            },
            "the polygon crosses itself",
        ),
        (
            {
                "uuid": "p",
                "type": "polygon",
                "label": "tree",
                "attributes": {"occluded": "no"},
                "vertices": [{"x": i, "y": i * i % 7} for i in range(6)],
            },
            "vertices allows at most 5",
        ),
        (
            {
                "uuid": "l",
                "type": "line",
                "label": "tree",
                "attributes": {"occluded": "no"},
                "vertices": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
            },
            "this task does not ask for line annotations",
        ),
    ],
)
def test_invalid_responses_name_the_problem(annotation, message):
    with pytest.raises(Invalid, match=message.replace("[", r"\[").replace("]", r"\]")):
        kind.parse_response(PARAMS, {"annotations": [annotation]})


def test_duplicate_uuid_is_refused():
    with pytest.raises(Invalid, match="used twice"):
        kind.parse_response(PARAMS, {"annotations": [box(), box()]})


def test_iou_of_boxes():
    a = response(box(left=0, top=0, width=10, height=10)).annotations[0]
    b = response(box(left=5, top=0, width=10, height=10)).annotations[0]
    assert shape_similarity(a, b) == pytest.approx(50 / 150)
    assert shape_similarity(a, a) == 1.0


def test_matching_is_one_to_one_and_label_aware():
    ours = response(box("1", left=0), box("2", left=50)).annotations
    theirs = response(box("x", left=1), box("y", label="bus", left=50)).annotations
    matches = match_shapes(ours, theirs)
    assert [(i, j) for i, j, _ in matches] == [(0, 0)]


def test_score_is_f1_over_matches():
    gold = response(box("1", left=0), box("2", left=50))
    assert kind.score(gold, gold) == 1.0
    half = response(box("1", left=0))
    assert kind.score(half, gold) == pytest.approx(2 / 3)
    assert kind.score(response(), response()) == 1.0


def test_consolidate_fuses_agreeing_boxes_and_drops_minority_shapes():
    worker_a = response(box("a1", left=10, top=10), box("a2", left=60, top=40))
    worker_b = response(box("b1", left=12, top=10))
    worker_c = response(box("c1", left=14, top=10, occluded="yes"))
    fused = kind.consolidate([worker_a, worker_b, worker_c], [1.0, 1.0, 1.0]).annotations
    assert len(fused) == 1
    assert fused[0].left == pytest.approx(12)
    assert fused[0].attributes["occluded"] == "no"


def test_consolidate_weights_trusted_workers_more():
    expert = response(box("e", left=10))
    novice = response(box("n", left=16))
    fused = kind.consolidate([expert, novice], [3.0, 1.0]).annotations
    assert fused[0].left == pytest.approx(11.5)
