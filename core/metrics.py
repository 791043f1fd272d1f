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
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from music21 import stream

from .encoding import STEP, decode_steps

LEAD = "lead"
ACCOMPANIMENT = "accompaniment"
COLUMNS = ("part", "start", "end", "pitch")
STEPS_PER_BEAT = 4  # a beat is a quarter note
STEPS_PER_BAR = 16  # 4/4 at 16th resolution, as MusPy's measure_resolution
NOVELTY_ORDERS = (4, 8)
LOOP_MIN_LENGTH = 8
CONSONANT_INTERVALS = frozenset({0, 3, 4, 5, 7, 8, 9})
DISSONANT_INTERVALS = tuple(sorted(set(range(12)) - CONSONANT_INTERVALS))  # 1 2 6 10 11
_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_NATURAL_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)


# --------------------------------------------------------------------------- note tables

def empty_notes() -> pd.DataFrame:
    """A note table with no rows but the right columns and dtypes."""
    return pd.DataFrame({"part": pd.Series(dtype=object), "start": pd.Series(dtype=float),
                         "end": pd.Series(dtype=float), "pitch": pd.Series(dtype=int)})


def _table(rows: list[tuple[str, float, float, int]], length: float) -> pd.DataFrame:
    """Rows to a note table; the piece length rides along in attrs for trailing rests."""
    table = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty_notes()
    table = table.astype({"start": float, "end": float, "pitch": int})
    table.attrs["length"] = float(length)
    return table


def notes_from_steps(steps: Sequence[str], part: str,
                     chord_mode: str = "pitch_class") -> pd.DataFrame:
    """Note table of one part's Model-1 symbols.

    Decoding goes through `encoding.decode_steps`, so a pitch-class chord is voiced exactly as
    it is heard when the piece is written out (upwards from octave 3). The length in quarters
    (rests at the end included) is kept in `attrs['length']` for the empty-beat rate.
    """
    if isinstance(steps, str):
        raise ValueError("steps must be a sequence of symbols, not one string")
    rows: list[tuple[str, float, float, int]] = []
    for element in decode_steps(list(steps), chord_mode).notes:
        start = float(element.offset)
        end = start + float(element.quarterLength)
        rows.extend((part, start, end, p.midi) for p in element.pitches)
    return _table(rows, len(steps) * STEP)


def notes_from_stream(s: stream.Stream, part: str | None = None) -> pd.DataFrame:
    """Note table of a Score (one block per part, named by its partName) or of one Part.

    Tied notes are merged first so a note held across a barline has one onset. `part`
    names a single Part (default: its partName, else 'lead'); a Score part with no name
    is called by its position, 'part1', 'part2', ....
    """
    if isinstance(s, stream.Score):
        if part is not None:
            raise ValueError("part names a single Part; a Score's parts are named by partName")
        named = [(p.partName or f"part{i + 1}", p) for i, p in enumerate(s.parts)]
    elif isinstance(s, stream.Stream):
        named = [(part or getattr(s, "partName", None) or LEAD, s)]
    else:
        raise ValueError(f"expected a music21 Score or Part, got {type(s).__name__}")
    rows: list[tuple[str, float, float, int]] = []
    for name, p in named:
        if any(n.tie is not None for n in p.recurse().notes):
            p = p.stripTies(inPlace=False)
        for element in p.recurse().notes:
            length = float(element.quarterLength)
            if length <= 0:
                continue  # grace notes take no time on the grid
            start = float(element.getOffsetInHierarchy(p))
            for pitch in getattr(element, "pitches", ()):
                rows.append((name, start, start + length, int(pitch.midi)))
    return _table(rows, float(s.highestTime))


