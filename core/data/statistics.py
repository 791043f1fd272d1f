"""Corpus statistics: what the Corpus page shows before anyone trains.

How much data there is (pieces, steps, events), how large each vocabulary is (the size of the
softmax), which symbols dominate (Model 1 is mostly holds '_'), which durations Model 2 must
predict, and how long the pieces are (core.nets.windows.check_windows refuses a window no
training piece is long enough for).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, fields

import pandas as pd

from core.data.corpus import PARTS, Corpus, FileReport
from core.data.symbols import EncodingError, parse_duration


def corpus_counts(corpus: Corpus) -> pd.DataFrame:
    """One row per part: pieces that have it (train / held out), Model 1 steps, Model 2
    events, and the vocabulary size of each stream.

    Vocabularies are counted over every piece, training and held-out, as
    `core.nets.windows.corpus_vocabularies` builds them, so the sizes match what a run records.
    """
    rows = []
    for part in PARTS:
        pieces = [p for p in corpus.pieces if p.part(part) is not None]
        if not pieces:
            continue
        data = [p.part(part) for p in pieces]
        rows.append({
            "part": part,
            "pieces": len(pieces),
            "train pieces": sum(p.split == "train" for p in pieces),
            "held-out pieces": sum(p.split == "validation" for p in pieces),
            "steps (model 1)": sum(len(d.steps) for d in data),
            "events (model 2)": sum(len(d.pitch) for d in data),
            "steps vocabulary": len({s for d in data for s in d.steps}),
            "pitch vocabulary": len({s for d in data for s in d.pitch}),
            "duration vocabulary": len({s for d in data for s in d.duration}),
        })
    return pd.DataFrame(rows)


def symbol_frequencies(corpus: Corpus, part: str = "lead", stream_name: str = "steps",
                       top: int = 20, include_hold: bool = True) -> pd.DataFrame:
    """The `top` most frequent symbols of one part and stream: symbol, count, share.

    `include_hold=False` leaves out Model 1's hold '_' (usually most of the steps), whose
    bar would flatten every other one; shares are then of the remaining symbols.
    """
    counts: Counter[str] = Counter()
    for sequence in corpus.sequences(part, stream_name):
        counts.update(sequence)
    if not include_hold:
        counts.pop("_", None)
    total = sum(counts.values())
    rows = [(symbol, count, count / total) for symbol, count in counts.most_common(top)]
    return pd.DataFrame(rows, columns=["symbol", "count", "share"])


def duration_histogram(corpus: Corpus, part: str = "lead") -> pd.DataFrame:
    """Model 2's duration symbols of one part with their counts, shortest first.

    Sorted by length in quarter notes (not as text, where '10.0' would come before '2.0'),
    so a bar chart of it reads as a histogram.
    """
    counts: Counter[str] = Counter()
    for sequence in corpus.sequences(part, "duration"):
        counts.update(sequence)
    rows = []
    for symbol, count in counts.items():
        try:
            quarters = float(parse_duration(symbol))
        except EncodingError:
            quarters = float("nan")
        rows.append((symbol, quarters, count))
    frame = pd.DataFrame(rows, columns=["duration", "quarter_length", "count"])
    return frame.sort_values("quarter_length", kind="stable", ignore_index=True)


def piece_table(corpus: Corpus) -> pd.DataFrame:
    """One row per piece: name, split, lead steps, lead events and whether it has an
    accompaniment (with its steps), so the longest piece bounds the usable window."""
    rows = []
    for p in corpus.pieces:
        acc = p.accompaniment
        rows.append({"piece": p.name, "split": p.split, "lead steps": len(p.lead.steps),
                     "lead events": len(p.lead.pitch),
                     "accompaniment steps": len(acc.steps) if acc is not None else 0})
    return pd.DataFrame(rows, columns=["piece", "split", "lead steps", "lead events",
                                       "accompaniment steps"])


def report_table(corpus: Corpus) -> pd.DataFrame:
    """The per-file report (file, status, reason, which tracks became lead and
    accompaniment, the share of onsets moved to the 16th grid, over-long notes cut, the
    lead's confidence and why it is uncertain), skipped files first, then the uncertain
    ones, so they are seen."""
    frame = pd.DataFrame([asdict(r) for r in corpus.report],
                         columns=[f.name for f in fields(FileReport)])
    uncertain = [r.uncertain for r in corpus.report]
    order = frame["status"].map({"skipped": 0}).fillna(2) - pd.Series(uncertain, dtype=float)
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)

