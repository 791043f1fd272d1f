"""`python -m core bench`: speed and memory figures, measured in one run on this machine.

Nothing here is asserted by a unit test; the figures are printed beside the issue's targets
so a person can read how far off (or ahead) each one is. `run_all` runs the figures `--only`
names; each part of the bench is a module of its own:

training    preparing the default corpus, time to a held-out loss per objective, memory
generation  window re-feeding against stateful stepping
sweep       Ray Tune's overhead per trial
page        the Compare page with hundreds of runs
midi        the lead choice, MIDI reading and a 10,000-file prepare (songs: the files;
            json_cache: version 1's cache beside today's; memory: a process tree's peak)
quality     the demo recipe's music against held-out pieces and the ceiling
figure      one figure, and the printed table
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from core.bench.figure import Figure
from core.bench.generation import bench_generation
from core.bench.midi import run_midi
from core.bench.page import bench_compare_page
from core.bench.sweep import bench_sweep
from core.bench.training import SEEDS, bench_memory, bench_objectives, bench_prepare
from core.nets.config import TrainConfig

ONLY = ("all", "midi", "sweep", "objectives", "generation", "quality")  # `bench --only`


def run_all(quick: bool = False, only: str = "all", midi_folder: Path | None = None,
            labelled_folder: Path | None = None) -> list[Figure]:
    pieces = 12 if quick else 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if only == "midi":
            return run_midi(root, quick, midi_folder, labelled_folder)
        cache = root / "prepare"
        figures = bench_prepare(root, pieces) if only == "all" else []
        if only in ("all", "objectives"):
            base = TrainConfig(units=32 if quick else 64, layers=2, window=32, batch_size=64,
                               epochs=2 if quick else 8,
                               max_pieces=12 if quick else 80).validate()
            figures += bench_objectives(base, root / "runs", cache, 10 if quick else 60,
                                        SEEDS[:1] if quick else SEEDS)
        if only in ("all", "generation"):
            figures += bench_generation(64, 64 if quick else 512, 3, 16 if quick else 64)
        if only in ("all", "sweep"):
            figures += bench_sweep(root / "sweep", cache, 3 if quick else 8)
        if only == "all":
            figures += bench_compare_page(20 if quick else 200)
            figures += bench_memory(cache, root / "runs", pieces)
            figures += run_midi(root / "midi", quick, midi_folder, labelled_folder)
    return figures
