"""``coco``: a COCO detection dataset, ``annotations.json`` plus ``images/`` when Quorum has them.

Boxes give ``bbox = [x, y, width, height]`` in pixels with the box as ``segmentation``; polygons
give their vertices as ``segmentation`` and their bounds as ``bbox``. Images and annotations are
spooled to temporary files while tasks stream in, then joined, so memory stays flat.
"""

import json
import tempfile
from pathlib import Path

from shapely.geometry import Polygon

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, register
from quorum.exports.formats.images import (
    area_shapes,
    copy_image,
    image_file_name,
    project_labels,
)
from quorum.exports.source import ExportSource


def _annotation(shape: dict) -> tuple[list[float], list[list[float]], float]:
    """bbox, segmentation and area of a box or polygon."""
    if shape["type"] == "box":
        x, y, w, h = shape["left"], shape["top"], shape["width"], shape["height"]
        return [x, y, w, h], [[x, y, x + w, y, x + w, y + h, x, y + h]], w * h
    points = [(v["x"], v["y"]) for v in shape["vertices"]]
    polygon = Polygon(points)
    left, top, right, bottom = polygon.bounds
    flat = [coordinate for point in points for coordinate in point]
    return [left, top, right - left, bottom - top], [flat], polygon.area


class Coco(FileFormat):
    name = "coco"
    task_types = frozenset({"imageannotation"})
    directory = True

    def write(
        self,
        source: ExportSource,
        target: Path,
        stats: ExportStats,
        blobs: BlobStore | None = None,
    ) -> None:
        (target / "images").mkdir(parents=True, exist_ok=True)
        categories: dict[str, int] = {}
        annotation_id = 0
        with (
            tempfile.TemporaryFile("w+") as images,
            tempfile.TemporaryFile("w+") as annotations,
        ):
            for chunk in source.tasks():
                for task in chunk:
                    self.check_type(task)
                    shapes = area_shapes(task, self.name)
                    for label in project_labels(task):
                        categories.setdefault(label, len(categories) + 1)
                    stats.rows += 1
                    file_name = image_file_name(task)
                    copy_image(task, target / "images" / file_name, blobs)
                    image = {
                        "id": stats.rows,
                        "file_name": file_name,
                        "width": task.params.get("image_width"),
                        "height": task.params.get("image_height"),
                        "coco_url": task.params["attachment"],
                        "quorum_task_id": task.task_id,
                    }
                    images.write(("," if stats.rows > 1 else "") + json.dumps(image))
                    for shape in shapes:
                        bbox, segmentation, area = _annotation(shape)
                        annotation_id += 1
                        annotation = {
                            "id": annotation_id,
                            "image_id": stats.rows,
                            "category_id": categories.setdefault(
                                shape["label"], len(categories) + 1
                            ),
                            "bbox": bbox,
                            "segmentation": segmentation,
                            "area": area,
                            "iscrowd": 0,
                            "attributes": shape.get("attributes", {}),
                            "quorum_uuid": shape["uuid"],
                        }
                        annotations.write(
                            ("," if annotation_id > 1 else "") + json.dumps(annotation)
                        )
            with (target / "annotations.json").open("w") as out:
                out.write('{"info":{"description":"Quorum export"},"images":[')
                for spool in (images, annotations):
                    spool.seek(0)
                    while block := spool.read(1 << 20):
                        out.write(block)
                    if spool is images:
                        out.write('],"annotations":[')
                named = [{"id": i, "name": n, "supercategory": ""} for n, i in categories.items()]
                out.write('],"categories":' + json.dumps(named) + "}")


register(Coco())
