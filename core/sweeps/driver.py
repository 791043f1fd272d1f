"""Running a sweep: the driver process that hands the sweep's trials to Ray Tune.

`run_sweep` reads sweeps/<id>/sweep.json, checks every trial against the corpus, takes the
machine's training lock (runs/.worker.lock, the queue worker's: a queued run and a sweep
never train at once), starts Ray (core.sweeps.runtime) and runs the trials not yet done
through a Tune Tuner whose trainable is core.sweeps.trial.run_trial. It writes progress.json
(its state, pid, planned trials, time used) and returns the progress read from the runs.

Re-running the same sweep continues it from readable files only: finished trials (and those
stopped early, or failed for a real error) are skipped, interrupted ones resume from their
run directory's last complete epoch, pending ones start. Tune's own Tuner.restore is not
used: it unpickles Tune's saved state, and this project never loads pickles. Within one
driver, Tune restarts a trial whose process died (FailureConfig) from memory, nothing is
read back from disk, and the trial resumes its run directory.

`start_sweep` runs a driver detached (the dashboard's way); `cancel_sweep` stops one: a
marker file, a cancel of its running trials (they stop within a batch and resume on a
re-run) and SIGINT to the driver, on which Tune stops and saves nothing we read.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from core.files import RunError, folder_stamp
from core.nets.config import TrainConfig
from core.processes import recorded, recorded_alive
from core.runs import worker
from core.runs.history import best_score
from core.runs.record import Run
from core.runs.status import ACTIVE, cancel, read_status
from core.sweeps.progress import (
    ACTIVE_DRIVER,
    SweepProgress,
    failures,
    read_progress,
    sweep_progress,
    trial_runs,
    trial_state,
    write_progress,
)
from core.sweeps.runtime import (
    REPO,
    check_fits,
    check_gpus_usable,
    plain,
    ray_session,
    reach_cluster,
)
from core.sweeps.search import Trial, optuna_space, plan, planned_count
from core.sweeps.spec import SweepError, SweepSpec, load_spec
from core.sweeps.trial import CANCEL_FILE, SweepContext, run_trial, sweep_cancelled

TUNE_FOLDER = "tune"          # sweeps/<id>/tune: Tune's own files (never read back)
DRIVER_LOCK = ".driver.lock"  # one driver per sweep
LOG_FILE = "driver.log"       # a detached driver's output
MAX_FAILURES = 2              # restarts of a trial whose process died (kill -9, memory)
LOCK_POLL_S = 1.0

OnProgress = Callable[[SweepProgress], None]


def run_sweep(sweep_dir: Path | str, runs_root: Path | str, cache_dir: Path | str,
              on_progress: OnProgress | None = None) -> SweepProgress:
    """Run (or continue) the sweep to its end, its budget or a cancel; returns its progress.
    A bad spec or setting is a SweepError / ConfigError / CorpusError before Ray starts."""
    sweep_dir, runs, cache = (Path(p).resolve() for p in (sweep_dir, runs_root, cache_dir))
    spec = load_spec(sweep_dir)
    trials = check_sweep(spec, cache)
    runs.mkdir(parents=True, exist_ok=True)
    with _one_driver(sweep_dir):
        (sweep_dir / CANCEL_FILE).unlink(missing_ok=True)
        before = float(read_progress(sweep_dir).get("spent_seconds", 0.0))
        started = time.time()
        write_progress(sweep_dir, state="waiting", message="waiting for the training queue",
                       planned=planned_count(spec), started_at=started, **recorded())
        state, message = "failed", ""
        try:
            state, message = _run_locked(spec, trials, sweep_dir, runs, cache, before,
                                         on_progress)
        except KeyboardInterrupt:
            state, message = "cancelled", "cancelled"
        except BaseException as exc:
            message = plain(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            write_progress(sweep_dir, state=state, message=message,
                           spent_seconds=before + time.time() - started)
            _hand_queue_back(runs, cache)
    return sweep_progress(sweep_dir, runs)


def check_sweep(spec: SweepSpec, cache_dir: Path | str) -> list[Trial]:
    """Everything that can be checked before a sweep starts: the spec, every trial's
    settings, that each trial's windows fit its corpus, and that something answers at the
    cluster's address (within runtime.CONNECT_TIMEOUT_S). Returns the planned trials (none
    for Optuna, whose settings come as it runs)."""
    trials = plan(spec)
    check_corpus(trials, spec, Path(cache_dir))
    if spec.address:
        reach_cluster(spec.address)
    return trials


def check_corpus(trials: list[Trial], spec: SweepSpec, cache: Path) -> None:
    """Every trial's windows fit its corpus (prepared once here, not by each trial)."""
    from core.data.prepare import corpus_for
    from core.nets.windows import check_windows

    configs = [t.config for t in trials] or _optuna_corners(spec)
    corpora = {}
    for config in configs:
        key = (config.corpus, config.max_pieces, config.chord_mode, config.val_fraction,
               config.split_seed)
        if key not in corpora:
            corpora[key] = corpus_for(config, cache)
        check_windows(corpora[key], config)


