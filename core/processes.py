"""What a process arranges about its children and its standard error, and how a process is
recognised again later.

Children that die with their parent: the queue worker's training child and the pool that
reads a corpus's files in parallel.

A parent killed with SIGKILL runs no clean-up, and a child blocked on a pipe from it (a
process pool's worker waiting for its next task) would wait for ever. Linux's
PR_SET_PDEATHSIG asks the kernel to send the child a signal the moment its parent ends,
whatever ended it: nothing to poll and no thread to keep, which is why it is used rather
than a watchdog thread checking os.getppid(). The signal is tied to the thread that
started the child, so a caller keeps that thread alive while its children work (a pool
used inside one function call does). Elsewhere (macOS) the call is unavailable and a
child may outlive a killed parent.

Standard error held back: TensorFlow's start-up lines and Ray's C++ warnings are written to
file descriptor 2 directly, below Python's sys.stderr and any log level, so the only way to
keep a command's output to its own lines is to point that descriptor elsewhere meanwhile.

A process recognised again: a run's trainer and a sweep's driver record who they are (pid,
host, and the process's boot id and start time from /proc, since a pid alone may be reused
by an unrelated process); `recorded_alive` tells a reader whether that process still runs.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

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


@contextmanager
def stderr_held_back(show_on_error: bool = True) -> Iterator[None]:
    """File descriptor 2 into a temporary file while the block runs; what was written there
    is shown afterwards only if the block raised and `show_on_error` (else dropped)."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed and show_on_error:
                sink.seek(0)
                sys.stderr.write(sink.read().decode(errors="replace"))


def pid_running(pid: int) -> bool:
    """Whether a process `pid` exists (signal 0: nothing is sent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_identity(pid: int) -> str | None:
    """'<boot id>:<start time>' of a live process on this host, None when it is gone or a
    zombie (or without /proc): a pid alone may be reused by an unrelated process."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in ("Z", "X"):  # dead, not yet reaped by its parent
        return None
    return f"{boot}:{fields[19]}"  # field 22 of stat, its start time


def process_alive(pid: int, identity: str | None = None) -> bool:
    """Whether `pid` still runs (as the process recorded as `identity`, when given)."""
    if pid <= 0:
        return False
    if Path("/proc/self/stat").exists():
        found = process_identity(pid)
        return found is not None and identity in (None, found)
    return pid_running(pid)


def recorded(pid: int | None = None) -> dict[str, Any]:
    """What identifies a process (this one by default) to a later reader: pid, host and
    identity, as a run's status.json and a sweep's progress.json record them."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": socket.gethostname(), "process": process_identity(pid)}


def recorded_alive(fields: Mapping[str, Any]) -> bool:
    """Whether the process `fields` record (see `recorded`) still runs; one recorded on
    another host (or on none) is assumed to, as it cannot be asked from here."""
    if fields.get("host") != socket.gethostname():
        return True
    return process_alive(int(fields.get("pid") or 0), fields.get("process"))
