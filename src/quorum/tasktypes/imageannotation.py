"""``imageannotation``: boxes, polygons, lines and points with labels and attributes.

Params follow Scale: ``attachment`` (image URL), ``geometries`` keyed by shape kind, each with its
``objects_to_annotate``, and ``annotation_attributes``. ``image_width`` / ``image_height`` are a
Quorum extension: when known, every shape must lie inside the image.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

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

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

MATCH_THRESHOLD = 0.5
POINT_TOLERANCE_PX = 10.0
LINE_BUFFER_PX = 3.0


class SubChoice(Strict):
    choice: str = Field(min_length=1)
    display: str | None = None


class LabelDescription(Strict):
    choice: str = Field(min_length=1)
    display: str | None = None
    subchoices: list[str | SubChoice] = []


Label = str | LabelDescription


class GeometrySpec(Strict):
    objects_to_annotate: list[Label] = Field(min_length=1)

    def labels(self) -> set[str]:
        """The labels a worker may pick: a choice, or its subchoices when it has some."""
        allowed: set[str] = set()
        for item in self.objects_to_annotate:
            if isinstance(item, str):
                allowed.add(item)
            elif item.subchoices:
                allowed.update(s if isinstance(s, str) else s.choice for s in item.subchoices)
            else:
                allowed.add(item.choice)
        return allowed


class BoxSpec(GeometrySpec):
    min_width: float = Field(0, ge=0)
    min_height: float = Field(0, ge=0)
    can_rotate: bool = False
    integer_pixels: bool = False


class VerticesSpec(GeometrySpec):
    min_vertices: int = Field(2, ge=1)
    max_vertices: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> "VerticesSpec":
        if self.max_vertices is not None and self.max_vertices < self.min_vertices:
            raise ValueError("max_vertices must be >= min_vertices")
        return self


class PolygonSpec(VerticesSpec):
    min_vertices: int = Field(3, ge=3)


class Geometries(Strict):
    box: BoxSpec | None = None
    polygon: PolygonSpec | None = None
    line: VerticesSpec | None = None
    point: GeometrySpec | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> "Geometries":
        if not any((self.box, self.polygon, self.line, self.point)):
            raise ValueError("geometries needs at least one of box, polygon, line, point")
        return self


class AttributeSpec(Strict):
    type: Literal["category", "number", "text"] = "category"
    description: str = ""
    choices: list[str] | None = None
    allow_multiple: bool = False
    required: bool = True
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _choices_for_categories(self) -> "AttributeSpec":
        if self.type == "category" and not self.choices:
            raise ValueError("a category attribute needs choices")
        return self


class ContextAttachment(Strict):
    attachment: str = Field(min_length=1)


class ImageAnnotationParams(Payload):
    attachment: str = Field(min_length=1)
    attachment_type: Literal["image"] = "image"
    geometries: Geometries
    annotation_attributes: dict[str, AttributeSpec] = {}
    context_attachments: list[ContextAttachment] = []
    image_width: float | None = Field(None, gt=0)
    image_height: float | None = Field(None, gt=0)


class Vertex(Strict):
    x: float
    y: float


AttributeValue = str | float | list[str]


class _Shape(Strict):
    uuid: str = Field(min_length=1, max_length=64)
    label: str
    attributes: dict[str, AttributeValue] = {}


class BoxAnnotation(_Shape):
    type: Literal["box"]
    left: float
    top: float
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    rotation: float = 0.0

    def geometry(self) -> "BaseGeometry":
        from shapely.geometry import box

        return box(self.left, self.top, self.left + self.width, self.top + self.height)


class PolygonAnnotation(_Shape):
    type: Literal["polygon"]
    vertices: list[Vertex] = Field(min_length=3)

    def geometry(self) -> "BaseGeometry":
        from shapely.geometry import Polygon

        return Polygon([(v.x, v.y) for v in self.vertices])


class LineAnnotation(_Shape):
    type: Literal["line"]
    vertices: list[Vertex] = Field(min_length=2)

    def geometry(self) -> "BaseGeometry":
        from shapely.geometry import LineString

        return LineString([(v.x, v.y) for v in self.vertices])


class PointAnnotation(_Shape):
    type: Literal["point"]
    x: float
    y: float

    def geometry(self) -> "BaseGeometry":
        from shapely.geometry import Point

        return Point(self.x, self.y)


Annotation = Annotated[
    BoxAnnotation | PolygonAnnotation | LineAnnotation | PointAnnotation,
    Field(discriminator="type"),
]


class ImageAnnotationResponse(Payload):
    annotations: list[Annotation] = []


def shape_similarity(a: Any, b: Any) -> float:
    """IoU for areas, IoU of thin buffers for lines, distance falloff for points; 0 across kinds."""
    if a.type != b.type:
        return 0.0
    if a.type == "point":
        return max(0.0, 1.0 - a.geometry().distance(b.geometry()) / POINT_TOLERANCE_PX)
    ga, gb = a.geometry(), b.geometry()
    if a.type == "line":
        ga, gb = ga.buffer(LINE_BUFFER_PX), gb.buffer(LINE_BUFFER_PX)
    if not ga.is_valid or not gb.is_valid:
        ga, gb = ga.buffer(0), gb.buffer(0)
    union = ga.union(gb).area
    return ga.intersection(gb).area / union if union else 0.0


def match_shapes(ours: Sequence[Any], theirs: Sequence[Any]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching of same-label shapes by similarity, best pairs first."""
    candidates = sorted(
        (
            (shape_similarity(a, b), i, j)
            for i, a in enumerate(ours)
            for j, b in enumerate(theirs)
            if a.label == b.label
        ),
        reverse=True,
    )
    used_ours: set[int] = set()
    used_theirs: set[int] = set()
    matches = []
    for similarity, i, j in candidates:
        if similarity < MATCH_THRESHOLD:
            break
        if i in used_ours or j in used_theirs:
            continue
        used_ours.add(i)
        used_theirs.add(j)
        matches.append((i, j, similarity))
    return matches


