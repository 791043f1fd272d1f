"""Trivial baselines of a run's own data: what a network that learnt nothing about context
would score, so a curve or a table can say whether the run learnt anything at all.

Model 1's steps are mostly holds `_`, so a network that always answers `_` is right most of the
time: a held-out accuracy of 0.73 can be exactly that. Two baselines, measured on the very
targets the run's held-out metrics are measured on (core.runs.training.next_symbol_metrics:
the symbol after each held-out window of the run's window length, in its part, model, chord
mode and vocabulary):

accuracy        always predict the most frequent target symbol: the share of that symbol
loss            always predict the targets' own frequencies: their entropy in nats, the
                lowest cross-entropy any prediction that ignores the window can reach
note accuracy   (Model 1) always predict the most frequent symbol that is not the hold: its
                share of the targets that are not holds
onset accuracy  (Model 1) 0.5: every constant answer (always hold, always new) finds all of
                one kind and none of the other (core.nets.accuracy)

Both are the best a constant prediction can do on these windows (it is told the held-out
frequencies), so beating them is the least a network must do. Model 2 has one of each per
head; its loss baseline is the sum of the heads', as its loss is. A run that held nothing out
is measured on its training windows instead, and says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.data.symbols import HOLD
from core.evidence.curves import HELD_OUT, TRAIN

ONSET_BASELINE = 0.5  # onset accuracy of any constant answer (balanced accuracy)

# Settings that decide which targets a run is measured on: runs that agree on all of them
# share one baseline.
DATA_FIELDS = ("corpus", "max_pieces", "chord_mode", "val_fraction", "split_seed", "part",
               "model", "window", "conditioned")


class BaselineError(ValueError):
    """A run whose baseline cannot be measured; the message says why in plain words."""


@dataclass(frozen=True)
class Baseline:
    """The trivial baselines of one run's data, per target stream ('steps'; 'pitch' and
    'duration')."""

    split: str                      # HELD_OUT, or TRAIN for a run that held nothing out
    windows: int                    # targets measured
    accuracy: Mapping[str, float]   # share of the most frequent target symbol
    loss: Mapping[str, float]       # entropy of the targets' frequencies (nats)
    symbol: Mapping[str, str]       # the most frequent target symbol
    note_accuracy: float = math.nan  # Model 1: share of the most frequent new symbol
    note_symbol: str = ""            # that symbol

    def metrics(self) -> dict[str, float]:
        """The baselines under history.csv's metric names: loss, accuracy, note and onset
        accuracy (Model 1); loss (the heads' sum), pitch_/duration_ loss and accuracy
        (Model 2)."""
        if set(self.loss) == {"steps"}:
            found = {"loss": self.loss["steps"], "accuracy": self.accuracy["steps"]}
            if not math.isnan(self.note_accuracy):
                found.update(note_accuracy=self.note_accuracy, onset_accuracy=ONSET_BASELINE)
            return found
        out = {"loss": float(sum(self.loss.values()))}
        for name in self.loss:
            out[f"{name}_loss"] = self.loss[name]
            out[f"{name}_accuracy"] = self.accuracy[name]
        return out

    def describe(self, metric: str) -> str:
        """A line's label: 'always "_": 0.767' or 'unigram entropy: 1.052 nats'."""
        value = self.metrics()[metric]
        where = "" if self.split == HELD_OUT else " (training windows: nothing held out)"
        if metric == "note_accuracy":
            return f"baseline, always “{self.note_symbol}”: {value:.3f}{where}"
        if metric == "onset_accuracy":
            return f"baseline, any constant answer: {value:.3f}"
        if metric.endswith("accuracy"):
            stream = metric.removesuffix("_accuracy") if metric != "accuracy" else "steps"
            return f"baseline, always “{self.symbol[stream]}”: {value:.3f}{where}"
        return f"baseline, unigram entropy: {value:.3f} nats{where}"


def data_key(settings: Mapping) -> tuple:
    """The DATA_FIELDS of a run's settings: equal keys, equal baselines."""
    return tuple(str(settings.get(f)) for f in DATA_FIELDS)


def target_baseline(targets: np.ndarray) -> tuple[float, float, int]:
    """(accuracy, entropy in nats, id) of always predicting the most frequent of `targets`
    (symbol ids), and of predicting their frequencies."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64))
    shares = counts[counts > 0] / counts.sum()
    return (float(counts.max() / counts.sum()), float(-(shares * np.log(shares)).sum()),
            int(counts.argmax()))


def run_baseline(run_dir: Path | str, cache_dir: Path | str = "cache") -> Baseline:
    """The baselines of one run, on the targets of its held-out windows (its training
    windows when it held nothing out). BaselineError when the corpus it trained on cannot be
    read back as it was."""
    from core.data.corpus import CorpusError
    from core.data.prepare import corpus_for
    from core.files import RunError
    from core.nets.config import ConfigError
    from core.nets.windows import build_windows, held_out_windows, target_names
    from core.runs.record import open_run

    try:
        run = open_run(run_dir)
        corpus = corpus_for(run.config, cache_dir)
    except (RunError, CorpusError, ConfigError, OSError) as exc:
        raise BaselineError(f"no baseline for {Path(run_dir).name}: {exc}") from exc
    recorded = (run.record.get("corpus") or {}).get("key")
    if recorded and recorded != corpus.key:
        raise BaselineError(f"no baseline for {run.run_id}: its corpus has changed since it "
                            "was trained")
    split, windows = HELD_OUT, held_out_windows(corpus, run.config, run.vocabs)
    if len(windows) == 0:
        split, windows = TRAIN, build_windows(corpus, run.config, run.vocabs, "train")
    if len(windows) == 0:
        raise BaselineError(f"no baseline for {run.run_id}: its corpus has no window")
    accuracy, loss, symbol = {}, {}, {}
    for name in target_names(run.config):
        targets = windows.arrays[name][windows.starts + windows.window]
        accuracy[name], loss[name], best = target_baseline(targets)
        symbol[name] = run.vocabs[name].symbols[best]
    notes = {}
    hold = run.vocabs["steps"].index.get(HOLD) if "steps" in run.vocabs else None
    targets = windows.arrays["steps"][windows.starts + windows.window] if hold is not None \
        else np.zeros(0)
    if (targets != hold).any():
        share, _, best = target_baseline(targets[targets != hold])
        notes = dict(note_accuracy=share, note_symbol=run.vocabs["steps"].symbols[best])
    return Baseline(split, len(windows), accuracy, loss, symbol, **notes)


def run_baselines(run_dirs: Iterable[Path | str], settings: pd.DataFrame,
                  cache_dir: Path | str = "cache",
                  measure=run_baseline) -> dict[str, Baseline | str]:
    """{run_id: Baseline, or why there is none} of several runs, measured once per data key
    (`settings`: a runs table with DATA_FIELDS; `measure` may be a cached run_baseline)."""
    by_id = settings.set_index("run_id") if len(settings) else settings
    found: dict[tuple, Baseline | str] = {}
    out: dict[str, Baseline | str] = {}
    for run_dir in map(Path, run_dirs):
        key = data_key(by_id.loc[run_dir.name]) if run_dir.name in by_id.index else \
            (run_dir.name,)
        if key not in found:
            try:
                found[key] = measure(run_dir, cache_dir)
            except BaselineError as exc:
                found[key] = str(exc)
        out[run_dir.name] = found[key]
    return out


def baseline_lines(baselines: Mapping[str, Baseline | str], run_ids: Iterable[str],
                   metric: str) -> list[tuple[str, float]]:
    """(label, value) of each distinct baseline of `metric` among `run_ids`, for a chart's
    labelled horizontal lines."""
    lines: dict[str, float] = {}
    for run_id in run_ids:
        baseline = baselines.get(run_id)
        if isinstance(baseline, Baseline) and metric in baseline.metrics():
            lines.setdefault(baseline.describe(metric), baseline.metrics()[metric])
    return list(lines.items())


def baseline_columns(baselines: Mapping[str, Baseline | str], run_ids: Iterable[str],
                     model: int) -> pd.DataFrame:
    """Tables 2/3's baseline columns, one row per run: 'baseline loss', 'baseline accuracy'
    and 'baseline note acc' (Model 1) or 'baseline pitch acc' / 'baseline duration acc'
    (Model 2); NaN where a run has none (onset accuracy's is always 0.5)."""
    names = {"loss": "baseline loss"}
    names.update({"accuracy": "baseline accuracy", "note_accuracy": "baseline note acc"}
                 if model == 1 else
                 {"pitch_accuracy": "baseline pitch acc",
                  "duration_accuracy": "baseline duration acc"})
    rows = []
    for run_id in run_ids:
        baseline = baselines.get(run_id)
        metrics = baseline.metrics() if isinstance(baseline, Baseline) else {}
        rows.append({title: metrics.get(metric, np.nan) for metric, title in names.items()})
    return pd.DataFrame(rows, columns=list(names.values()))
