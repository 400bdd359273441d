"""``yolo``: one ``labels/<image>.txt`` per image, ``images/`` when Quorum has them, ``data.yaml``.

A box is ``class cx cy w h`` and a polygon ``class x1 y1 x2 y2 …`` (YOLO-seg), all normalized to
[0, 1] by the image size, which the task's params must give.
"""

from pathlib import Path

from quorum.blobs import BlobStore
from quorum.exports.formats import ExportStats, FileFormat, register
from quorum.exports.formats.images import (
    area_shapes,
    copy_image,
    image_file_name,
    image_size,
    project_labels,
)
from quorum.exports.source import ExportSource


def _line(class_id: int, shape: dict, width: float, height: float) -> str:
    if shape["type"] == "box":
        cx = (shape["left"] + shape["width"] / 2) / width
        cy = (shape["top"] + shape["height"] / 2) / height
        values = [cx, cy, shape["width"] / width, shape["height"] / height]
    else:
        values = [c for v in shape["vertices"] for c in (v["x"] / width, v["y"] / height)]
    return " ".join([str(class_id), *(f"{value:.6f}" for value in values)])


class Yolo(FileFormat):
    name = "yolo"
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
        (target / "labels").mkdir(parents=True, exist_ok=True)
        classes: dict[str, int] = {}
        for chunk in source.tasks():
            for task in chunk:
                self.check_type(task)
                shapes = area_shapes(task, self.name)
                width, height = image_size(task, self.name)
                for label in project_labels(task):
                    classes.setdefault(label, len(classes))
                file_name = image_file_name(task)
                copy_image(task, target / "images" / file_name, blobs)
                lines = [
                    _line(classes.setdefault(s["label"], len(classes)), s, width, height)
                    for s in shapes
                ]
                label_file = target / "labels" / (Path(file_name).stem + ".txt")
                label_file.write_text("".join(line + "\n" for line in lines))
                stats.rows += 1
        names = list(classes)
        (target / "classes.txt").write_text("".join(name + "\n" for name in names))
        yaml_names = "\n".join(f"  {i}: {name!r}" for i, name in enumerate(names))
        (target / "data.yaml").write_text(
            f"path: .\ntrain: images\nval: images\nnc: {len(names)}\nnames:\n{yaml_names}\n"
        )


register(Yolo())