def _check_attributes(
    where: str, values: dict[str, AttributeValue], specs: dict[str, AttributeSpec]
) -> None:
    for name in values.keys() - specs.keys():
        raise Invalid(f"{where}.attributes.{name} is not an attribute of this task")
    for name, spec in specs.items():
        value = values.get(name)
        field = f"{where}.attributes.{name}"
        if value is None or value == "" or value == []:
            if spec.required:
                raise Invalid(f"{field} is required")
            continue
        if spec.type == "category":
            chosen = value if isinstance(value, list) else [value]
            if isinstance(value, list) and not spec.allow_multiple:
                raise Invalid(f"{field} takes one choice, got a list")
            for v in chosen:
                if v not in (spec.choices or []):
                    raise Invalid(f"{field}: {v!r} is not one of {spec.choices}")
        elif spec.type == "number":
            if not isinstance(value, int | float):
                raise Invalid(f"{field} must be a number")
            if spec.min is not None and value < spec.min:
                raise Invalid(f"{field} must be >= {spec.min}, got {value}")
            if spec.max is not None and value > spec.max:
                raise Invalid(f"{field} must be <= {spec.max}, got {value}")
        elif not isinstance(value, str):
            raise Invalid(f"{field} must be text")


class ImageAnnotation(TaskType[ImageAnnotationParams, ImageAnnotationResponse]):
    name = "imageannotation"
    Params = ImageAnnotationParams
    Response = ImageAnnotationResponse

    def check(self, params: ImageAnnotationParams, response: ImageAnnotationResponse) -> None:
        seen: set[str] = set()
        for index, shape in enumerate(response.annotations):
            where = f"annotations[{index}]"
            if shape.uuid in seen:
                raise Invalid(f"{where}.uuid {shape.uuid!r} is used twice")
            seen.add(shape.uuid)
            spec = getattr(params.geometries, shape.type)
            if spec is None:
                raise Invalid(f"{where}: this task does not ask for {shape.type} annotations")
            if shape.label not in spec.labels():
                raise Invalid(
                    f"{where}.label {shape.label!r} is not one of {sorted(spec.labels())}"
                )
            self._check_geometry(where, params, spec, shape)
            _check_attributes(where, shape.attributes, params.annotation_attributes)

    def _check_geometry(
        self, where: str, params: ImageAnnotationParams, spec: Any, shape: Any
    ) -> None:
        if isinstance(shape, BoxAnnotation):
            if shape.width < spec.min_width:
                raise Invalid(f"{where}.width must be >= {spec.min_width}, got {shape.width}")
            if shape.height < spec.min_height:
                raise Invalid(f"{where}.height must be >= {spec.min_height}, got {shape.height}")
            if shape.rotation and not spec.can_rotate:
                raise Invalid(f"{where}.rotation: boxes of this task cannot rotate")
            if spec.integer_pixels and any(
                v != int(v) for v in (shape.left, shape.top, shape.width, shape.height)
            ):
                raise Invalid(f"{where}: this task asks for integer pixel coordinates")
        if isinstance(shape, PolygonAnnotation | LineAnnotation):
            count = len(shape.vertices)
            if count < spec.min_vertices:
                raise Invalid(f"{where}.vertices needs at least {spec.min_vertices}, got {count}")
            if spec.max_vertices is not None and count > spec.max_vertices:
                raise Invalid(f"{where}.vertices allows at most {spec.max_vertices}, got {count}")
        if isinstance(shape, PolygonAnnotation) and not shape.geometry().is_valid:
            raise Invalid(f"{where}.vertices: the polygon crosses itself or has no area")
        if params.image_width and params.image_height:
            minx, miny, maxx, maxy = shape.geometry().bounds
            if minx < 0 or miny < 0 or maxx > params.image_width or maxy > params.image_height:
                raise Invalid(
                    f"{where} lies outside the {params.image_width:g}x{params.image_height:g} image"
                )

    def score(self, response: ImageAnnotationResponse, gold: ImageAnnotationResponse) -> float:
        """F1 over shapes matched at IoU >= 0.5, each match counted by its similarity."""
        ours, theirs = response.annotations, gold.annotations
        if not ours and not theirs:
            return 1.0
        matched = sum(s for _, _, s in match_shapes(ours, theirs))
        return 2 * matched / (len(ours) + len(theirs))

    def consolidate(
        self, responses: Sequence[ImageAnnotationResponse], weights: Sequence[float]
    ) -> ImageAnnotationResponse:
        """Cluster shapes across workers; keep clusters backed by over half the weight; fuse."""
        if not responses:
            raise Invalid("nothing to consolidate")
        total = sum(weights)
        return ImageAnnotationResponse(
            annotations=[
                _fuse(cluster)
                for cluster in cluster_shapes(responses, weights)
                if sum(w for _, w, _ in cluster) > total / 2
            ]
        )

    def confidence(
        self,
        params: ImageAnnotationParams,
        responses: Sequence[ImageAnnotationResponse],
        weights: Sequence[float],
        final: ImageAnnotationResponse,
    ) -> dict[str, float]:
        """Per delivered shape, the posterior that the object is there (from who drew it and who
        did not, each at their trust) and how well the drawn outlines overlap the fused one; for
        the whole ``annotations`` list, the posterior that no object is missing from it."""
        total = sum(weights)
        fields: dict[str, float] = {}
        complete = [choice_confidence(True, [True] * len(responses), weights, 2)]
        kept = 0  # ``final`` is what ``consolidate`` made: the kept clusters in order
        for cluster in cluster_shapes(responses, weights):
            drew = {worker for _, _, worker in cluster}
            votes = [worker in drew for worker in range(len(responses))]
            if sum(w for _, w, _ in cluster) <= total / 2:
                complete.append(choice_confidence(False, votes, weights, 2))
                continue
            fused = final.annotations[kept]
            fields[f"annotations[{kept}].presence"] = choice_confidence(True, votes, weights, 2)
            fields[f"annotations[{kept}].iou"] = agreement_confidence(
                [shape_similarity(shape, fused) for shape, _, _ in cluster],
                [w for _, w, _ in cluster],
            )
            kept += 1
        fields["annotations"] = min(complete)
        return fields


