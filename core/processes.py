"""Child processes that die with their parent: the queue worker's training child and the
pool that reads a corpus's files in parallel.

A parent killed with SIGKILL runs no clean-up, and a child blocked on a pipe from it (a
process pool's worker waiting for its next task) would wait for ever. Linux's
PR_SET_PDEATHSIG asks the kernel to send the child a signal the moment its parent ends,
whatever ended it: nothing to poll and no thread to keep, which is why it is used rather
than a watchdog thread checking os.getppid(). The signal is tied to the thread that
started the child, so a caller keeps that thread alive while its children work (a pool
used inside one function call does). Elsewhere (macOS) the call is unavailable and a
child may outlive a killed parent.
"""
from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """In a child, before it works: be killed (SIGKILL) when process `parent` ends, and at
    once if it has already ended (between the fork and this call)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGKILL)


def pool_worker_start(parent: int) -> None:
    """A process pool's initializer: die with the parent, and leave Ctrl-C to it (the
    terminal sends SIGINT to the whole process group; the parent stops the pool, and
    workers that also took it would each print a traceback)."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
