"""Objective measures of a piece, and of a set of pieces against a reference set.

The thesis judged its output only by ear and by training accuracy. These numbers make the
claims it leaves open checkable: does the output stay in key (scale consistency), is it as
polyphonic as the corpus (polyphony), does greedy decoding fall into a loop (loop share,
longest repeated suffix; Figure 45), is a 0.989 training accuracy just copying (novelty,
memorisation)? Piece metrics follow MusPy (Dong et al., 2020) where MusPy has them; the
corpus comparison follows Yang & Lerch (2018): overlap of each metric's distribution.

A piece is read as a *note table*: a DataFrame with one row per sounding pitch and columns
part ('lead' / 'accompaniment'), start and end (quarter lengths) and pitch (MIDI number).
Time-based metrics look at it on the thesis's grid: 16th notes, 4/4 bars of 16 steps.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from core.data.corpus import ACCOMPANIMENT, LEAD
from core.data.notes import grid_steps, n_steps, pianoroll, validate_notes
from core.data.symbols import STEP
from core.data.timeline import to_quarters
from core.evidence.ngrams import NOVELTY_ORDERS, NgramIndex

STEPS_PER_BEAT = round(1 / STEP)  # 16ths in a beat (a quarter note)
STEPS_PER_BAR = 4 * STEPS_PER_BEAT  # 4/4 at 16th resolution, as MusPy's measure_resolution
LOOP_MIN_LENGTH = 8
CONSONANT_INTERVALS = frozenset({0, 3, 4, 5, 7, 8, 9})
DISSONANT_INTERVALS = tuple(sorted(set(range(12)) - CONSONANT_INTERVALS))  # 1 2 6 10 11
_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_NATURAL_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)


def pitch_range(notes: pd.DataFrame) -> float:
    """Highest minus lowest MIDI pitch (MusPy); NaN for no notes, where MusPy says 0,
    because a silent piece does not have a narrow range."""
    validate_notes(notes)
    if not len(notes):
        return math.nan
    return float(notes["pitch"].max() - notes["pitch"].min())


def _pitch_class_counts(notes: pd.DataFrame) -> np.ndarray:
    """Notes per pitch class; each note counts once whatever its length (as MusPy)."""
    validate_notes(notes)
    return np.bincount(notes["pitch"].to_numpy(np.int64) % 12, minlength=12)


def n_pitch_classes_used(notes: pd.DataFrame) -> float:
    """How many of the 12 pitch classes occur at all (MusPy); 0 for no notes."""
    return float(np.count_nonzero(_pitch_class_counts(notes)))


def pitch_class_entropy(notes: pd.DataFrame) -> float:
    """Shannon entropy (bits) of the pitch-class histogram (MusPy); log2(12) is chromatic."""
    counts = _pitch_class_counts(notes)
    if counts.sum() == 0:
        return math.nan
    prob = counts[counts > 0] / counts.sum()
    return float(-(prob * np.log2(prob)).sum())


def scale_consistency(notes: pd.DataFrame) -> float:
    """Largest share of notes inside one scale, over the 12 major and 12 natural-minor scales
    (MusPy). Tonal music is near 1; a key-less model drifts lower."""
    counts = _pitch_class_counts(notes)
    total = counts.sum()
    if total == 0:
        return math.nan
    best = max(counts[np.roll(mask, root)].sum()
               for mask in (_MAJOR, _NATURAL_MINOR) for root in range(12))
    return float(best / total)


def polyphony(notes: pd.DataFrame) -> float:
    """Mean number of distinct pitches sounding, over the 16th steps where any sounds (MusPy)."""
    per_step = pianoroll(notes).sum(axis=1)
    sounding = np.count_nonzero(per_step)
    return float(per_step.sum() / sounding) if sounding else math.nan


def polyphony_rate(notes: pd.DataFrame, threshold: int = 2) -> float:
    """Share of sounding 16th steps with at least `threshold` pitches at once.

    Unlike MusPy (which counts steps with *more* than `threshold` pitches over *all* steps),
    steps of silence are left out and 'at least 2' means 'more than one', so rests are
    measured by the empty-beat rate alone and a monophonic line scores exactly 0.
    """
    per_step = pianoroll(notes).sum(axis=1)
    sounding = np.count_nonzero(per_step)
    return float(np.count_nonzero(per_step >= threshold) / sounding) if sounding else math.nan


def empty_beat_rate(notes: pd.DataFrame, length: float | None = None) -> float:
    """Share of beats (quarter notes) in which no pitch sounds at all (MusPy's 'no note is
    played'). `length` (quarters) or the table's attrs['length'] counts trailing rests;
    without either the piece ends with its last note. NaN for a piece of no length."""
    roll = pianoroll(notes, length)
    n_beats = math.ceil(len(roll) / STEPS_PER_BEAT)
    if n_beats == 0:
        return math.nan
    sounding = np.zeros(n_beats * STEPS_PER_BEAT, bool)
    sounding[:len(roll)] = roll.any(axis=1)
    empty = ~sounding.reshape(n_beats, STEPS_PER_BEAT).any(axis=1)
    return float(empty.mean())


def groove_consistency(notes: pd.DataFrame, length: float | None = None,
                       measure_resolution: int = STEPS_PER_BAR) -> float:
    """1 - mean Hamming distance between the onset patterns of neighbouring bars, per step
    (MusPy). Onsets of all parts are merged. Bars are counted with ceil(length / bar), so a
    piece of exactly k bars has k (MusPy's floor + 1 adds an empty bar). NaN under two bars."""
    if measure_resolution < 1:
        raise ValueError("measure_resolution must be a positive number of steps")
    validate_notes(notes)
    n_bars = math.ceil(n_steps(notes, length) / measure_resolution)
    if n_bars < 2:
        return math.nan
    patterns = np.zeros(n_bars * measure_resolution, bool)
    if len(notes):
        patterns[grid_steps(notes)[0]] = True
    patterns = patterns.reshape(n_bars, measure_resolution)
    distance = np.count_nonzero(patterns[:-1] != patterns[1:])
    return float(1 - distance / (measure_resolution * (n_bars - 1)))


def consonance(notes: pd.DataFrame) -> float:
    """Share of lead onsets consonant with the accompaniment sounding at that onset.

    A lead note (each pitch of a lead chord on its own) is consonant when its interval in
    pitch classes to EVERY accompaniment pitch sounding at its onset step is in
    {0, 3, 4, 5, 7, 8, 9}: unison/octave, minor and major thirds and sixths, fourth, fifth.
    Seconds, sevenths and the tritone are dissonant. The fourth counts as consonant because
    the lead sits above the accompaniment. Lead onsets over silent accompaniment are left
    out; NaN if none remain (or a part is missing).
    """
    validate_notes(notes)
    lead = notes[notes["part"] == LEAD]
    accompaniment = notes[notes["part"] == ACCOMPANIMENT]
    if not len(lead) or not len(accompaniment):
        return math.nan
    onsets = grid_steps(lead)[0]
    roll = pianoroll(accompaniment, length=to_quarters(n_steps(notes)))
    chroma = np.zeros((len(roll), 12), bool)
    for pc in range(12):
        chroma[:, pc] = roll[:, pc::12].any(axis=1)
    at_onset = chroma[onsets]
    heard = at_onset.any(axis=1)
    if not heard.any():
        return math.nan
    lead_pc = lead["pitch"].to_numpy(np.int64) % 12
    clash_pcs = (lead_pc[:, None] + np.array(DISSONANT_INTERVALS)[None, :]) % 12
    clashes = np.take_along_axis(at_onset, clash_pcs, axis=1).any(axis=1)
    return float((~clashes[heard]).mean())


def _ids(symbols: Sequence[str]) -> np.ndarray:
    """Symbols as small integers (order of first appearance), for array comparisons."""
    if isinstance(symbols, str):
        raise ValueError("expected a sequence of symbols, not one string")
    index: dict[str, int] = {}
    return np.array([index.setdefault(s, len(index)) for s in symbols], dtype=np.int64)


def longest_repeated_suffix(symbols: Sequence[str]) -> int:
    """Length of the longest suffix that also occurs ending earlier (overlap allowed).

    A model stuck in a loop keeps lengthening this: its last bars repeat earlier ones.
    Z-algorithm on the reversed sequence, O(n).
    """
    rev = _ids(symbols)[::-1].tolist()
    n = len(rev)
    z = [0] * n
    left = right = best = 0
    for i in range(1, n):
        k = min(right - i, z[i - left]) if i < right else 0
        while i + k < n and rev[k] == rev[i + k]:
            k += 1
        z[i] = k
        if i + k > right:
            left, right = i, i + k
        best = max(best, k)
    return best


def loop_share(symbols: Sequence[str], min_length: int = LOOP_MIN_LENGTH) -> float:
    """Share of positions inside some exact repetition of at least `min_length` symbols.

    Position i counts when a segment of length >= min_length covering it occurs at least
    twice (overlap allowed). That is the same as: some min_length-gram covering i occurs
    twice, which is what is computed (exactly, with numpy). A bar played 8 times gives 1;
    random symbols ~0. NaN for an empty sequence. With '_' holds, a note held longer than
    min_length + 1 steps repeats its own holds, so pick min_length above the longest
    normal note.
    """
    if min_length < 1:
        raise ValueError("min_length must be at least 1")
    ids = _ids(symbols)
    n = len(ids)
    if n == 0:
        return math.nan
    if n <= min_length:
        return 0.0
    windows = np.lib.stride_tricks.sliding_window_view(ids, min_length)
    _, inverse, counts = np.unique(windows, axis=0, return_inverse=True, return_counts=True)
    starts = np.flatnonzero(counts[inverse.reshape(-1)] >= 2)
    cover = np.zeros(n + 1, np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + min_length, -1)
    return float(np.count_nonzero(np.cumsum(cover[:-1])) / n)


NOTE_METRICS = ("pitch_range", "n_pitch_classes_used", "pitch_class_entropy",
                "scale_consistency", "polyphony", "polyphony_rate", "empty_beat_rate",
                "groove_consistency", "consonance")
SYMBOL_METRICS = ("loop_share", "longest_repeated_suffix")
INDEX_METRICS = tuple(f"novelty_{n}" for n in NOVELTY_ORDERS) + ("memorisation",)
# Every metric in words (with its unit where it has one), for tables and charts a reader
# sees, and the families a compact table groups them by.
METRIC_TITLES = {"pitch_range": "pitch range (semitones)",
                 "n_pitch_classes_used": "pitch classes used (of 12)",
                 "pitch_class_entropy": "pitch-class entropy (bits)",
                 "scale_consistency": "scale consistency",
                 "consonance": "consonance (lead vs accomp.)",
                 "polyphony": "polyphony (pitches at once)",
                 "polyphony_rate": "share of steps with a chord",
                 "empty_beat_rate": "share of silent beats",
                 "groove_consistency": "groove consistency",
                 "loop_share": "loop share",
                 "longest_repeated_suffix": "longest repeat (symbols)",
                 **{f"novelty_{n}": f"new {n}-grams (share)" for n in NOVELTY_ORDERS},
                 "memorisation": "longest copy of a training piece (symbols)"}
METRIC_GROUPS = {"pitch and harmony": ("pitch_range", "n_pitch_classes_used",
                                       "pitch_class_entropy", "scale_consistency", "consonance"),
                 "rhythm and texture": ("polyphony", "polyphony_rate", "empty_beat_rate",
                                        "groove_consistency"),
                 "repetition": SYMBOL_METRICS,
                 "novelty against the training pieces": INDEX_METRICS}


def piece_metrics(notes: pd.DataFrame, symbols: Sequence[str] | None = None,
                  ngram_index: NgramIndex | None = None,
                  length: float | None = None) -> dict[str, float]:
    """Every metric of one piece in one flat dict, keys in the fixed order of NOTE_METRICS,
    then SYMBOL_METRICS (with `symbols`), then INDEX_METRICS (with `symbols` and the index).

    Note-table metrics use all parts together; `symbols` is the one stream to test for loops
    and copying (e.g. the lead's Model-1 steps). `length` (quarters) overrides the table's.
    """
    validate_notes(notes)
    if ngram_index is not None and symbols is None:
        raise ValueError("novelty and memorisation need the piece's symbols with ngram_index")
    result: dict[str, float] = {
        "pitch_range": pitch_range(notes),
        "n_pitch_classes_used": n_pitch_classes_used(notes),
        "pitch_class_entropy": pitch_class_entropy(notes),
        "scale_consistency": scale_consistency(notes),
        "polyphony": polyphony(notes),
        "polyphony_rate": polyphony_rate(notes),
        "empty_beat_rate": empty_beat_rate(notes, length),
        "groove_consistency": groove_consistency(notes, length),
        "consonance": consonance(notes),
    }
    if symbols is not None:
        result["loop_share"] = loop_share(symbols)
        result["longest_repeated_suffix"] = float(longest_repeated_suffix(symbols))
    if ngram_index is not None:
        for n in NOVELTY_ORDERS:
            result[f"novelty_{n}"] = ngram_index.novelty(symbols, n)
        result["memorisation"] = float(ngram_index.longest_copy(symbols))
    return result
