"""Valid request bodies for every task type, for tests to start from and vary."""

from typing import Any

import httpx

TASK_PARAMS: dict[str, dict[str, Any]] = {
    "imageannotation": {
        "attachment": "https://example.com/street.jpg",
        "geometries": {
            "box": {"objects_to_annotate": ["car", "truck"], "min_width": 5},
            "polygon": {"objects_to_annotate": ["tree"]},
        },
        "image_width": 640,
        "image_height": 480,
    },
    "categorization": {"attachment": "The food was great", "categories": ["good", "bad"]},
    "textcollection": {
        "attachments": [{"type": "text", "content": "A passage."}],
        "fields": [
            {"type": "text", "field_id": "summary", "title": "Summary", "max_characters": 50}
        ],
    },
    "comparison": {
        "prompt": "Say hi",
        "answers": [{"content": "Hi!"}, {"content": "Hello there."}],
    },
    "chat": {"min_turns": 2},
}


def create_project(
    api: httpx.Client, task_type: str, name: str | None = None, **extra: Any
) -> dict[str, Any]:
    response = api.post(
        "/v1/projects", json={"name": name or f"p-{task_type}", "type": task_type, **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


def create_task(
    api: httpx.Client, task_type: str, project: str, **overrides: Any
) -> dict[str, Any]:
    body = {"project": project, **TASK_PARAMS[task_type], **overrides}
    response = api.post(f"/v1/task/{task_type}", json=body)
    assert response.status_code == 200, response.text
    return response.json()
