"""`python -m core bench`: speed and memory figures, measured in one run on this machine.

Nothing here is asserted by a unit test; the figures are printed beside the issue's targets
so a person can read how far off (or ahead) each one is.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.corpus import DEFAULT_CORPUS
from core.data.prepare import prepare_corpus
from core.nets.config import TrainConfig

# Each update of the sequence objective averages n times more targets, so it takes a larger
# step on smaller batches: measured on 80 chorales, 2x64 LSTM, n = 32 (lr, batch -> seconds
# to the window objective's best held-out loss): 0.002/64 never, 0.005/64 11.9, 0.005/32 10.9,
# 0.005/16 12.2, 0.003/8 21.4, 0.01/16 8.3.
SEQUENCE_RECIPE = {"batch_size": 16, "learning_rate": 0.01}


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    ratio: float | None = None


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


def _train_seconds(config: TrainConfig, runs: Path, cache: Path) -> tuple[list[float], list[float], int]:
    """Per-epoch training seconds (validation excluded), held-out losses, targets per epoch."""
    from core.nets.training import train
    from core.runs.record import Run

    run = Run(train(config, runs, cache))
    history, windows = run.history, run.record["train_windows"]
    targets = windows * (1 if config.objective == "window" else config.window)
    return list(history["seconds"]), list(history["val_loss"]), targets


def bench_objectives(base: TrainConfig, runs: Path, cache: Path,
                     sequence_epochs: int) -> list[Figure]:
    """Same network and data: the thesis's window objective for base.epochs, then the
    sequence objective (with its own batch size and learning rate, SEQUENCE_RECIPE) until
    it reaches the window objective's best held-out loss."""
    w_secs, w_loss, w_targets = _train_seconds(base, runs, cache)
    best = min(w_loss)
    time_to_best = sum(w_secs[:w_loss.index(best) + 1])
    seq = dataclasses.replace(base, objective="sequence", epochs=sequence_epochs,
                              **SEQUENCE_RECIPE)
    s_secs, s_loss, s_targets = _train_seconds(seq, runs, cache)
    reached = next((i for i, loss in enumerate(s_loss) if loss <= best), None)
    figures = [
        Figure("training, window objective", w_targets / np.mean(w_secs), "symbols/s"),
        Figure("training, sequence objective (batch 16, lr 0.01)", s_targets / np.mean(s_secs),
               "symbols/s", "",
               (s_targets / np.mean(s_secs)) / (w_targets / np.mean(w_secs))),
        Figure("window objective: time to its best held-out loss", time_to_best, "s",
               f"best {best:.3f}"),
    ]
    if reached is None:
        figures.append(Figure("sequence objective: time to that loss", float("nan"), "s",
                              f"not reached in {sequence_epochs} epochs "
                              f"(best {min(s_loss):.3f})"))
    else:
        seq_time = sum(s_secs[:reached + 1])
        figures.append(Figure("sequence objective: time to that loss", seq_time, "s",
                              ">= 10x shorter", time_to_best / seq_time))
    return figures


def bench_generation(window: int, units: int, layers: int, steps: int) -> list[Figure]:
    """Window re-feeding vs stateful stepping on the same (untrained) network: speed does
    not depend on the weights' values."""
    from core.nets.models import build_model
    from core.sampling.decoding import Decoding
    from core.sampling.stateful import generate_stateful
    from core.sampling.window import generate_ids

    config = TrainConfig(model=1, units=units, layers=layers, dropout_layers=0, window=window,
                         objective="sequence").validate()
    model = build_model(config, {"steps": 120})
    decoding = Decoding("temperature", temperature=1.0)
    figures = []
    for batch, stateful_steps in ((1, steps), (1, 4 * steps), (8, steps)):
        seed = {"steps": np.random.default_rng(0).integers(0, 120, size=(batch, window))}
        rates = {}
        for name, run, count in (("window", generate_ids, max(4, steps // 8)),
                                 ("stateful", generate_stateful, stateful_steps)):
            run(model, config, seed, 2, decoding, np.random.default_rng(0))  # compile first
            started = time.perf_counter()
            run(model, config, seed, count, decoding, np.random.default_rng(0))
            rates[name] = batch * count / (time.perf_counter() - started)
        shape = f"n={window} {layers}x{units} LSTM batch {batch}"
        figures += [Figure(f"generation {shape}, window", rates["window"], "symbols/s"),
                    Figure(f"generation {shape}, stateful, {stateful_steps} symbols "
                           "(seed priming included)", rates["stateful"], "symbols/s",
                           ">= 50x window" if batch == 1 else "",
                           rates["stateful"] / rates["window"])]
    return figures


def bench_compare_page(runs: int) -> list[Figure]:
    """The Compare page with `runs` run directories, rendered by Streamlit's AppTest in a
    separate process (core itself never imports Streamlit)."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "time_compare_page.py"
    out = subprocess.run([sys.executable, str(script), str(runs)], capture_output=True,
                         text=True, check=False)
    try:
        cold, first, again = (float(v) for v in out.stdout.split()[-3:])
    except ValueError:
        return [Figure("Compare page render", float("nan"), "s", out.stderr[-300:])]
    return [Figure(f"Compare page, {runs} runs, fresh process (imports included)", cold, "s"),
            Figure(f"Compare page, {runs} runs, first render", first, "s", "< 1.5 s"),
            Figure(f"Compare page, {runs} runs, next render", again, "s", "< 1.5 s")]


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


def run_all(quick: bool = False) -> list[Figure]:
    pieces = 12 if quick else 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        figures = bench_prepare(root, pieces)
        cache = root / "prepare"
        base = TrainConfig(units=32 if quick else 64, layers=2, window=32, batch_size=64,
                           epochs=2 if quick else 8, max_pieces=12 if quick else 80).validate()
        figures += bench_objectives(base, root / "runs", cache, 10 if quick else 80)
        figures += bench_generation(64, 64 if quick else 512, 3, 16 if quick else 64)
        figures += bench_compare_page(20 if quick else 200)
        figures += bench_memory(cache, root / "runs", pieces)
    return figures


def format_table(figures: list[Figure]) -> str:
    lines = [f"{'figure':<80} {'value':>12} {'unit':<10} {'ratio':>8}  target"]
    for f in figures:
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else ""
        lines.append(f"{f.name:<80} {f.value:>12.3f} {f.unit:<10} {ratio:>8}  {f.target}")
    return "\n".join(lines)
