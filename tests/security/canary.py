"""A module that no tenant's request may import, and a model function that none may call.

Each leaves a file behind in the folder named by ``QUORUM_TEST_CANARY_DIR``, so a test proves
that a string a tenant sent ran no code: the folder stays empty and the module stays out of
``sys.modules``.
"""

import os
from pathlib import Path
from typing import Any


def _leave_trace(what: str) -> None:
    folder = os.environ.get("QUORUM_TEST_CANARY_DIR")
    if folder:
        (Path(folder) / what).touch()


_leave_trace("imported")


def model(task_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """A model that answers as a backend would, after leaving its trace."""
    _leave_trace("called")
    return {"response": {"category": "good"}, "confidence": 1.0}
