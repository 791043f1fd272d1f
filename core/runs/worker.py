"""The worker: queued run directories are trained one at a time by a background process
that outlives the dashboard's page reloads.

A sweep (core.sweeps) holds the same lock while it trains, so the queue waits for it and
the sweep for the queue: one training path on the machine, not two schedulers.

The queue is the runs folder itself (state "queued" in status.json, oldest first), so it
survives restarts and needs no server. One worker at a time holds `runs/.worker.lock`; each
run trains in a child process (`python -m core train-run`) so a crash in one run cannot take
the worker down with it.

What it guarantees:
- nothing queued is stranded: a worker gives up its lock, then looks at the queue once more
  and takes the lock back if anything is there, so an enqueue that saw the lock held (and
  so started no worker) is always picked up;
- never two trainings at once: the child dies with the worker (PR_SET_PDEATHSIG), and a
  new worker first waits for any training a dead worker left running;
- no cancel is lost: state changes are compare-and-set (core.runs.status.change_state), so a
  run cancelled just as the worker takes it stays cancelled;
- the worker survives its runs: a child that fails (a full disk too) marks its run failed,
  and the worker goes on with the next.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from core.faults import pause_point
from core.processes import die_with_parent, process_alive
from core.runs.listing import run_dirs
from core.runs.record import RunError
from core.runs.status import RESUMABLE, cancel, change_state, read_status, trainer_alive

LOCK = ".worker.lock"
LOG = ".worker.log"
REPO = Path(__file__).resolve().parents[2]  # where `python -m core` finds the package
LOCK_PATIENCE = 1.0  # seconds a worker waits for the lock: a probe holds it for microseconds
LOCK_POLL_S = 0.05   # how often a waiting worker tries the lock again
WORKER_VARIABLE = "CORE_WORKER_PID"  # tells a training child which worker started it

log = logging.getLogger(__name__)


def queued_runs(runs_root: Path, skip: frozenset[tuple[str, float]] = frozenset()) -> list[Path]:
    """Queued run directories in the order they were queued (a run whose status cannot be
    read reads as "broken", never as queued), leaving out the (run id, queued_at) in `skip`."""
    found = []
    for run_dir in run_dirs(runs_root):
        status = read_status(run_dir)
        key = (run_dir.name, status.get("queued_at", 0.0))
        if status.get("state") == "queued" and key not in skip:
            found.append((key[1], run_dir.name, run_dir))
    return [d for _, _, d in sorted(found)]


def queue_resume(run_dir: Path) -> bool:
    """Queue a failed, killed or cancelled run to be resumed by the worker from its last
    complete epoch; False when it is in no state to resume."""
    return change_state(run_dir, "queued", RESUMABLE, resume=True, error="",
                        queued_at=time.time()) is not None


def _core_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "core", *args]


def _train_child(run_dir: Path, cache_dir: Path) -> None:
    """Train one run in a child process that dies with this one."""
    args = ["train-run", str(run_dir), "--cache", str(cache_dir)]
    if read_status(run_dir).get("resume"):
        args.append("--resume")
    parent = os.getpid()
    subprocess.run(_core_command(*args), check=False, cwd=REPO,
                   env={**os.environ, WORKER_VARIABLE: str(parent)},
                   preexec_fn=lambda: die_with_parent(parent))


def _settle(run_dir: Path, queued_at: float, stuck: set[tuple[str, float]]) -> None:
    """After the child: a run it never started is marked failed; one that cannot even be
    marked (a full disk) goes into `stuck`, so this worker does not take it again and
    again (it stays queued for a later worker, once there is room)."""
    try:
        change_state(run_dir, "failed", ("queued",),
                     error=f"the training process could not start it (see runs/{LOG})")
    except RunError as exc:
        log.warning("run %s: %s", run_dir.name, exc)
    status = read_status(run_dir)
    if status.get("state") == "queued" and status.get("queued_at") == queued_at:
        stuck.add((run_dir.name, queued_at))


def wait_for_orphans(runs_root: Path, poll: float = 0.5) -> None:
    """Before training anything: wait until no run is being trained by a child whose
    worker is gone (the worker was killed where a child cannot die with it)."""
    while True:
        orphans = [d for d in run_dirs(runs_root) if _orphaned(read_status(d))]
        if not orphans:
            return
        log.warning("waiting for %s, left training by a worker that is gone", orphans[0].name)
        time.sleep(poll)


def _orphaned(status: dict) -> bool:
    """A training that runs although the worker that started it is gone."""
    return (status.get("state") == "running" and bool(status.get("worker_pid"))
            and trainer_alive(status) and not process_alive(int(status["worker_pid"])))


@contextmanager
def worker_lock(runs_root: Path, patience: float = LOCK_PATIENCE) -> Iterator[bool]:
    """Hold the worker lock (True) or learn that another worker does (False), trying for
    `patience` seconds: filelock's FileLock, an flock on runs/.worker.lock polled every
    LOCK_POLL_S, so it holds across processes and goes with a process that dies. A sweep's
    driver holds it too, for the whole sweep (core.sweeps.driver): a queued run and a sweep
    never train at the same time."""
    lock = FileLock(runs_root / LOCK, timeout=patience, poll_interval=LOCK_POLL_S)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _drain(runs_root: Path, cache_dir: Path, idle_exit: float,
           stuck: set[tuple[str, float]]) -> int:
    """Train queued runs until none has been waiting for `idle_exit` seconds; returns how
    many it started."""
    started, idle_since = 0, time.monotonic()
    wait_for_orphans(runs_root)
    while time.monotonic() - idle_since < idle_exit:
        pending = queued_runs(runs_root, frozenset(stuck))
        if not pending:
            time.sleep(0.2)
            continue
        run_dir = pending[0]
        queued_at = read_status(run_dir).get("queued_at", 0.0)
        try:
            _train_child(run_dir, cache_dir)
            _settle(run_dir, queued_at, stuck)
        except Exception as exc:  # the worker outlives any one run
            log.warning("run %s: %s", run_dir.name, exc)
        started += 1
        idle_since = time.monotonic()
    return started


def work(runs_root: Path, cache_dir: Path, idle_exit: float = 5.0) -> int:
    """Train queued runs until the queue has been empty for `idle_exit` seconds.
    Returns how many runs it started; 0 at once if another worker holds the lock.

    The exit is atomic with respect to enqueueing: after letting the lock go it looks at
    the queue once more, and takes the lock back if something was queued meanwhile."""
    runs_root.mkdir(parents=True, exist_ok=True)
    started, stuck, exits = 0, set(), 0
    while True:
        with worker_lock(runs_root) as held:
            if not held:
                return started
            started += _drain(runs_root, cache_dir, idle_exit, stuck)
            exits += 1
            pause_point("worker-exit", exits)  # tests enqueue here, the lock still held
        if not queued_runs(runs_root, frozenset(stuck)):
            return started


def worker_running(runs_root: Path) -> bool:
    """Whether some process holds the worker's lock (the lock file alone proves nothing: it
    stays behind when a worker ends)."""
    if not (runs_root / LOCK).exists():
        return False
    with worker_lock(runs_root, patience=0) as held:
        return not held


def ensure_worker(runs_root: Path, cache_dir: Path) -> None:
    """Start a detached worker unless one is already running."""
    if worker_running(runs_root):
        return
    runs_root.mkdir(parents=True, exist_ok=True)
    with open(runs_root / LOG, "ab") as log_file:  # the child keeps its own copy
        subprocess.Popen(_core_command("worker", "--runs", str(runs_root.resolve()),
                                       "--cache", str(Path(cache_dir).resolve())),
                         stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=REPO)


def cancel_all(runs_root: Path) -> int:
    """Cancel every queued run, then ask the running one to stop (core.runs.status.cancel):
    in that order, so the worker cannot start a queued run as the running one ends. Returns
    how many runs were cancelled."""
    states = {d: read_status(d).get("state") for d in run_dirs(runs_root)}
    active = [d for d, s in states.items() if s == "queued"] + \
        [d for d, s in states.items() if s == "running"]
    for run_dir in active:
        cancel(run_dir)
    return len(active)
