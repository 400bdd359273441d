"""Shapes are matched across workers by IoU and fused by trust: a quorum is a share of trust,
not a head count."""

from quorum.tasktypes.imageannotation import ImageAnnotation, ImageAnnotationResponse, match_shapes

KIND = ImageAnnotation()


def box(left: float, top: float, width: float = 20, height: float = 20, label: str = "car"):
    return {
        "type": "box",
        "label": label,
        "left": left,
        "top": top,
        "width": width,
        "height": height,
    }


def response(*boxes):
    return ImageAnnotationResponse.model_validate(
        {"annotations": [{"uuid": f"b{i}", **b} for i, b in enumerate(boxes)]}
    )


def test_matching_pairs_each_box_with_its_best_overlap_only_once():
    ours = response(box(10, 10), box(100, 100)).annotations
    theirs = response(box(102, 101), box(12, 10), box(300, 300)).annotations
    pairs = {(i, j) for i, j, _ in match_shapes(ours, theirs)}
    assert pairs == {(0, 1), (1, 0)}


def test_a_trusted_worker_carries_a_shape_the_untrusted_ones_missed():
    trusted = response(box(10, 10), box(200, 200))
    sloppy = response(box(12, 10))
    careless = response(box(10, 12), box(400, 400))
    fused = KIND.consolidate([trusted, sloppy, careless], [0.9, 0.2, 0.2])
    kept = sorted((round(a.left), round(a.top)) for a in fused.annotations)
    assert kept == [(10, 10), (200, 200)], "over half the trust backs both; nobody backs (400, 400)"
    first = next(a for a in fused.annotations if a.left < 100)
    assert first.left == (0.9 * 10 + 0.2 * 12 + 0.2 * 10) / 1.3
    assert first.top == (0.9 * 10 + 0.2 * 10 + 0.2 * 12) / 1.3