def concat_notes(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Several parts' tables as one piece; the piece lasts as long as its longest part."""
    tables = [validate_notes(t) for t in tables]
    if not tables:
        return _table([], 0.0)
    merged = pd.concat(tables, ignore_index=True) if any(len(t) for t in tables) else empty_notes()
    merged.attrs["length"] = max(_piece_length(t) for t in tables)
    return merged


def validate_notes(notes: pd.DataFrame) -> pd.DataFrame:
    """The table itself, or ValueError naming what is wrong with it."""
    if not isinstance(notes, pd.DataFrame):
        raise ValueError(f"a note table must be a pandas DataFrame, got {type(notes).__name__}")
    missing = [c for c in COLUMNS if c not in notes.columns]
    if missing:
        raise ValueError(f"note table lacks column(s) {', '.join(missing)}; "
                         f"expected {', '.join(COLUMNS)}")
    if len(notes):
        values = notes[["start", "end", "pitch"]]
        if values.isna().any().any():
            raise ValueError("note table has missing start, end or pitch values")
        if (notes["end"] < notes["start"]).any():
            raise ValueError("note table has notes that end before they start")
        if ((notes["pitch"] < 0) | (notes["pitch"] > 127)).any():
            raise ValueError("note table has pitches outside MIDI 0-127")
    return notes


def _piece_length(notes: pd.DataFrame, length: float | None = None) -> float:
    """Length in quarters: the given one, else attrs['length'], never less than the last end."""
    last_end = float(notes["end"].max()) if len(notes) else 0.0
    if length is None:
        length = notes.attrs.get("length")
    return max(last_end, float(length)) if length is not None else last_end


def _grid(notes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(onset step, end step) per note; every note sounds at least one 16th."""
    start = np.rint(notes["start"].to_numpy(float) / STEP).astype(np.int64)
    end = np.rint(notes["end"].to_numpy(float) / STEP).astype(np.int64)
    return start, np.maximum(end, start + 1)


def _n_steps(notes: pd.DataFrame, length: float | None = None) -> int:
    n = math.ceil(round(_piece_length(notes, length) / STEP, 6))
    if len(notes):
        n = max(n, int(_grid(notes)[1].max()))
    return n


def pianoroll(notes: pd.DataFrame, length: float | None = None) -> np.ndarray:
    """Boolean (16th steps, 128 pitches) array: which pitches sound at each step.

    A pitch doubled across parts counts once, as in MusPy's binary pianoroll.
    """
    validate_notes(notes)
    n = _n_steps(notes, length)
    if not len(notes):
        return np.zeros((n, 128), bool)
    start, end = _grid(notes)
    pitch = notes["pitch"].to_numpy(np.int64)
    diff = np.zeros((n + 1, 128), np.int64)
    np.add.at(diff, (start, pitch), 1)
    np.add.at(diff, (end, pitch), -1)
    return np.cumsum(diff[:-1], axis=0) > 0


# --------------------------------------------------------------------------- pitch metrics

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


# --------------------------------------------------------------------------- time metrics

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
    n_bars = math.ceil(_n_steps(notes, length) / measure_resolution)
    if n_bars < 2:
        return math.nan
    patterns = np.zeros(n_bars * measure_resolution, bool)
    if len(notes):
        patterns[_grid(notes)[0]] = True
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
    onsets = _grid(lead)[0]
    roll = pianoroll(accompaniment, length=_n_steps(notes) * STEP)
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


# --------------------------------------------------------------------------- loops

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


# --------------------------------------------------------------------------- training overlap

_MOD = (1 << 31) - 1  # two 31-bit polynomial hashes make one 62-bit n-gram key
_BASES = (1_000_003, 998_244_353 % _MOD)


class _HashedText:
    """Pieces of integer ids with prefix hashes: any k-gram's key in O(1), no k-gram crosses
    a piece boundary. Two independent hashes modulo 2^31-1 give collisions of ~2^-62 per
    pair, negligible for corpora of this size."""

    def __init__(self, pieces: Sequence[np.ndarray]) -> None:
        self.ids = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        lengths = [len(p) for p in pieces]
        self.piece_of = np.repeat(np.arange(len(lengths)), lengths)
        self.longest = max(lengths, default=0)
        self.prefixes = [self._prefix(base) for base in _BASES]

    def _prefix(self, base: int) -> np.ndarray:
        prefix = np.zeros(len(self.ids) + 1, np.int64)
        acc = 0
        for i, value in enumerate(self.ids.tolist(), start=1):
            acc = (acc * base + value + 1) % _MOD
            prefix[i] = acc
        return prefix

    def keys(self, k: int) -> np.ndarray:
        """Keys of every k-gram that lies inside one piece."""
        n = len(self.ids)
        if k < 1 or k > n:
            return np.zeros(0, np.int64)
        parts = [(h[k:] - h[:-k] * pow(base, k, _MOD)) % _MOD
                 for h, base in zip(self.prefixes, _BASES)]
        inside = self.piece_of[:n - k + 1] == self.piece_of[k - 1:]
        return ((parts[0] << 31) | parts[1])[inside]


class NgramIndex:
    """The training pieces' n-grams, built once, for novelty and memorisation of many pieces.

    Symbols are mapped to the training vocabulary; a symbol never seen in training can match
    nothing. Key sets for `orders` are built up front, others on first use and cached.
    """

    def __init__(self, training_sequences: Iterable[Sequence[str]],
                 orders: Sequence[int] = NOVELTY_ORDERS) -> None:
        pieces = list(training_sequences)
        if not pieces:
            raise ValueError("no training sequences to compare with")
        if any(isinstance(p, str) for p in pieces):
            raise ValueError("training_sequences must be a list of symbol sequences "
                             "(one per piece), not one sequence of symbols")
        self.vocabulary: dict[str, int] = {}
        encoded = [np.array([self.vocabulary.setdefault(s, len(self.vocabulary)) for s in p],
                            dtype=np.int64) for p in pieces]
        self.n_pieces = len(pieces)
        self._text = _HashedText(encoded)
        self._cache: dict[int, np.ndarray] = {}
        for n in orders:
            self.keys(n)

    def keys(self, n: int) -> np.ndarray:
        """Sorted distinct keys of the training n-grams."""
        if n < 1:
            raise ValueError("n-gram order must be at least 1")
        if n not in self._cache:
            if len(self._cache) >= 16:
                self._cache.pop(next(iter(self._cache)))
            self._cache[n] = np.unique(self._text.keys(n))
        return self._cache[n]

    def _encode(self, symbols: Sequence[str]) -> np.ndarray:
        if isinstance(symbols, str):
            raise ValueError("expected a sequence of symbols, not one string")
        unseen: dict[str, int] = {}
        known = len(self.vocabulary)
        return np.array([self.vocabulary[s] if s in self.vocabulary
                         else unseen.setdefault(s, known + len(unseen)) for s in symbols],
                        dtype=np.int64)

    def novelty(self, symbols: Sequence[str], n: int) -> float:
        """Share of the piece's n-grams (counted with repeats) found in no training piece."""
        if n < 1:
            raise ValueError("n-gram order must be at least 1")
        piece = _HashedText([self._encode(symbols)]).keys(n)
        if not len(piece):
            return math.nan
        return float(1 - np.isin(piece, self.keys(n)).mean())

    def longest_copy(self, symbols: Sequence[str]) -> int:
        """Longest run of the piece found verbatim in one training piece (binary search on
        the length: a common run of k implies one of k-1)."""
        piece = _HashedText([self._encode(symbols)])
        low, high = 0, min(len(piece.ids), self._text.longest)
        while low < high:
            mid = (low + high + 1) // 2
            train = self._cache.get(mid)
            train = train if train is not None else self._text.keys(mid)
            if np.isin(piece.keys(mid), train).any():
                low = mid
            else:
                high = mid - 1
        return low


def _index(training: NgramIndex | Iterable[Sequence[str]]) -> NgramIndex:
    return training if isinstance(training, NgramIndex) else NgramIndex(training)


def novelty(symbols: Sequence[str], training_sequences: NgramIndex | Iterable[Sequence[str]],
            n: int) -> float:
    """Share of the piece's n-grams absent from every training piece: 0 for a training piece
    itself, 1 for all-new material; NaN when the piece is shorter than n."""
    return _index(training_sequences).novelty(symbols, n)


def memorisation(symbols: Sequence[str],
                 training_sequences: NgramIndex | Iterable[Sequence[str]]) -> int:
    """Length (symbols) of the longest stretch copied verbatim from a single training piece."""
    return _index(training_sequences).longest_copy(symbols)


# --------------------------------------------------------------------------- one piece

NOTE_METRICS = ("pitch_range", "n_pitch_classes_used", "pitch_class_entropy",
                "scale_consistency", "polyphony", "polyphony_rate", "empty_beat_rate",
                "groove_consistency", "consonance")
SYMBOL_METRICS = ("loop_share", "longest_repeated_suffix")
INDEX_METRICS = tuple(f"novelty_{n}" for n in NOVELTY_ORDERS) + ("memorisation",)


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


# --------------------------------------------------------------------------- sets of pieces

def _finite(sample: Sequence[float]) -> np.ndarray:
    values = np.asarray(sample, dtype=float).reshape(-1)
    return values[np.isfinite(values)]


def _scott_bandwidth(x: np.ndarray) -> float:
    """Scott's rule as scipy.stats.gaussian_kde uses it: std (ddof 1) * n^(-1/5)."""
    return float(x.std(ddof=1) * len(x) ** -0.2) if len(x) > 1 else 0.0


def _kde(x: np.ndarray, bandwidth: float, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of sample x on grid, in chunks to bound memory."""
    density = np.zeros_like(grid)
    for i in range(0, len(x), 256):
        z = (grid[None, :] - x[i:i + 256, None]) / bandwidth
        density += np.exp(-0.5 * z * z).sum(axis=0)
    return density / (len(x) * bandwidth * math.sqrt(2 * math.pi))


def overlapping_area(a: Sequence[float], b: Sequence[float]) -> float:
    """Overlap (0..1) of two samples' Gaussian KDEs (Scott's bandwidth): integral of min(p, q).

    Non-finite values are dropped; NaN if a sample is then empty. A constant sample has no
    bandwidth of its own and borrows the other's, so a point mass still overlaps a spread;
    two constant samples overlap 1 if equal and 0 otherwise.
    """
    x, y = _finite(a), _finite(b)
    if not len(x) or not len(y):
        return math.nan
    bx, by = _scott_bandwidth(x), _scott_bandwidth(y)
    if bx == 0 and by == 0:
        return 1.0 if np.allclose(x, y[0]) and np.allclose(y, x[0]) else 0.0
    bx, by = bx or by, by or bx
    pad = 5 * max(bx, by)
    low, high = min(x.min(), y.min()) - pad, max(x.max(), y.max()) + pad
    points = int(np.clip((high - low) / (min(bx, by) / 8), 1024, 20000))
    grid = np.linspace(low, high, points)
    overlap = np.trapezoid(np.minimum(_kde(x, bx, grid), _kde(y, by, grid)), grid)
    return float(np.clip(overlap, 0.0, 1.0))


def compare_distributions(generated: pd.DataFrame, reference: pd.DataFrame,
                          metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Per metric: mean and std of generated and reference pieces and their overlapping area.

    Inputs have one row per piece and one column per metric (e.g. from `piece_metrics`).
    Without `metrics`, the numeric columns both share are compared, in generated's order.
    """
    for name, table in (("generated", generated), ("reference", reference)):
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"{name} must be a DataFrame (one row per piece), "
                             f"got {type(table).__name__}")
    if metrics is None:
        metrics = [c for c in generated.columns if c in reference.columns
                   and pd.api.types.is_numeric_dtype(generated[c])
                   and pd.api.types.is_numeric_dtype(reference[c])]
        if not metrics:
            raise ValueError("generated and reference share no numeric metric column")
    else:
        for name, table in (("generated", generated), ("reference", reference)):
            missing = [m for m in metrics if m not in table.columns]
            if missing:
                raise ValueError(f"{name} lacks metric column(s) {', '.join(missing)}")
    rows: dict[str, Mapping[str, float]] = {}
    for metric in metrics:
        g = pd.to_numeric(generated[metric], errors="coerce")
        r = pd.to_numeric(reference[metric], errors="coerce")
        rows[metric] = {"generated_mean": g.mean(), "generated_std": g.std(),
                        "reference_mean": r.mean(), "reference_std": r.std(),
                        "overlapping_area": overlapping_area(g, r)}
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "metric"
    return result
