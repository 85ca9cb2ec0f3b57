"""Short garbage-collector pauses while serving.

A full collection walks every container object alive: with scikit-learn, torch, FastAPI and
a loaded model that is about 200,000 objects and 160 ms on 2 cores, during which no request
is answered. Objects alive once the model is loaded stay alive for the life of the server,
so they are collected once and then frozen (`gc.freeze`): later collections only walk what
was created after, and a rare full pass costs milliseconds, not a p99 spike.
"""

from __future__ import annotations

import gc

__all__ = ["settle", "unsettle"]


def settle() -> None:
    """Collect what is garbage now, then keep everything alive out of future collections.

    Called when a model has been loaded (start-up, hot reload): objects frozen by an earlier
    call are unfrozen first, so the replaced model can be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def unsettle() -> None:
    """Return the frozen objects to the collector (shutdown)."""
    gc.unfreeze()
