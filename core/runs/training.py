"""Training one run: corpus -> windows -> model -> a run directory filled epoch by epoch.

It lives with the run record because that is what it fills: the network comes from
core.nets (config, windows, models, schedule, accuracy), each epoch is committed through
core.runs.checkpoint, and the state moves through core.runs.status.

`enqueue` checks a configuration against its corpus and records it (state "queued");
`run_training` trains a recorded run; `resume_training` continues a killed, failed or
cancelled one from its last complete epoch; `train` enqueues and trains in this process.
The dashboard enqueues and leaves the work to the background worker (core.runs.worker), the
CLI calls `train` and `resume`. `corpus_for` (core.data.prepare) turns a configuration into
its corpus.

Each epoch is one `fit` over a shuffle seeded by (seed, epoch), with every random generator
(Python, NumPy, TensorFlow, the dropout layers') reseeded by (seed, epoch) too: a run resumed
at epoch k trains epochs k+1... exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.data.prepare import corpus_for
from core.data.symbols import HOLD
from core.faults import pause_point
from core.files import RunError, WriteError, now_iso
from core.nets.accuracy import step_metrics
from core.nets.config import TrainConfig
from core.nets.models import build_model, compiled_forward, resolved_encoding
from core.nets.schedule import current_rate, end_epoch, epoch_callbacks, resume_callbacks
from core.nets.schedule import start as start_callbacks
from core.nets.windows import (
    WindowSet,
    batches_per_epoch,
    build_windows,
    check_windows,
    corpus_vocabularies,
    held_out_windows,
    target_names,
    to_dataset,
    windows_per_epoch,
)
from core.runs.checkpoint import restore, save_epoch
from core.runs.history import read_history_columns
from core.runs.record import create_run, library_versions, open_run
from core.runs.status import (
    CANCEL_FILE,
    RESUMABLE,
    cancel_requested,
    change_state,
    read_status,
    write_status,
)
from core.runs.worker import WORKER_VARIABLE

log = logging.getLogger(__name__)


def enqueue(config: TrainConfig, runs_root: Path | str = "runs",
            cache_dir: Path | str = "cache", record: dict[str, Any] | None = None) -> Path:
    """Validate against the corpus, then create the run directory in state "queued".
    An impossible setting raises ConfigError before anything is written. `record` adds
    entries to config.json (a sweep's trial names its sweep there). An "auto" input
    encoding is fixed here, on the machine that will train the run (a sweep's trial
    enqueues on its worker), so a resume or a generation builds the same network."""
    config = dataclasses.replace(config.validate(), input_encoding=resolved_encoding(config))
    corpus = corpus_for(config, cache_dir)
    check_windows(corpus, config)
    vocabs = corpus_vocabularies(corpus, config)
    record = {"corpus": {"id": corpus.corpus_id, "key": corpus.key, "settings": corpus.settings,
                         "pieces": len(corpus.pieces),
                         "held_out": [p.name for p in corpus.split("validation")]},
              "vocab_sizes": {k: len(v) for k, v in vocabs.items()},
              "versions": library_versions(), **(record or {})}
    return create_run(Path(runs_root), config, record, vocabs)


def next_symbol_metrics(model, windows: WindowSet, config: TrainConfig,
                        hold_id: int | None = None, batch_size: int = 256) -> dict[str, float]:
    """Held-out loss and accuracy of predicting symbol n+1 from each window, the same
    measure whichever objective trained the model, so curves are comparable; for Model 1
    also note and onset accuracy (core.nets.accuracy, given the hold's id)."""
    if len(windows) == 0:
        return {}
    sums: dict[str, list[float]] = {}
    scores = step_metrics(hold_id)[1:] if config.model == 1 else []
    for inputs, targets in to_dataset(windows, config, "window", shuffle=False,
                                      seed=0).rebatch(batch_size):
        outputs = compiled_forward(model)(inputs)
        if config.model == 1:
            outputs, targets = {"steps": outputs}, {"steps": targets}
        for name, probs in outputs.items():
            probs = np.asarray(probs)
            if probs.ndim == 3:
                probs = probs[:, -1, :]
            y = np.asarray(targets[name])
            chosen = probs[np.arange(len(y)), y]
            sums.setdefault(name, [0.0, 0.0])
            sums[name][0] += float(-np.log(np.clip(chosen, 1e-9, 1.0)).sum())
            sums[name][1] += float((probs.argmax(axis=1) == y).sum())
            for score in scores:
                score.update_state(y, probs)
    count = len(windows)
    if config.model == 1:
        return {"val_loss": sums["steps"][0] / count, "val_accuracy": sums["steps"][1] / count,
                **{f"val_{score.name}": float(score.result()) for score in scores}}
    metrics = {"val_loss": sum(v[0] for v in sums.values()) / count}
    for name, (loss, correct) in sums.items():
        metrics[f"val_{name}_loss"] = loss / count
        metrics[f"val_{name}_accuracy"] = correct / count
    return metrics


def hold_id(run) -> int | None:
    """The id of the hold `_` in a Model 1 run's vocabulary (None for Model 2, or a corpus
    whose notes never last beyond a 16th)."""
    vocab = run.vocabs.get("steps")
    return None if vocab is None else vocab.index.get(HOLD)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffle and dropout: a function of (seed, epoch) only, so an
    epoch draws the same randomness whether or not the run was interrupted before it."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def reseed(model, seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and restart every dropout layer's generator from
    `seed`: Keras saves those generators' state with the weights but does not load it."""
    import keras

    keras.utils.set_random_seed(seed)
    generators = [v for v in model.non_trainable_variables
                  if v.path.endswith("seed_generator_state")]
    for i, state in enumerate(generators):
        state.assign(np.array([(seed + i) % 2**31, 0]).astype(state.dtype))


def _progress(run_dir: Path, steps_per_epoch: int):
    import keras

    class Progress(keras.callbacks.Callback):
        """Writes the batch progress to status.json and stops at a cancel request."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.shown = epoch, -1

        def on_train_batch_end(self, batch, logs=None):
            # called every STEPS_PER_EXECUTION batches, `batch` the last one run
            if self.shown < 0:
                pause_point("batch", self.epoch + 1)
            if batch // 20 != self.shown or batch + 1 == steps_per_epoch:
                self.shown = batch // 20
                write_status(run_dir, batch=batch + 1, batches=steps_per_epoch,
                             current_loss=float((logs or {}).get("loss", math.nan)))
            if cancel_requested(run_dir):  # a stat() per batch: cancel stops within one
                self.model.stop_training = True

    return Progress()


def _start(run_dir: Path, resume: bool) -> dict[str, Any] | None:
    """Claim the run for this process (compare-and-set to "running"); None when it was
    cancelled before it started. Training a run that already has epochs is refused unless
    resuming: a second start would repeat its epochs."""
    run_id = run_dir.name
    if not resume and len(read_history_columns(run_dir)["epoch"]):
        raise RunError(f"run {run_id} already has epochs: resume it (python -m core resume "
                       f"{run_id}) rather than train it again")
    allowed = ("queued", *RESUMABLE) if resume else ("queued",)
    if resume:
        (run_dir / CANCEL_FILE).unlink(missing_ok=True)  # an explicit resume overrides it
    fields = {"started": now_iso(), "started_at": time.time(), "error": "", "batch": 0,
              "resume": False}
    if os.environ.get(WORKER_VARIABLE):
        fields["worker_pid"] = int(os.environ[WORKER_VARIABLE])
    status = change_state(run_dir, "running", allowed, **fields)
    if status is not None:
        return status
    state = read_status(run_dir).get("state")
    if state == "cancelled" and not resume:
        return None
    if state == "finished":
        raise RunError(f"run {run_id} has finished all its epochs: nothing to resume")
    raise RunError(f"run {run_id} is {state}" + (", not queued" if not resume else
                                                 ": only a failed, killed or cancelled run "
                                                 "can be resumed"))


def _fail(run_dir: Path, exc: BaseException) -> None:
    """Mark the run failed with one plain reason; a status that cannot be written (the
    disk is full) is left to readers, who see the dead process as "killed"."""
    error = str(exc) if isinstance(exc, WriteError) else f"{type(exc).__name__}: {exc}"
    try:
        change_state(run_dir, "failed", ("running",), error=error, finished=now_iso(),
                     ended_at=time.time(), traceback=traceback.format_exc(limit=5))
    except Exception as second:  # the original error is the one to report
        log.warning("run %s: could not record the failure: %s", run_dir.name, second)


def run_training(run_dir: Path | str, cache_dir: Path | str = "cache",
                 on_epoch: Callable[[dict], None] | None = None,
                 resume: bool = False) -> dict[str, Any]:
    """Train a recorded run to the end, or until cancelled; `resume` continues from its
    last complete epoch. Any error marks it "failed" with the message and is raised again.
    Returns the final status (a run cancelled before it started is left as it is)."""
    run_dir = Path(run_dir)
    status = _start(run_dir, resume)
    if status is None:
        return read_status(run_dir)
    try:
        config, done = _train(run_dir, Path(cache_dir), on_epoch, resume)
    except BaseException as exc:  # a KeyboardInterrupt too: the run must not stay "running"
        _fail(run_dir, exc)
        raise
    state = "cancelled" if done < config.epochs and cancel_requested(run_dir) else "finished"
    return (change_state(run_dir, state, ("running",), finished=now_iso(), ended_at=time.time())
            or read_status(run_dir))


def resume_training(run_dir: Path | str, cache_dir: Path | str = "cache",
                    on_epoch: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Continue a killed, failed or cancelled run from its last complete epoch: its weights
    and optimizer state (model.keras), epoch counter (history.csv) and random streams
    (seeded by epoch), so history.csv ends up with each epoch once. Returns the final status."""
    return run_training(run_dir, cache_dir, on_epoch, resume=True)


def _train(run_dir: Path, cache_dir: Path, on_epoch: Callable[[dict], None] | None,
           resume: bool) -> tuple[TrainConfig, int]:
    """The epochs still to do, each committed as it ends; returns (config, epochs done)."""
    import keras

    run = open_run(run_dir)
    config = run.config
    keras.utils.set_random_seed(config.seed)  # the initial weights
    corpus = corpus_for(config, cache_dir)
    check_windows(corpus, config)
    train_ws = build_windows(corpus, config, run.vocabs, "train", config.train_window)
    val_ws = held_out_windows(corpus, config, run.vocabs)
    per_epoch = windows_per_epoch(train_ws, config.objective)
    # runs trained before whole batches (recorded without the flag) keep their partial one
    whole = bool(run.record.get("whole_batches", "parameters" not in run.record))
    steps = batches_per_epoch(train_ws, config, whole)
    done, model, best = restore(run_dir, steps) if resume else (0, None, math.inf)
    hold = hold_id(run)
    if model is None:
        model = build_model(config, {k: len(v) for k, v in run.vocabs.items()}, hold, steps)
        run.add_to_record(parameters=int(model.count_params()), train_windows=per_epoch,
                          held_out_windows=len(val_ws), targets=target_names(config),
                          whole_batches=whole)
    monitor = "val_loss" if len(val_ws) else "loss"
    if done:
        run.add_to_record(resumes=[*run.record.get("resumes", []),
                                   {"epoch": done + 1, "at": now_iso()}])
        write_status(run_dir, resumed_at=done + 1, epoch=done)
        history = read_history_columns(run_dir)
        rows = [{k: v[i] for k, v in history.items()} for i in range(done)]
        callbacks, stopped = resume_callbacks(config, model, monitor, rows)
        if stopped:
            return config, done
    else:
        callbacks = epoch_callbacks(config, monitor)
        start_callbacks(callbacks, model)
    clock = _Clock(_elapsed_before(run_dir) if done else 0.0)
    progress = _progress(run_dir, steps)
    for epoch in range(done, config.epochs):
        if cancel_requested(run_dir):
            break  # asked between epochs (by on_epoch, e.g. a sweep stopping the trial)
        clock.epoch_begins()
        logs = _fit_epoch(model, train_ws, config, epoch, progress, whole)
        if cancel_requested(run_dir):
            break  # a cut-short epoch is not an epoch: the history keeps whole ones
        timing = clock.epoch_ended()  # the fit alone: held-out metrics and saving excluded
        row = {"epoch": epoch + 1, **logs, **next_symbol_metrics(model, val_ws, config, hold),
               "learning_rate": current_rate(model), **timing}
        stop = end_epoch(callbacks, epoch + 1, row)
        best = save_epoch(run_dir, model, row, best)
        done = epoch + 1
        write_status(run_dir, epoch=done, epochs=config.epochs,
                     eta_seconds=clock.eta(config.epochs - done))
        pause_point("status", done)
        if on_epoch:
            on_epoch(row)
        if stop:
            write_status(run_dir, stopped_early=done)
            break
    return config, done


def _fit_epoch(model, windows: WindowSet, config: TrainConfig, epoch: int,
               progress, whole: bool) -> dict[str, float]:
    """One epoch over a shuffle seeded by (seed, epoch), with every generator reseeded so;
    returns its training losses and accuracies."""
    seed = epoch_seed(config.seed, epoch)
    reseed(model, seed)
    fit = model.fit(to_dataset(windows, config, config.objective, shuffle=True, seed=seed,
                               whole_batches=whole),
                    initial_epoch=epoch, epochs=epoch + 1, verbose=0, shuffle=False,
                    callbacks=[progress])
    return {k: float(v[-1]) for k, v in fit.history.items()
            if k == "loss" or k.endswith(("_loss", "accuracy"))}


class _Clock:
    """Each epoch's training seconds (its fit), the elapsed time across resumes, time left."""

    def __init__(self, elapsed_before: float) -> None:
        self.before = elapsed_before
        self.session = self.started = time.monotonic()
        self.epochs = 0

    def epoch_begins(self) -> None:
        self.started = time.monotonic()

    def epoch_ended(self) -> dict[str, float]:
        now = time.monotonic()
        self.epochs += 1
        return {"seconds": round(now - self.started, 3),
                "elapsed": round(self.before + now - self.session, 3)}

    def eta(self, epochs_left: int) -> float:
        return round((time.monotonic() - self.session) / self.epochs * epochs_left, 1)


def _elapsed_before(run_dir: Path) -> float:
    """The training seconds of the epochs a resumed run already has."""
    elapsed = read_history_columns(run_dir).get("elapsed")
    return float(elapsed[-1]) if elapsed is not None and len(elapsed) else 0.0


def train(config: TrainConfig, runs_root: Path | str = "runs", cache_dir: Path | str = "cache",
          on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Check, record and train one run in this process; returns its directory."""
    run_dir = enqueue(config, runs_root, cache_dir)
    run_training(run_dir, cache_dir, on_epoch)
    return run_dir
