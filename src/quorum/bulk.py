"""Process settings for bulk work (imports and exports of millions of rows) run from the CLI."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: bulk rows form no cycles, refcounting frees them.

    The collector's passes over a chunk's many new objects otherwise cost about as much CPU as
    validating or converting them. Process-wide, so for the CLI, not for a shared server.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
