"""Measuring one piece: the metrics of a span of its parts (the generated continuation, not
the seed), and of a saved sample.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.data.corpus import LEAD, Corpus
from core.data.notes import concat_notes, read_notes, symbol_notes
from core.data.timeline import PartSymbols, model_of
from core.evidence.metrics import (
    INDEX_METRICS,
    NOTE_METRICS,
    SYMBOL_METRICS,
    piece_metrics,
)
from core.evidence.ngrams import NgramIndex
from core.files import RunFileError
from core.runs.samples import sample_file

SAMPLE_METRICS = ("pitch_range", "scale_consistency", "polyphony", "loop_share", "consonance")


def sample_notes(sample: Mapping[str, Any]) -> pd.DataFrame:
    """The sample's note table (the notes CSV core.rendering.piece wrote)."""
    path = sample_file(sample, "notes")
    if path is None:
        raise RunFileError(f"sample {Path(sample['folder']).name} has no note table")
    return read_notes(path)


def sample_metrics(sample: Mapping[str, Any], generated_only: bool = True,
                   names: Sequence[str] = SAMPLE_METRICS) -> dict[str, float]:
    """A few core.evidence.metrics.piece_metrics of a sample: note metrics over every part, loop
    share on the lead's symbols (the accompaniment's when there is no lead: Model 1 steps,
    Model 2 pitches).

    With `generated_only` each part's seed window is left out: its seed symbols, and its
    notes up to its seed's end (a note held over from the seed counts for the time it
    sounds after it; times are not shifted, so the parts stay aligned). The numbers then
    judge the model, not the piece it was seeded with; all NaN when nothing was generated.
    """
    notes = sample_notes(sample)
    symbols_by_part = sample.get("symbols") or {}
    seed_quarters = sample.get("seed_quarters") or {}
    part = LEAD if LEAD in symbols_by_part else next(iter(symbols_by_part), None)
    symbols = None
    if part is not None:
        streams = symbols_by_part[part]
        saved = PartSymbols(streams, model_of(streams),
                            (sample.get("chord_modes") or {}).get(part, "pitch_class"))
        symbols = saved.between(float(seed_quarters.get(part, 0.0)) if generated_only else 0.0)
    if generated_only:
        notes = generated_notes(notes, seed_quarters)
    metrics = piece_metrics(notes[["part", "start", "end", "pitch"]].reset_index(drop=True),
                            symbols=symbols)
    return {k: metrics.get(k, math.nan) for k in names}


def generated_notes(notes: pd.DataFrame, seed_quarters: Mapping[str, float]) -> pd.DataFrame:
    """The notes each part sounds after its own seed window ends (notes cut at that point)."""
    seed_end = notes["part"].map(lambda p: float(seed_quarters.get(p, 0.0))).astype(float)
    kept = notes[notes["end"] > seed_end + 1e-9].copy()
    kept["start"] = np.maximum(kept["start"].to_numpy(float), seed_end[kept.index].to_numpy())
    return kept.reset_index(drop=True)


def generated_quarters(sample: Mapping[str, Any]) -> dict[str, float]:
    """Per part, how long (quarters) the piece goes on after that part's seed window: 0 when
    the seed fills the whole piece (generate() cuts both parts to the shorter one)."""
    notes = sample_notes(sample)
    end = float(notes["end"].max()) if len(notes) else 0.0
    return {part: max(0.0, end - float(q))
            for part, q in (sample.get("seed_quarters") or {}).items()}


METRICS = NOTE_METRICS + SYMBOL_METRICS + INDEX_METRICS
_EPS = 1e-9


def _span(notes: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Notes starting in [start, end), cut at `end` and moved to begin at 0: a note held
    into the span from before it (the seed's) is not something measured in it."""
    inside = notes[(notes["start"] >= start - _EPS) & (notes["start"] < end - _EPS)].copy()
    inside["end"] = inside["end"].clip(upper=end)
    inside[["start", "end"]] -= start
    return inside.reset_index(drop=True)


def measure(parts: Mapping[str, PartSymbols], start: float, end: float,
            index: NgramIndex | None) -> dict[str, float]:
    """piece_metrics of the span [start, end) quarters of a piece: note metrics over every
    part, symbol metrics on the lead's symbols (the first part's when there is no lead).
    `measured_symbols` and `measured_quarters` say how much was measured."""
    notes = _span(concat_notes(symbol_notes(p, name) for name, p in parts.items()), start, end)
    symbol_part = parts[LEAD] if LEAD in parts else next(iter(parts.values()))
    symbols = symbol_part.between(start, end)
    length = max(0.0, end - start)
    metrics = piece_metrics(notes, symbols,
                            index if symbols else None, length=length)
    return {**metrics, "measured_symbols": len(symbols), "measured_quarters": length}


def training_index(corpus: Corpus, part: str = LEAD, stream: str = "steps") -> NgramIndex | None:
    """The training pieces' n-grams of one part's stream, against which novelty and
    memorisation are counted; None when no training piece has that part."""
    sequences = corpus.sequences(part, stream, "train")
    return NgramIndex(sequences) if sequences else None
