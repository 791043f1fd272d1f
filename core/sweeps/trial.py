"""The function Ray Tune runs for each trial, in a Ray worker process: one trial is exactly
one normal training run.

It finds the trial's run directory (its config.json names the sweep and the trial key) or
creates it with core.runs.training.enqueue, then trains it with the project's own
run_training, or continues it with resume_training when an earlier attempt was killed:
every epoch is committed to the run directory as usual (config.json, history.csv, models,
status.json), so Compare, the verdict and the report see the trial live. After each epoch
it reports the held-out loss to Tune (for ASHA and Optuna) with a small checkpoint that
points at the run's committed epoch.

- Killed (kill -9, out of memory): Tune starts the trial again (FailureConfig); this
  function finds the run "killed" and resumes it from its last complete epoch, so its
  history holds every epoch once and config.json records where it resumed.
- Stopped by Tune (ASHA, the time budget): `tune.report` raises SystemExit; the run is
  marked `stopped_early` with the reason and ends "cancelled" before its next epoch, then
  the SystemExit is raised again (Tune waits for it). The sweep counts the trial done; a
  re-run does not continue it.
- Cancelled with the sweep: the run is cancelled (within a batch) and a re-run continues it.
- A real error (an impossible combination Optuna proposed, a setting that cannot train):
  the failure is recorded with its reason (the run marked failed, or sweeps/<id>/failed-*.json
  when it got no run), the trial reports an infinite loss and returns, so Tune does not
  retry it, Optuna steers away from it, and the other trials go on.
"""
from __future__ import annotations

import math
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.data.corpus import CorpusError
from core.files import RunError, write_json
from core.nets.config import ConfigError
from core.runs.history import best_score, epoch_score, epoch_scores
from core.runs.status import change_state, read_status, request_cancel, write_status
from core.sweeps.progress import STOPPED_EARLY, record_failure, trial_runs
from core.sweeps.search import Trial, optuna_trial
from core.sweeps.spec import load_spec

CANCEL_FILE = "cancel"      # sweeps/<id>/cancel: the sweep was cancelled; trials stop
TRIAL_INDEX = "__trial_index__"  # the seed index Tune's Repeater gives each repeat
EARLIER_ATTEMPT_S = 60.0    # how long a restarted trial waits for its killed attempt to exit
CHECKPOINT_STATE = "state.json"


