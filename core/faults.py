"""Pause points: named instants (inside a checkpoint save, between epochs, in the worker's
exit) where the fault-injection tests (tests/test_faults.py) stop a process to kill it, at
an instant they choose rather than one they race for.

A process stops itself (SIGSTOP) at the point CORE_PAUSE_AT names, e.g. "row:2" (after
epoch 2's history row) or "worker-exit:1"; with the variable unset nothing happens.
"""
from __future__ import annotations

import os
import signal

PAUSE_VARIABLE = "CORE_PAUSE_AT"


def pause_point(name: str, count: int) -> None:
    """Stop here if CORE_PAUSE_AT is "<name>:<count>" (count: the epoch, or how many times
    the worker has reached its exit)."""
    if os.environ.get(PAUSE_VARIABLE) == f"{name}:{count}":
        os.kill(os.getpid(), signal.SIGSTOP)
