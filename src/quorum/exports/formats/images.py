"""What COCO and YOLO share: image tasks, their sizes, their labels and their image files."""

import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from quorum.blobs import BlobStore
from quorum.errors import Invalid
from quorum.tasks.schemas import TaskRead

AREA_SHAPES = ("box", "polygon")
IMAGE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


def image_file_name(task: TaskRead) -> str:
    """A unique file name for the task's image, keeping the attachment's extension."""
    suffix = PurePosixPath(urlsplit(task.params["attachment"]).path).suffix.lower()
    return f"{task.task_id}{suffix if IMAGE_SUFFIX.fullmatch(suffix) else '.jpg'}"


def image_size(task: TaskRead, format_name: str) -> tuple[float, float]:
    width, height = task.params.get("image_width"), task.params.get("image_height")
    if not width or not height:
        raise Invalid(
            f"{format_name} export needs image_width and image_height in the params of task "
            f"{task.task_id}"
        )
    return width, height


def area_shapes(task: TaskRead, format_name: str) -> list[dict]:
    """The task's boxes and polygons; a line, a point or a rotated box is refused, not dropped."""
    shapes = (task.response or {}).get("annotations", [])
    for index, shape in enumerate(shapes):
        if shape["type"] not in AREA_SHAPES:
            raise Invalid(
                f"{format_name} export holds boxes and polygons; annotations[{index}] of task "
                f"{task.task_id} is a {shape['type']} (export it as jsonl)"
            )
        if shape["type"] == "box" and shape.get("rotation", 0):
            raise Invalid(
                f"{format_name} export holds axis-aligned boxes; annotations[{index}] of task "
                f"{task.task_id} is rotated (export it as jsonl)"
            )
    return shapes


def project_labels(task: TaskRead) -> list[str]:
    """Box and polygon labels in the order the task's params declare them."""
    labels: list[str] = []
    for kind in AREA_SHAPES:
        spec = task.params.get("geometries", {}).get(kind) or {}
        for item in spec.get("objects_to_annotate", []):
            if isinstance(item, str):
                names = [item]
            else:
                subchoices = item.get("subchoices") or []
                names = [s if isinstance(s, str) else s["choice"] for s in subchoices]
                names = names or [item["choice"]]
            labels.extend(n for n in names if n not in labels)
    return labels


def copy_image(task: TaskRead, target: Path, blobs: BlobStore | None) -> bool:
    """Copy the task's image next to the labels when it is in Quorum's blob store.

    Only the store is read: an attachment is a tenant's string, so a path or a URL naming
    anything else stays a reference in the export (``coco_url``), never a file read or fetched.
    """
    return blobs is not None and blobs.copy_to(task.params["attachment"], target)