def cluster_shapes(
    responses: Sequence[ImageAnnotationResponse], weights: Sequence[float]
) -> list[list[tuple[Any, float, int]]]:
    """Groups of same-label shapes, at most one per worker, each joining the group whose first
    shape it overlaps best: ``(shape, weight, worker index)``."""
    clusters: list[list[tuple[Any, float, int]]] = []
    for worker, (response, weight) in enumerate(zip(responses, weights, strict=True)):
        for shape in response.annotations:
            best, best_similarity = None, MATCH_THRESHOLD
            for cluster in clusters:
                if any(member_worker == worker for _, _, member_worker in cluster):
                    continue
                if cluster[0][0].label != shape.label:
                    continue
                similarity = shape_similarity(cluster[0][0], shape)
                if similarity >= best_similarity:
                    best, best_similarity = cluster, similarity
            if best is None:
                clusters.append([(shape, weight, worker)])
            else:
                best.append((shape, weight, worker))
    return clusters


def _fuse(cluster: list[tuple[Any, float, int]]) -> Any:
    """Weighted mean for boxes and points; the medoid for polygons and lines; voted attributes."""
    shapes = [s for s, _, _ in cluster]
    weights = [w for _, w, _ in cluster]
    total = sum(weights)
    first = shapes[0]
    attributes: dict[str, AttributeValue] = {}
    names: dict[str, list[tuple[AttributeValue, float]]] = defaultdict(list)
    for shape, weight in zip(shapes, weights, strict=True):
        for name, value in shape.attributes.items():
            names[name].append((value, weight))
    for name, votes in names.items():
        keyed = [tuple(v) if isinstance(v, list) else v for v, _ in votes]
        winner = weighted_vote(keyed, [w for _, w in votes])
        attributes[name] = list(winner) if isinstance(winner, tuple) else winner  # type: ignore[assignment]

    def mean(attr: str) -> float:
        return sum(getattr(s, attr) * w for s, w in zip(shapes, weights, strict=True)) / total

    if isinstance(first, BoxAnnotation):
        return first.model_copy(
            update={k: mean(k) for k in ("left", "top", "width", "height", "rotation")}
            | {"attributes": attributes}
        )
    if isinstance(first, PointAnnotation):
        return first.model_copy(update={"x": mean("x"), "y": mean("y"), "attributes": attributes})
    medoid = max(
        shapes,
        key=lambda c: sum(w * shape_similarity(c, o) for o, w in zip(shapes, weights, strict=True)),
    )
    return medoid.model_copy(update={"attributes": attributes})


register(ImageAnnotation())
