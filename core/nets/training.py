"""Training one run: corpus -> windows -> model -> a run directory filled epoch by epoch.

`enqueue` checks a configuration against its corpus and records it (state "queued");
`run_training` trains a recorded run; `train` does both in this process. The dashboard
enqueues and leaves the work to the background worker (core.runs.worker), the CLI calls
`train`. `corpus_for` (core.data.prepare) turns a configuration into its corpus.
"""
from __future__ import annotations

import logging
import math
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.data.prepare import corpus_for
from core.nets.config import TrainConfig
from core.nets.models import build_model, compiled_forward
from core.nets.windows import (
    WindowSet,
    build_windows,
    check_windows,
    corpus_vocabularies,
    target_names,
    to_dataset,
    windows_per_epoch,
)
from core.runs.faults import pause_point
from core.runs.files import RunError, WriteError, atomic_path, copy_file, now_iso
from core.runs.history import append_history, read_history_columns
from core.runs.record import (
    BEST,
    MODEL,
    cancel_requested,
    change_state,
    create_run,
    library_versions,
    open_run,
    read_status,
    write_status,
)
from core.runs.worker import WORKER_VARIABLE

log = logging.getLogger(__name__)


def enqueue(config: TrainConfig, runs_root: Path | str = "runs",
            cache_dir: Path | str = "cache") -> Path:
    """Validate against the corpus, then create the run directory in state "queued".
    An impossible setting raises ConfigError before anything is written."""
    config.validate()
    corpus = corpus_for(config, cache_dir)
    check_windows(corpus, config)
    vocabs = corpus_vocabularies(corpus, config)
    record = {"corpus": {"id": corpus.corpus_id, "key": corpus.key, "settings": corpus.settings,
                         "pieces": len(corpus.pieces),
                         "held_out": [p.name for p in corpus.split("validation")]},
              "vocab_sizes": {k: len(v) for k, v in vocabs.items()},
              "versions": library_versions()}
    return create_run(Path(runs_root), config, record, vocabs)


def next_symbol_metrics(model, windows: WindowSet, config: TrainConfig,
                        batch_size: int = 256) -> dict[str, float]:
    """Held-out loss and accuracy of predicting symbol n+1 from each window, the same
    measure whichever objective trained the model, so curves are comparable."""
    if len(windows) == 0:
        return {}
    sums: dict[str, list[float]] = {}
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
    count = len(windows)
    if config.model == 1:
        return {"val_loss": sums["steps"][0] / count, "val_accuracy": sums["steps"][1] / count}
    metrics = {"val_loss": sum(v[0] for v in sums.values()) / count}
    for name, (loss, correct) in sums.items():
        metrics[f"val_{name}_loss"] = loss / count
        metrics[f"val_{name}_accuracy"] = correct / count
    return metrics


def _recorder(run_dir: Path, config: TrainConfig, val: WindowSet, steps_per_epoch: int,
              on_epoch: Callable[[dict], None] | None):
    import keras

    class Recorder(keras.callbacks.Callback):
        """Writes history.csv, status.json and checkpoints as each epoch ends, and stops
        when the dashboard asks to cancel."""

        def on_train_begin(self, logs=None):
            self.best = math.inf
            self.started = time.monotonic()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.epoch_started = epoch, time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                pause_point("batch", self.epoch + 1)  # fault-injection tests stop here
            if batch % 20 == 0 or batch + 1 == steps_per_epoch:
                write_status(run_dir, batch=batch + 1, batches=steps_per_epoch,
                             current_loss=float((logs or {}).get("loss", math.nan)))
            if cancel_requested(run_dir):  # a stat() per batch: cancel stops within one
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if cancel_requested(run_dir):
                return  # a cut-short epoch is not an epoch: the history keeps whole ones
            seconds = time.monotonic() - self.epoch_started
            row: dict[str, Any] = {"epoch": epoch + 1}
            row.update({k: float(v) for k, v in (logs or {}).items()
                        if k == "loss" or k.endswith(("_loss", "accuracy"))})
            row.update(next_symbol_metrics(self.model, val, config))
            row.update(seconds=round(seconds, 3),
                       elapsed=round(time.monotonic() - self.started, 3))
            append_history(run_dir, row)
            with atomic_path(run_dir / MODEL, f"{MODEL} of run {run_dir.name}") as temp:
                self.model.save(temp)  # a kill mid-save leaves the previous model.keras
            score = row.get("val_loss", row["loss"])
            if score < self.best:
                self.best = score
                copy_file(run_dir / MODEL, run_dir / BEST, f"{BEST} of run {run_dir.name}")
            done = epoch + 1
            write_status(run_dir, epoch=done, epochs=config.epochs,
                         eta_seconds=round(row["elapsed"] / done * (config.epochs - done), 1))
            if on_epoch:
                on_epoch(row)

    return Recorder()


def _start(run_dir: Path) -> dict[str, Any] | None:
    """Claim a queued run for this process (compare-and-set to "running"); None when it was
    cancelled before it started (it stays cancelled: nothing overwrites a cancel)."""
    fields = {"started": now_iso(), "started_at": time.time(), "error": "", "epoch": 0}
    if os.environ.get(WORKER_VARIABLE):
        fields["worker_pid"] = int(os.environ[WORKER_VARIABLE])
    status = change_state(run_dir, "running", ("queued",), **fields)
    if status is not None:
        return status
    state = read_status(run_dir).get("state")
    if state == "cancelled":
        return None
    raise RunError(f"run {run_dir.name} is {state}, not queued")


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
                 on_epoch: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Train a recorded run to the end, or until cancelled; any error marks it "failed"
    with the message and is raised again. Returns the final status (a run cancelled
    before it started is left as it is)."""
    import keras

    run_dir = Path(run_dir)
    if _start(run_dir) is None:
        return read_status(run_dir)
    try:
        run = open_run(run_dir)
        config = run.config
        keras.utils.set_random_seed(config.seed)
        corpus = corpus_for(config, cache_dir)
        check_windows(corpus, config)
        train_ws = build_windows(corpus, config, run.vocabs, "train")
        val_ws = build_windows(corpus, config, run.vocabs, "validation")
        model = build_model(config, {k: len(v) for k, v in run.vocabs.items()})
        per_epoch = windows_per_epoch(train_ws, config.objective)
        run.add_to_record(parameters=int(model.count_params()), train_windows=per_epoch,
                          held_out_windows=len(val_ws), targets=target_names(config))
        steps = math.ceil(per_epoch / config.batch_size)
        model.fit(to_dataset(train_ws, config, config.objective, shuffle=True, seed=config.seed),
                  epochs=config.epochs, verbose=0, shuffle=False,  # tf.data reshuffles
                  callbacks=[_recorder(run_dir, config, val_ws, steps, on_epoch)])
    except BaseException as exc:  # a KeyboardInterrupt too: the run must not stay "running"
        _fail(run_dir, exc)
        raise
    done = len(read_history_columns(run_dir)["epoch"])
    state = "cancelled" if done < config.epochs and cancel_requested(run_dir) else "finished"
    return (change_state(run_dir, state, ("running",), finished=now_iso(), ended_at=time.time())
            or read_status(run_dir))


def train(config: TrainConfig, runs_root: Path | str = "runs", cache_dir: Path | str = "cache",
          on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Check, record and train one run in this process; returns its directory."""
    run_dir = enqueue(config, runs_root, cache_dir)
    run_training(run_dir, cache_dir, on_epoch)
    return run_dir
