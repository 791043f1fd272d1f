"""Bench figures of preparing and training: the default corpus cold and warm, the time to a
held-out loss of the sequence objective against the thesis's window objective, and a
training process's peak memory."""
from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from core.bench.figure import Figure
from core.data.corpus import DEFAULT_CORPUS
from core.data.prepare import prepare_corpus
from core.nets.config import TrainConfig

# Each update of the sequence objective averages many targets, so it takes a larger step on
# smaller batches; shorter training windows (sequence_window 16; held-out still reads n = 32)
# leave the 0.82 plateau (the pitch after a held note) in fewer epochs. Measured on 80
# chorales, 2x64 LSTM, 3 seeds, CPU seconds to the window objective's best (49.4 s): n 32
# b16 lr .01 8.7; n 16 b16 lr .015 6.4; n 16 b24 lr .015 6.1; n 16 b32 lr .02 7.3; any
# decaying lr (cosine, linear, one-cycle) never; TBPTT and XLA slower (speed spike, issue 10).
SEQUENCE_RECIPE = {"batch_size": 24, "learning_rate": 0.015, "sequence_window": 16}
EARLIER_RECIPE = {"batch_size": 16, "learning_rate": 0.01}  # before issue 10, for comparison
SEEDS = (0, 1, 2)  # time-to-loss ratios rest on a median over seeds: one seed moves them 2x


def bench_prepare(cache_root: Path, max_pieces: int) -> list[Figure]:
    """Cold: an empty cache, every file parsed (in parallel). Warm: the same call again."""
    cache = cache_root / "prepare"
    started = time.perf_counter()
    prepare_corpus(DEFAULT_CORPUS, max_pieces=max_pieces, cache_dir=cache)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    prepare_corpus(DEFAULT_CORPUS, max_pieces=max_pieces, cache_dir=cache)
    warm = time.perf_counter() - started
    return [Figure("prepare default corpus, cold", cold, "s"),
            Figure("prepare default corpus, warm", warm, "s", ">= 20x faster than cold",
                   cold / warm)]


def _train_seconds(config: TrainConfig, runs: Path, cache: Path,
                   target: float | None = None) -> tuple[list[float], list[float]]:
    """Per-epoch training seconds (the fit alone: held-out metrics excluded) and held-out
    losses; with a `target`, training stops at the first epoch that reaches it."""
    from core.runs.record import Run
    from core.runs.status import request_cancel
    from core.runs.training import enqueue, run_training

    run_dir = enqueue(config, runs, cache)

    def stop_at_target(row: dict) -> None:  # the next epoch does not start
        if target is not None and row["val_loss"] <= target:
            request_cancel(run_dir)

    run_training(run_dir, cache, on_epoch=stop_at_target)
    history = Run(run_dir).history
    return list(history["seconds"]), list(history["val_loss"])


def _time_to(seconds: list[float], losses: list[float], target: float) -> float:
    """Training seconds until the first epoch whose held-out loss is <= target (inf: never)."""
    reached = next((i for i, loss in enumerate(losses) if loss <= target), None)
    return math.inf if reached is None else float(sum(seconds[:reached + 1]))


def bench_objectives(base: TrainConfig, runs: Path, cache: Path,
                     sequence_epochs: int, seeds: tuple[int, ...] = SEEDS) -> list[Figure]:
    """Time to a held-out loss, same network and data, same training code: the thesis's
    window objective for base.epochs with each seed; the target is the median of their best
    losses; then the sequence objective with its recipe (and the earlier one) and each seed
    until it reaches the target. Ratios are of the medians over seeds."""
    window = {s: _train_seconds(dataclasses.replace(base, seed=s), runs, cache) for s in seeds}
    target = float(np.median([min(losses) for _, losses in window.values()]))
    w_time = float(np.median([_time_to(*window[s], target) for s in seeds]))
    figures = [Figure(f"window objective: median time to {target:.4f} held-out loss (the "
                      f"median best of {len(seeds)} seeds' {base.epochs} epochs)", w_time, "s",
                      "per seed: " + ", ".join(f"{_time_to(*window[s], target):.1f}"
                                               for s in seeds))]
    for name, recipe in (("recipe", SEQUENCE_RECIPE), ("earlier recipe", EARLIER_RECIPE)):
        seq = dataclasses.replace(base, objective="sequence", epochs=sequence_epochs, **recipe)
        times = [_time_to(*_train_seconds(dataclasses.replace(seq, seed=s), runs, cache,
                                          target), target) for s in seeds]
        median = float(np.median(times))
        described = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in recipe.items())
        figures.append(Figure(f"sequence objective ({name}: {described}): median time to "
                              "that loss", median, "s",
                              (">= 10x shorter; " if recipe is SEQUENCE_RECIPE else "")
                              + "per seed: " + ", ".join(f"{t:.1f}" for t in times),
                              w_time / median if math.isfinite(median) else None))
    return figures


def bench_memory(cache: Path, runs: Path, max_pieces: int) -> list[Figure]:
    """Peak resident memory of a training process on the corpus (one epoch; memory is set
    by the data pipeline and model, not by the number of epochs)."""
    command = [sys.executable, "-m", "core", "train", "--epochs", "1", "--units", "128",
               "--layers", "2", "--max-pieces", str(max_pieces), "--runs", str(runs),
               "--cache", str(cache)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return [Figure("peak memory, training on the corpus (window objective)",
                   usage.ru_maxrss / 1024, "MB", "< 2048 MB")]