def _optuna_corners(spec: SweepSpec) -> list[TrainConfig]:
    """For Optuna, whose settings are not known in advance: the base, and each choice and
    range end on it (a combination that cannot train fails its trial alone)."""
    configs = [spec.base_config]
    for setting in spec.settings:
        configs.append(spec.config_with(setting))
    for name, values in spec.grid.items():
        configs += [spec.config_with({name: v}) for v in values]
    for name, bounds in spec.ranges.items():
        kind = type(getattr(spec.base_config, name))
        configs += [spec.config_with({name: kind(bounds[end])}) for end in ("low", "high")]
    return configs


@contextmanager
def _one_driver(sweep_dir: Path) -> Iterator[None]:
    """Refuse a second driver of the same sweep (two would train its trials twice)."""
    with open(sweep_dir / DRIVER_LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = read_progress(sweep_dir).get("pid")
            raise SweepError("sweep", f"sweep {sweep_dir.name} is already running (driver "
                                      f"process {pid}): cancel it first") from None
        yield


def _run_locked(spec: SweepSpec, trials: list[Trial], sweep_dir: Path, runs: Path,
                cache: Path, spent: float, on_progress: OnProgress | None) -> tuple[str, str]:
    """Wait for the training lock, then run the trials left; (final state, message)."""
    while True:
        with worker.worker_lock(runs, patience=LOCK_POLL_S) as held:
            if held:
                return _run_ray(spec, trials, sweep_dir, runs, cache, spent, on_progress)
        if sweep_cancelled(sweep_dir):
            return "cancelled", "cancelled before it started"


def _run_ray(spec: SweepSpec, trials: list[Trial], sweep_dir: Path, runs: Path, cache: Path,
             spent: float, on_progress: OnProgress | None) -> tuple[str, str]:
    budget = spec.max_minutes * 60
    if budget and spent >= budget:
        return "finished", f"its time budget ({spec.max_minutes:g} min) is spent"
    deadline = time.time() + (budget - spent) if budget else 0.0
    context = SweepContext(str(sweep_dir), str(runs), str(cache), deadline)
    write_progress(sweep_dir, state="starting", message="starting Ray")
    with ray_session(spec.address) as resources:
        cpus = spec.cpus_per_trial or (max(1, int(resources.get("CPU", 1)) // spec.concurrent)
                                       if not spec.address else 1)
        check_fits(cpus, spec.gpus_per_trial)
        check_gpus_usable(spec.gpus_per_trial)
        write_progress(sweep_dir, state="running", message="", cpus_per_trial=cpus)
        runner = _Runner(spec, context, {"cpu": cpus, "gpu": spec.gpus_per_trial},
                         on_progress)
        left = _unfinished(trials, runs, sweep_dir) if trials else \
            _unfinished(_optuna_trials(spec, runs, sweep_dir), runs, sweep_dir)
        if left:
            runner.fit({"trial": _grid([t.as_tune_value() for t in left])})
        if spec.method == "optuna" and not sweep_cancelled(sweep_dir):
            runner.fit_optuna()
    if sweep_cancelled(sweep_dir):
        return "cancelled", "cancelled: run it again to continue its unfinished trials"
    if deadline and time.time() >= deadline - 1:
        return "finished", f"its time budget ({spec.max_minutes:g} min) ran out"
    return "finished", ""


def _grid(values: list) -> dict:
    from ray import tune

    return tune.grid_search(values)


def _unfinished(trials: list[Trial], runs: Path, sweep_dir: Path) -> list[Trial]:
    """The trials still to train: no run yet, or an interrupted one (resumed). Trials done,
    stopped early or failed for a real error are left as they are."""
    existing = trial_runs(runs, sweep_dir.name)
    failed = {f.get("trial") for f in failures(sweep_dir)}
    return [t for t in trials if t.key not in failed and
            (t.key not in existing or
             trial_state(read_status(existing[t.key])) in ("interrupted", "running"))]


def _optuna_trials(spec: SweepSpec, runs: Path, sweep_dir: Path) -> list[Trial]:
    """The Optuna trials an earlier driver started, as planned trials (to resume them)."""
    found = []
    for key, run_dir in trial_runs(runs, sweep_dir.name).items():
        run = Run(run_dir)
        entry = run.sweep
        found.append(Trial(key, int(entry.get("setting", 0)), run.config,
                           entry.get("params")))
    return found


class _Runner:
    """One Tune experiment after another for this driver (resumed trials, then Optuna's new
    ones), with the same trainable, resources, scheduler and failure policy."""

    def __init__(self, spec: SweepSpec, context: SweepContext, resources: dict,
                 on_progress: OnProgress | None) -> None:
        self.spec, self.context, self.resources = spec, context, resources
        self.on_progress = on_progress
        self.experiments = 0

    def fit(self, param_space: dict, search_alg=None, samples: int = 1) -> None:
        from ray import tune
        from ray.tune.logger import JsonLoggerCallback

        self.experiments += 1
        budget = self.context.deadline - time.time() if self.context.deadline else None
        if budget is not None and budget <= 0:
            return
        sweep_dir = Path(self.context.sweep_dir)
        tuner = tune.Tuner(
            tune.with_resources(run_trial, self.resources),
            param_space={**param_space, "sweep": self.context.as_tune_value()},
            tune_config=tune.TuneConfig(
                num_samples=samples, search_alg=search_alg, scheduler=self._scheduler(),
                max_concurrent_trials=self.spec.concurrent, reuse_actors=True,
                time_budget_s=budget, trial_dirname_creator=_trial_dirname),
            run_config=tune.RunConfig(
                name=f"{folder_stamp()}-{self.experiments}",
                storage_path=str(sweep_dir / TUNE_FOLDER), verbose=0,
                failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                callbacks=[JsonLoggerCallback(), _progress_callback(self.context,
                                                                    self.on_progress)]))
        tuner.fit()

    def _scheduler(self):
        if not self.spec.asha:
            return None
        from ray.tune.schedulers import ASHAScheduler

        epochs = max([self.spec.base_config.epochs, *self.spec.grid.get("epochs", []),
                      *[int(r["high"]) for n, r in self.spec.ranges.items() if n == "epochs"],
                      *[s.get("epochs", 0) for s in self.spec.settings]])
        return ASHAScheduler(time_attr="epoch", metric="val_loss", mode="min", max_t=epochs,
                             grace_period=self.spec.asha_grace,
                             reduction_factor=self.spec.asha_reduction)

    def fit_optuna(self) -> None:
        """New Optuna trials for what the budget has left, TPE told the settings an earlier
        driver already trained (their mean best loss over seeds)."""
        runs, sweep_dir = Path(self.context.runs), Path(self.context.sweep_dir)
        started = len(trial_runs(runs, sweep_dir.name)) + len(failures(sweep_dir))
        left = planned_count(self.spec) - started
        left -= left % self.spec.seeds
        if left <= 0:
            return
        self.fit({}, _optuna_searcher(self.spec, _trained_settings(runs, sweep_dir)), left)


def _trial_dirname(trial) -> str:
    return f"trial_{trial.trial_id}"


def _trained_settings(runs: Path, sweep_dir: Path) -> list[tuple[dict, float]]:
    """(Optuna's parameters, mean best held-out loss over its done seeds) per setting."""
    scores: dict[str, list[float]] = defaultdict(list)
    for run_dir in trial_runs(runs, sweep_dir.name).values():
        run = Run(run_dir)
        params = run.sweep.get("params")
        if params is None or trial_state(run.status) != "done":
            continue
        try:
            history = run.history_columns
        except RunError:
            continue
        if len(history["epoch"]):
            scores[json.dumps(params, sort_keys=True)].append(best_score(history))
    return [(json.loads(k), sum(v) / len(v)) for k, v in scores.items()]


def _optuna_searcher(spec: SweepSpec, trained: list[tuple[dict, float]]):
    """TPE over the spec's space, seeded, told what is already trained; each proposal
    repeated for the spec's seeds (Tune's Repeater; Optuna sees their mean)."""
    import optuna
    from optuna import distributions as d
    from ray.tune.search import Repeater
    from ray.tune.search.optuna import OptunaSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {}
    for name, (kind, *args) in optuna_space(spec).items():
        if kind == "choice":
            space[name] = d.CategoricalDistribution(args[0])
        else:
            low, high, log = args
            cls = d.IntDistribution if kind == "int" else d.FloatDistribution
            space[name] = cls(low, high, log=log)
    searcher = OptunaSearch(space=space, metric="best_val_loss", mode="min",
                            seed=spec.sample_seed)
    for params, loss in trained:
        searcher.add_evaluated_point(params, loss)
    return Repeater(searcher, repeat=spec.seeds)


def _progress_callback(context: SweepContext, on_progress: OnProgress | None):
    """A Tune callback in the driver: at every trial event, progress.json touched and the
    caller's hook called (the CLI prints a line)."""
    from ray import tune

    sweep_dir, runs = Path(context.sweep_dir), Path(context.runs)

    class Progress(tune.Callback):
        def _event(self) -> None:
            write_progress(sweep_dir, state="running")  # progress.json's time: updated
            if on_progress:
                on_progress(sweep_progress(sweep_dir, runs))

        def on_trial_start(self, iteration, trials, trial, **info):
            self._event()

        def on_trial_complete(self, iteration, trials, trial, **info):
            self._event()

        def on_trial_error(self, iteration, trials, trial, **info):
            self._event()

    return Progress()


def _hand_queue_back(runs: Path, cache: Path) -> None:
    """Runs queued while the sweep held the lock get a worker now (theirs saw the lock held
    and started none)."""
    if worker.queued_runs(runs):
        worker.ensure_worker(runs, cache)


# --------------------------------------------------------------------------- from outside

def start_sweep(sweep_dir: Path | str, runs_root: Path | str, cache_dir: Path | str) -> int:
    """Run the sweep in a detached driver process (`python -m core sweep --resume`), its
    output in sweeps/<id>/driver.log; returns its pid."""
    sweep_dir = Path(sweep_dir).resolve()
    command = [sys.executable, "-m", "core", "sweep", "--resume", str(sweep_dir),
               "--runs", str(Path(runs_root).resolve()),
               "--cache", str(Path(cache_dir).resolve())]
    with open(sweep_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    data = read_progress(sweep_dir)
    if data.get("state") not in ACTIVE_DRIVER or not recorded_alive(data):
        write_progress(sweep_dir, state="starting", message="starting the sweep's process",
                       **recorded(proc.pid))
    return proc.pid


def cancel_sweep(sweep_dir: Path | str, runs_root: Path | str) -> int:
    """Stop the sweep: mark it cancelled, cancel its queued and running trials (they stop
    within a batch, their epochs kept) and interrupt its driver. Returns how many trials
    were stopped. A re-run continues the interrupted trials."""
    sweep_dir = Path(sweep_dir)
    (sweep_dir / CANCEL_FILE).touch()
    stopped = 0
    for run_dir in trial_runs(runs_root, sweep_dir.name).values():
        if cancel(run_dir) in ACTIVE:
            stopped += 1
    data = read_progress(sweep_dir)
    if data.get("pid") and recorded_alive(data):
        try:
            os.kill(int(data["pid"]), signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            pass
    return stopped
