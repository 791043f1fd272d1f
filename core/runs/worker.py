"""The worker: queued run directories are trained one at a time by a background process
that outlives the dashboard's page reloads.

The queue is the runs folder itself (state "queued" in status.json, oldest first), so it
survives restarts and needs no server. One worker at a time holds `runs/.worker.lock`; each
run trains in a child process (`python -m core train-run`) so a crash in one run cannot take
the worker down with it. (This module was core/queue.py, a name that hid the standard
library's `queue`.)
"""
from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

from core.runs.listing import run_dirs
from core.runs.record import read_status, request_cancel, write_status

LOCK = ".worker.lock"
LOG = ".worker.log"
REPO = Path(__file__).resolve().parents[2]  # where `python -m core` finds the package


def queued_runs(runs_root: Path) -> list[Path]:
    """Queued run directories in the order they were queued (a run whose status cannot be
    read reads as "broken", never as queued)."""
    found = []
    for run_dir in run_dirs(runs_root):
        status = read_status(run_dir)
        if status.get("state") == "queued":
            found.append((status.get("queued_at", 0.0), run_dir.name, run_dir))
    return [d for _, _, d in sorted(found)]


def cancel(run_dir: Path) -> None:
    """A queued run is cancelled at once; a running one stops after its current batch."""
    if read_status(run_dir).get("state") == "queued":
        write_status(run_dir, state="cancelled", error="cancelled before it started")
    else:
        request_cancel(run_dir)


def _core_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "core", *args]


def work(runs_root: Path, cache_dir: Path, idle_exit: float = 5.0) -> int:
    """Train queued runs until the queue has been empty for `idle_exit` seconds.
    Returns how many runs it started; 0 at once if another worker holds the lock."""
    runs_root.mkdir(parents=True, exist_ok=True)
    with open(runs_root / LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        started, idle_since = 0, time.monotonic()
        while time.monotonic() - idle_since < idle_exit:
            pending = queued_runs(runs_root)
            if not pending:
                time.sleep(0.5)
                continue
            run_dir = pending[0]
            subprocess.run(_core_command("train-run", str(run_dir), "--cache", str(cache_dir)),
                           check=False, cwd=REPO)
            if read_status(run_dir).get("state") in ("queued", "running"):
                write_status(run_dir, state="failed",
                             error="the training process exited without a final status")
            started += 1
            idle_since = time.monotonic()
        return started


def worker_running(runs_root: Path) -> bool:
    """Whether some process holds the worker's lock (the lock file alone proves nothing: it
    stays behind when a worker ends)."""
    path = runs_root / LOCK
    if not path.exists():
        return False
    with open(path) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def ensure_worker(runs_root: Path, cache_dir: Path) -> None:
    """Start a detached worker unless one is already running."""
    if worker_running(runs_root):
        return
    runs_root.mkdir(parents=True, exist_ok=True)
    with open(runs_root / LOG, "ab") as log:  # the child keeps its own copy of the handle
        subprocess.Popen(_core_command("worker", "--runs", str(runs_root.resolve()),
                                       "--cache", str(Path(cache_dir).resolve())),
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=REPO)


def cancel_all(runs_root: Path) -> int:
    """Cancel every queued run, then ask the running one to stop (see `cancel`): in that
    order, so the worker cannot start a queued run as the running one ends. Returns how
    many runs were cancelled."""
    states = {d: read_status(d).get("state") for d in run_dirs(runs_root)}
    active = [d for d, s in states.items() if s == "queued"] + \
        [d for d, s in states.items() if s == "running"]
    for run_dir in active:
        cancel(run_dir)
    return len(active)
