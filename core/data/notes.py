"""Note tables: one row per sounding pitch (part, start, end, pitch in quarter lengths and
MIDI numbers), built from encoded symbols or from a music21 score, and their 16th-note grid.

Metrics, piano rolls and the notes CSV of every sample read this one representation.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from music21 import stream

from core.data.corpus import LEAD
from core.data.encoding import decode_steps
from core.data.symbols import STEP

COLUMNS = ("part", "start", "end", "pitch")


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


def grid_steps(notes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(onset step, end step) per note; every note sounds at least one 16th."""
    start = np.rint(notes["start"].to_numpy(float) / STEP).astype(np.int64)
    end = np.rint(notes["end"].to_numpy(float) / STEP).astype(np.int64)
    return start, np.maximum(end, start + 1)


def n_steps(notes: pd.DataFrame, length: float | None = None) -> int:
    n = math.ceil(round(_piece_length(notes, length) / STEP, 6))
    if len(notes):
        n = max(n, int(grid_steps(notes)[1].max()))
    return n


def pianoroll(notes: pd.DataFrame, length: float | None = None) -> np.ndarray:
    """Boolean (16th steps, 128 pitches) array: which pitches sound at each step.

    A pitch doubled across parts counts once, as in MusPy's binary pianoroll.
    """
    validate_notes(notes)
    n = n_steps(notes, length)
    if not len(notes):
        return np.zeros((n, 128), bool)
    start, end = grid_steps(notes)
    pitch = notes["pitch"].to_numpy(np.int64)
    diff = np.zeros((n + 1, 128), np.int64)
    np.add.at(diff, (start, pitch), 1)
    np.add.at(diff, (end, pitch), -1)
    return np.cumsum(diff[:-1], axis=0) > 0


NOTE_COLUMNS = ("part", "start", "end", "pitch", "name")


def note_table(score: stream.Score) -> pd.DataFrame:
    """One row per sounding pitch, tied notes merged: what a piano roll or a metric reads.

    Ties are merged because engraving splits notes at barlines, which would otherwise show
    as repeated onsets that were never generated.
    """
    rows = []
    for index, part in enumerate(score.parts):
        name = part.partName or str(part.id) or f"part {index + 1}"
        flat = part.stripTies().flatten()
        for element in flat.notes:
            if element.quarterLength <= 0:
                continue  # grace notes take no time on a piano roll
            start = float(element.getOffsetBySite(flat))
            end = start + float(element.quarterLength)
            for pitch in sorted(getattr(element, "pitches", ()), key=lambda p: p.midi):
                rows.append((name, start, end, int(pitch.midi), pitch.nameWithOctave))
    table = pd.DataFrame(rows, columns=list(NOTE_COLUMNS))
    table = table.astype({"part": str, "start": float, "end": float, "pitch": int,
                          "name": str})
    return table.sort_values(["start", "part", "pitch"], kind="stable").reset_index(drop=True)
