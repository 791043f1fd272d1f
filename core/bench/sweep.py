"""Bench figures of sweeps: what Ray Tune costs per trial."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from core.bench.figure import Figure
from core.data.corpus import DEFAULT_CORPUS
from core.data.prepare import prepare_corpus

# A trial small enough that Ray Tune's own cost per trial shows: 6 chorales, 1x8 LSTM, 2
# epochs of windows of 8 (about 2 s of training).
TINY_TRIAL = {"units": 8, "layers": 1, "dropout_layers": 1, "window": 8, "epochs": 2,
              "max_pieces": 6}


def _run_spans(runs: Path) -> float:
    """Seconds from the first run's start to the last run's end in a runs folder."""
    from core.runs.listing import run_dirs
    from core.runs.status import read_status

    statuses = [read_status(d) for d in run_dirs(runs)]
    return max(s["ended_at"] for s in statuses) - min(s["started_at"] for s in statuses)


def bench_sweep(root: Path, cache: Path, trials: int = 8) -> list[Figure]:
    """`trials` tiny trials (seeds of one setting) through Ray Tune (`python -m core sweep`,
    Ray started in the command, one trial at a time) and the same trained back to back
    without it (`python -m core seeds`), each command a fresh process: the difference per
    trial is what Ray Tune costs."""
    prepare_corpus(DEFAULT_CORPUS, max_pieces=TINY_TRIAL["max_pieces"], cache_dir=cache)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY_TRIAL.items()]
    env = {**os.environ, "RAY_TMPDIR": str(root / "ray")}  # short: Ray's socket paths
    walls = {}
    for name, command in (("plain", ["seeds", f"--k={trials}"]),
                          ("sweep", ["sweep", f"--seeds={trials}", "--sweeps",
                                     str(root / "sweeps")])):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", *command, *flags, "--runs",
                        str(root / name), "--cache", str(cache)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls[name] = time.perf_counter() - started
    between = (_run_spans(root / "sweep") - _run_spans(root / "plain")) / trials
    return [Figure(f"{trials} tiny trials back to back, no Ray (python -m core seeds)",
                   walls["plain"], "s"),
            Figure(f"{trials} tiny trials through Ray Tune (python -m core sweep)",
                   walls["sweep"], "s"),
            Figure("Ray Tune's overhead per trial, Ray's start and stop included",
                   (walls["sweep"] - walls["plain"]) / trials, "s", "< 2 s"),
            Figure("Ray Tune's overhead per trial, from the first trial's start to the last's "
                   "end", between, "s", "< 2 s")]
