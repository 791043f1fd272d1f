"""A sweep's progress, read from files: the run directory of each trial (its config.json
names the sweep and the trial), the trials' states, and progress.json, which the sweep's
driver process writes (its state, pid, planned trials, the time it has used).

Counts come from the runs' own status.json, never from Ray Tune's memory, so they hold after
a stop, a crash or a restart of the dashboard; `sweep_progress` is the one reader every page
shows them from. A trial is:
  done         its run finished, or the sweep stopped it early (ASHA, the time budget);
  running      its run is training;
  failed       its run failed for a real error (a bad setting), or it could not start;
  interrupted  its run was killed or cancelled: a re-run of the sweep continues it;
  pending      no run yet.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from core.files import RunError, now_iso, read_json, write_json
from core.processes import recorded_alive
from core.runs.history import best_score, read_history_columns
from core.runs.listing import run_dirs
from core.runs.record import Run
from core.runs.status import ACTIVE
from core.sweeps.search import planned_count
from core.sweeps.spec import SweepError, load_spec

PROGRESS_FILE = "progress.json"
FAILED_PREFIX = "failed-"   # sweeps/<id>/failed-<trial key>.json: a trial that got no run
STOPPED_EARLY = "stopped_early"  # the status.json field saying why the sweep stopped a run
ACTIVE_DRIVER = ("waiting", "starting", "running")


def trial_runs(runs_root: Path | str, sweep_id: str) -> dict[str, Path]:
    """The run directory of each trial of the sweep, by trial key. Should two runs claim a
    key (never, unless a run was copied), the one with more epochs wins."""
    found: dict[str, Path] = {}
    for run_dir in run_dirs(runs_root):
        entry = Run(run_dir).sweep
        if entry.get("id") != sweep_id or not entry.get("trial"):
            continue
        key = str(entry["trial"])
        if key not in found or _epochs(run_dir) > _epochs(found[key]):
            found[key] = run_dir
    return found


def _epochs(run_dir: Path) -> int:
    try:
        return len(read_history_columns(run_dir)["epoch"])
    except RunError:
        return 0


def trial_state(status: dict[str, Any]) -> str:
    """done / running / failed / interrupted (see the module docstring) of a run's status."""
    state = status.get("state")
    if state == "finished" or status.get(STOPPED_EARLY):
        return "done"
    if state in ACTIVE:
        return "running"
    if state in ("failed", "broken"):
        return "failed"
    return "interrupted"


@dataclass
class SweepProgress:
    """Where a sweep stands: the driver's state, trial counts and the best trial so far."""

    sweep_id: str
    driver: str = "not started"    # waiting, starting, running, finished, cancelled,
                                   # failed; "stopped" when its process is gone
    message: str = ""
    planned: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    best_run: str = ""
    best_loss: float = math.nan
    seconds: float = 0.0          # wall time the sweep has used in all its runs

    @property
    def pending(self) -> int:
        return max(0, self.planned - sum(self.counts.values()))

    @property
    def active(self) -> bool:
        return self.driver in ACTIVE_DRIVER

    def line(self) -> str:
        """One line: '4 of 12 trials done, 1 running, 7 pending · best 1.234 (run id)'."""
        c = self.counts
        parts = [f"{c.get('done', 0)} of {self.planned} trials done",
                 f"{c.get('running', 0)} running", f"{self.pending} pending"]
        parts += [f"{c[k]} {k}" for k in ("failed", "interrupted") if c.get(k)]
        text = ", ".join(parts)
        if self.best_run:
            text += f" · best held-out loss so far {self.best_loss:.4f} ({self.best_run})"
        return text


def read_progress(sweep_dir: Path | str) -> dict[str, Any]:
    """progress.json as the driver wrote it; {} before the driver has written it."""
    try:
        data = read_json(Path(sweep_dir) / PROGRESS_FILE)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_progress(sweep_dir: Path | str, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into progress.json (the driver is its only writer)."""
    data = {**read_progress(sweep_dir), **fields, "updated": now_iso()}
    write_json(Path(sweep_dir) / PROGRESS_FILE, data,
               f"{PROGRESS_FILE} of sweep {Path(sweep_dir).name}")
    return data


def sweep_progress(sweep_dir: Path | str, runs_root: Path | str,
                   trial_dirs: Iterable[Path] | None = None) -> SweepProgress:
    """The sweep's progress now: trial states from its runs' status.json, the driver's state
    from progress.json ("stopped" when it says running but its process is gone).
    `trial_dirs`: its runs when the caller knows them (a cached runs table), so the runs
    folder is not searched again."""
    sweep_dir = Path(sweep_dir)
    data = read_progress(sweep_dir)
    driver = data.get("state", "not started")
    if driver in ACTIVE_DRIVER and not recorded_alive(data):
        driver = "stopped"
    progress = SweepProgress(sweep_dir.name, driver, str(data.get("message", "")),
                             _planned(sweep_dir, data), seconds=_seconds(data))
    counts = {"done": 0, "running": 0, "failed": 0, "interrupted": 0}
    best = (math.inf, "")
    dirs = trial_runs(runs_root, sweep_dir.name).values() if trial_dirs is None else trial_dirs
    for run_dir in dirs:
        run = Run(run_dir)
        counts[trial_state(run.status)] += 1
        best = min(best, (_best_score(run), run.run_id))
    counts["failed"] += len(list(sweep_dir.glob(f"{FAILED_PREFIX}*.json")))
    progress.counts = counts
    if best[1] and math.isfinite(best[0]):
        progress.best_loss, progress.best_run = best
    return progress


def _planned(sweep_dir: Path, data: dict[str, Any]) -> int:
    """The trials the sweep plans: progress.json's, else its sweep.json's count, so a sweep
    whose driver has not written yet reads '0 of 12 trials done', never '0 of 0'."""
    if data.get("planned"):
        return int(data["planned"])
    try:
        return planned_count(load_spec(sweep_dir))
    except (RunError, SweepError):   # a broken sweep.json: nothing can be planned
        return 0


def _seconds(data: dict[str, Any]) -> float:
    """The time used by finished driver runs plus the current one's, if it runs."""
    spent = float(data.get("spent_seconds", 0.0))
    if data.get("state") in ACTIVE_DRIVER and data.get("started_at") and recorded_alive(data):
        spent += time.time() - float(data["started_at"])
    return spent


def _best_score(run: Run) -> float:
    """The run's lowest held-out loss (training loss without held-out pieces) so far."""
    try:
        return best_score(run.history_columns)
    except RunError:
        return math.inf


def record_failure(sweep_dir: Path, key: str, message: str) -> None:
    """A trial that could not even get a run (its setting is impossible): said in the sweep's
    folder, so it counts as failed and the error is shown."""
    write_json(sweep_dir / f"{FAILED_PREFIX}{key}.json", {"trial": key, "error": message,
                                                          "at": now_iso()})


def failures(sweep_dir: Path | str) -> list[dict[str, Any]]:
    """The trials recorded by `record_failure`, with their errors."""
    found = []
    for path in sorted(Path(sweep_dir).glob(f"{FAILED_PREFIX}*.json")):
        try:
            found.append(read_json(path))
        except (OSError, ValueError):
            continue
    return found
