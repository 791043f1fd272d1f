"""`bench --only quality`: does the demo recipe make music that measures like its corpus?

Trains, on the bundled chorales with a fifth of the pieces held out (so each half of them
holds about forty), the demo recipe's lead (Model 1) with an accompaniment that reads it
(the defense demo's) and one trained apart (the thesis's way), its Model 2 lead, then the
same lead network the thesis's way (window objective, none of the recipe's additions:
THESIS_METHOD) for the demo lead's wall time. Each generates continuations of
the held-out seed half per decoding, and core.evidence.quality sets every metric's overlap
with the reference half beside the ceiling (Bach against Bach at the same sample sizes).
Also printed: each run's held-out loss and note (or pitch and duration) accuracy against
its trivial baselines, and its training time.
"""
from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from pathlib import Path

import pandas as pd

from core.nets.config import TrainConfig, recipe

DECODINGS = ("greedy", "temperature:0.65", "temperature:0.9", "temperature:1.0", "top_p:0.9",
             "top_p:0.95")  # the thesis's 0.65, and around the measured best
STEPS = 128
BENCH_HOLDOUT = 0.2


def _train(config: TrainConfig, runs: Path, cache: Path, budget: float | None = None) -> Path:
    """Train one run; with a `budget`, no epoch starts after that many training seconds."""
    from core.runs.status import request_cancel
    from core.runs.training import enqueue, run_training

    run_dir = enqueue(config, runs, cache)

    def out_of_time(row: dict) -> None:
        if budget is not None and row["elapsed"] >= budget:
            request_cancel(run_dir)

    run_training(run_dir, cache, on_epoch=out_of_time)
    return run_dir


def recipe_runs(runs: Path, cache: Path, quick: bool) -> dict[str, dict[str, Path]]:
    """{recipe name: {part: run directory}}: the demo's lead with the accompaniment that
    reads it (the defense's) and with one trained apart (the thesis's way), its Model 2
    lead, and the thesis's way of training the demo's lead for the same wall time."""
    from core.runs.record import Run

    base = TrainConfig(val_fraction=BENCH_HOLDOUT, max_pieces=60 if quick else 0,
                       **({"epochs": 2} if quick else {})).validate()
    demo = {part: _train(dataclasses.replace(base, part=part), runs, cache)
            for part in ("lead", "accompaniment")}
    seconds = float(Run(demo["lead"]).history["elapsed"].iloc[-1])
    thesis = dataclasses.replace(base, **recipe("thesis"), epochs=1000).validate()
    model2 = dataclasses.replace(base, model=2, **recipe("demo", 2))
    following = dataclasses.replace(base, part="accompaniment", conditioned=True)
    return {"demo (its accompaniment reads the lead)": {
                "lead": demo["lead"], "accompaniment": _train(following, runs, cache)},
            "demo, accompaniment trained apart (the thesis's way)": demo,
            "demo, Model 2": {"lead": _train(model2, runs, cache)},
            "thesis's method, same time": {"lead": _train(thesis, runs, cache, seconds)}}


def learning_rows(recipes: dict[str, dict[str, Path]], cache: Path) -> pd.DataFrame:
    """Per run: its best held-out loss, note accuracy (Model 1) or pitch and duration
    accuracy (Model 2) at that epoch, each with its baseline, and its training seconds."""
    from core.evidence.baselines import run_baseline
    from core.runs.record import Run

    rows = []
    for recipe, parts in recipes.items():
        for part, run_dir in parts.items():
            run, base = Run(run_dir), run_baseline(run_dir, cache).metrics()
            history = run.history
            best = history.loc[history["val_loss"].idxmin()]
            row = {"recipe": recipe, "part": part, "epochs": len(history),
                   "seconds": round(float(history["elapsed"].iloc[-1]), 1)}
            for metric in ("loss", "note_accuracy", "pitch_accuracy", "duration_accuracy"):
                if f"val_{metric}" in history:
                    row[metric] = round(float(best[f"val_{metric}"]), 3)
                    row[f"{metric} baseline"] = round(base.get(metric, math.nan), 3)
            rows.append(row)
    return pd.DataFrame(rows)


def quality_tables(recipes: dict[str, dict[str, Path]], cache: Path) -> pd.DataFrame:
    """core.evidence.quality.quality of every recipe, one table (a `recipe` column)."""
    from core.evidence.quality import quality
    from core.sampling.decoding import Decoding

    decodings = [Decoding.parse(d) for d in DECODINGS]
    tables = [quality(parts, decodings, STEPS, cache).assign(recipe=recipe)
              for recipe, parts in recipes.items()]
    return pd.concat(tables, ignore_index=True)


def matrix(table: pd.DataFrame) -> str:
    """Per recipe, metric rows: its ceiling, then per decoding the overlap as a share of the
    ceiling; judged metrics first, noisy ceilings marked. Then each metric's mean per piece,
    real and generated."""
    lines, means = [], []
    for recipe, rows in table.groupby("recipe", sort=False):
        first = rows.drop_duplicates("metric").set_index("metric")
        order = sorted(first.index, key=lambda m: (not first.loc[m, "judged"], m))
        shares = rows.pivot_table(index="metric", columns="decoding",
                                  values="share_of_ceiling", sort=False).reindex(order)
        lines.append(f"\n{recipe}: overlap with held-out Bach as a share of the ceiling "
                     "(Bach against Bach at the same sample sizes), per decoding")
        lines.append(f"{'metric':<34}{'ceiling':>8}" + "".join(f"{d:>18}" for d in shares))
        for metric, row in shares.iterrows():
            mark = ("" if first.loc[metric, "judged"] else " (reported)") + \
                (" noisy" if first.loc[metric, "noisy"] else "")
            lines.append(f"{metric + mark:<34}{first.loc[metric, 'ceiling']:>8.2f}"
                         + "".join(f"{v:>18.2f}" for v in row))
        mean = rows.pivot_table(index="metric", columns="decoding", values="generated_mean",
                                sort=False).reindex(order)
        mean.insert(0, "held-out", first.loc[order, "real_mean"])
        means.append(f"\n{recipe}: mean per piece\n" + mean.round(3).to_string())
    return "\n".join(lines) + "\n" + "\n".join(means)


def run_quality(quick: bool = False) -> str:
    """The whole benchmark, in a temporary folder, as printable text."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        recipes = recipe_runs(root / "runs", root / "cache", quick)
        learnt = learning_rows(recipes, root / "cache")
        table = quality_tables(recipes, root / "cache")
    return (f"quality benchmark ({time.perf_counter() - started:.0f} s; {STEPS} symbols per "
            f"continuation{'; quick sizes' if quick else ''})\n"
            + learnt.to_string(index=False) + "\n" + matrix(table))
