"""Garbage-collector settings for the two allocation-heavy jobs: loading and rendering.

The provider SDKs and the catalog leave a large heap of long-lived objects, and each
full collection at the default thresholds walks all of it while finding little garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tuned(thresholds: tuple[int, int, int], collect_at_end: bool) -> Iterator[None]:
    """Freeze the objects made before the block and collect at `thresholds` inside it.

    The collector skips frozen objects, so collections inside the block walk only what
    the block made. On exit the frozen objects are released first, because garbage made
    in the block may hang on them. With `collect_at_end`, one full collection then frees
    that garbage. The earlier thresholds are restored in every case.
    """
    earlier = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.unfreeze()
        if collect_at_end:
            gc.collect()
        gc.set_threshold(*earlier)