@dataclass(frozen=True)
class SweepContext:
    """What every trial of a sweep needs, as absolute paths (a trial's working directory is
    Ray's) and the wall-clock time the sweep's budget ends (0: none)."""

    sweep_dir: str
    runs: str
    cache: str
    deadline: float = 0.0

    def as_tune_value(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def sweep_id(self) -> str:
        return Path(self.sweep_dir).name


def sweep_cancelled(sweep_dir: Path | str) -> bool:
    return (Path(sweep_dir) / CANCEL_FILE).exists()


def run_trial(config: dict[str, Any]) -> None:
    """Tune's trainable: train (or continue) the trial's run, reporting every epoch."""
    from ray import tune

    context = SweepContext(**config["sweep"])
    if sweep_cancelled(context.sweep_dir):
        return
    key = config["trial"]["key"] if "trial" in config else \
        f"o-{tune.get_context().get_trial_id()}"
    try:
        trial = _trial(config, context, key)
        run_dir = _run_dir(trial, context)
    except (ConfigError, CorpusError, RunError) as exc:
        record_failure(Path(context.sweep_dir), key, str(exc))
        _report_failed()
        return
    _train_trial(run_dir, context)


def _trial(config: dict[str, Any], context: SweepContext, key: str) -> Trial:
    """The planned trial Tune passed, or the one Optuna proposed (seed: Repeater's index)."""
    if "trial" in config:
        return Trial.from_tune_value(config["trial"])
    params = {k: v for k, v in config.items() if k not in ("sweep", TRIAL_INDEX)}
    return optuna_trial(load_spec(context.sweep_dir), params, int(config.get(TRIAL_INDEX, 0)),
                        key, setting=0)


def _run_dir(trial: Trial, context: SweepContext) -> Path:
    """The trial's run directory: the one an earlier attempt made, else a new queued run."""
    from ray import tune

    from core.runs.training import enqueue

    existing = trial_runs(context.runs, context.sweep_id).get(trial.key)
    if existing is not None:
        return existing
    entry = {"id": context.sweep_id, "trial": trial.key, "setting": trial.setting,
             "tune_trial": tune.get_context().get_trial_id(),
             **({"params": trial.params} if trial.params is not None else {})}
    return enqueue(trial.config, context.runs, context.cache, record={"sweep": entry})


def _train_trial(run_dir: Path, context: SweepContext) -> None:
    """Train, continue, or leave as it is the trial's run, by the state it is in."""
    import ray
    from ray import tune

    from core.runs.record import Run
    from core.runs.training import resume_training, run_training

    status = _after_earlier_attempt(run_dir)
    state = status.get("state")
    if state == "finished" or status.get(STOPPED_EARLY):
        _report_done(run_dir)
        return
    if state == "failed":
        _report_failed()  # a real error, recorded in the run: training again would fail again
        return
    _prepare_process()
    checkpoint = tune.get_checkpoint()
    notes = {"ray_node": ray.get_runtime_context().get_node_id()[:12],
             "ray_trial": tune.get_context().get_trial_id(),
             "ray_gpus": [str(g) for g in ray.get_gpu_ids()]}  # Ray sets CUDA_VISIBLE_DEVICES
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            epoch = _checkpoint_epoch(Path(folder))
        notes["sweep_note"] = (f"Ray Tune restarted this trial after its process died "
                               f"(Tune's last checkpoint: epoch {epoch}); the run continues "
                               "from its last complete epoch")
    write_status(run_dir, **notes)
    train = run_training if state == "queued" else resume_training
    reporter = _Reporter(run_dir, context, Run(run_dir).config.epochs)
    try:
        train(run_dir, context.cache, on_epoch=reporter)
    except Exception:  # noqa: BLE001  run_training marked the run failed with the reason
        _report_failed()
        return
    if reporter.stop is not None:
        raise reporter.stop  # Tune waits for the SystemExit it raised (else it hangs)


def _after_earlier_attempt(run_dir: Path) -> dict[str, Any]:
    """The run's status once no earlier attempt trains it. Tune restarts a trial only after
    its process died, but a killed worker can take a moment to go; one on another host is
    gone for Ray, so its "running" is rewritten "killed" at once."""
    waited_until = time.monotonic() + EARLIER_ATTEMPT_S
    while True:
        status = read_status(run_dir)
        if status.get("state") != "running":
            return status
        if status.get("host") != socket.gethostname():
            change_state(run_dir, "killed", ("running",),
                         error=f"its Ray worker on {status.get('host')} died")
            return read_status(run_dir)
        if time.monotonic() > waited_until:
            raise RunError(f"run {run_dir.name} is still trained by process "
                           f"{status.get('pid')}: not starting it twice")
        time.sleep(0.5)


def _prepare_process() -> None:
    """A reused worker starts each trial afresh (Keras' global state cleared); TensorFlow
    uses the trial's CPUs, not every core (set once: a process cannot change it later)."""
    import keras
    import ray

    keras.backend.clear_session()
    cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
    if 0 < cpus < (os.cpu_count() or 1):
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(cpus)
            tf.config.threading.set_inter_op_parallelism_threads(cpus)
        except RuntimeError:  # already set by an earlier trial in this process
            pass


def _checkpoint_epoch(folder: Path) -> int:
    from core.files import read_json

    try:
        return int(read_json(folder / CHECKPOINT_STATE)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


class _Reporter:
    """on_epoch for run_training: the epoch's held-out loss (and the best so far) to Tune,
    with a checkpoint naming the run and the epoch it has committed."""

    def __init__(self, run_dir: Path, context: SweepContext, epochs: int) -> None:
        self.run_dir, self.context, self.epochs = run_dir, context, epochs
        self.best = float("inf")
        self.stop: SystemExit | None = None  # Tune's stop, raised again once training ends

    def __call__(self, row: dict[str, Any]) -> None:
        from ray import tune

        loss = epoch_score(row)
        self.best = min(self.best, loss)
        metrics = {"epoch": int(row["epoch"]), "val_loss": loss, "best_val_loss": self.best}
        with tempfile.TemporaryDirectory(prefix="trial-") as folder:
            write_json(Path(folder) / CHECKPOINT_STATE, {"run_id": self.run_dir.name,
                                                         "epoch": int(row["epoch"])})
            try:
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
            except SystemExit as stop:  # Tune stops the trial: ASHA, the time budget, a cancel
                self.stop = stop
                if int(row["epoch"]) < self.epochs:  # at the last epoch it simply ends
                    self._stopped(int(row["epoch"]))

    def _stopped(self, epoch: int) -> None:
        """Stop before the next epoch: a cancel leaves the run to resume; an early stop is
        written first (the process may end any moment now) and is final for the sweep."""
        if not sweep_cancelled(self.context.sweep_dir):
            budget = self.context.deadline and time.time() >= self.context.deadline - 5
            reason = (f"stopped by the sweep after epoch {epoch}: "
                      + ("its time budget ran out" if budget else
                         "ASHA early stopping (its held-out loss trailed the other trials')"))
            write_status(self.run_dir, **{STOPPED_EARLY: reason, "error": reason})
        request_cancel(self.run_dir)


def _report_done(run_dir: Path) -> None:
    """A trial whose run had already ended: its best loss, so Tune and Optuna see a result."""
    from ray import tune

    from core.runs.record import Run

    history = Run(run_dir).history_columns
    scores = epoch_scores(history)
    if len(scores):
        tune.report({"epoch": int(history["epoch"][-1]), "val_loss": float(scores[-1]),
                     "best_val_loss": best_score(history)})


def _report_failed() -> None:
    """A trial that failed for a real error still ends with a result: Tune refuses a trial
    without the searcher's metric (the whole sweep would stop), and Optuna takes an infinite
    loss as the worst, so it steers away from that combination. Tune does not retry it."""
    from ray import tune

    tune.report({"epoch": 0, "val_loss": math.inf, "best_val_loss": math.inf})
