"""Note tables: one row per sounding pitch (part, start and end in quarter lengths, MIDI
pitch and its name), built by one function from music (a score, a part, or an encoded part
decoded), and their 16th-note piano roll.

Metrics, piano rolls and the notes CSV of every sample read this one representation. Parts
are named as the data layer names them, 'lead' and 'accompaniment' (`part_name`); the staff
names a score shows ('Lead') belong to core.rendering.score.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from music21 import stream

from core.data.corpus import LEAD, PARTS
from core.data.encoding import decode_part
from core.data.timeline import PartSymbols, steps_spanned, to_steps

COLUMNS = ("part", "start", "end", "pitch")  # what a metric reads
NOTE_COLUMNS = (*COLUMNS, "name")  # what note_table writes: the pitch's name too ('C4')


def empty_notes() -> pd.DataFrame:
    """A note table with no rows but the right columns and dtypes."""
    return pd.DataFrame({"part": pd.Series(dtype=str), "start": pd.Series(dtype=float),
                         "end": pd.Series(dtype=float), "pitch": pd.Series(dtype=int),
                         "name": pd.Series(dtype=str)})


def part_name(name: str) -> str:
    """A part's name in the data layer's spelling: a score's 'Lead' staff, or a notes CSV
    written before parts had one spelling, is the part 'lead'; other names are kept."""
    return {part.lower(): part for part in PARTS}.get(str(name).lower(), str(name))


def note_table(music: stream.Stream, part: str | None = None) -> pd.DataFrame:
    """One row per sounding pitch, sorted by start, part and pitch: what a piano roll, a
    metric or a sample's notes CSV reads.

    A Score gives one block per part, named by its partName through `part_name` (a part
    with none is called by its position, 'part1', 'part2', ...); a single Part is named
    `part` (default: its partName, else 'lead'). Tied notes are merged first, because
    engraving splits notes at barlines, which would otherwise show as onsets that were never
    generated; grace notes take no time and are left out. The music's length in quarters
    (trailing rests included) rides along in attrs['length'] for the empty-beat rate.
    """
    if isinstance(music, stream.Score):
        if part is not None:
            raise ValueError("part names a single Part; a Score's parts are named by partName")
        named = [(part_name(p.partName or f"part{i + 1}"), p) for i, p in enumerate(music.parts)]
    elif isinstance(music, stream.Stream):
        named = [(part or part_name(getattr(music, "partName", None) or LEAD), music)]
    else:
        raise ValueError(f"expected a music21 Score or Part, got {type(music).__name__}")
    rows: list[tuple[str, float, float, int, str]] = []
    for name, p in named:
        if any(n.tie is not None for n in p.recurse().notes):
            p = p.stripTies(inPlace=False)
        for element in p.recurse().notes:
            length = float(element.quarterLength)
            if length <= 0:
                continue
            start = float(element.getOffsetInHierarchy(p))
            rows.extend((name, start, start + length, int(pitch.midi), pitch.nameWithOctave)
                        for pitch in getattr(element, "pitches", ()))
    return _table(rows, float(music.highestTime))


def symbol_notes(part: PartSymbols, name: str) -> pd.DataFrame:
    """Note table of one encoded part, decoded by `encoding.decode_part`, so a pitch-class
    chord is voiced exactly as it is heard when the piece is written out."""
    if any(isinstance(v, str) for v in part.symbols.values()):
        raise ValueError("symbols must be a sequence of symbols, not one string")
    return note_table(decode_part(part.symbols, part.model, part.chord_mode), name)


def read_notes(path: Path | str) -> pd.DataFrame:
    """A notes CSV as note_table wrote it, part names in the data layer's spelling (older
    samples wrote 'Lead' and 'Accompaniment')."""
    try:
        notes = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return empty_notes()
    if notes.empty:
        return empty_notes()
    notes["part"] = notes["part"].map(part_name)
    return notes


def _table(rows: list[tuple[str, float, float, int, str]], length: float) -> pd.DataFrame:
    """Rows to a sorted note table; the piece length rides along in attrs."""
    table = pd.DataFrame(rows, columns=list(NOTE_COLUMNS)) if rows else empty_notes()
    table = table.astype({"part": str, "start": float, "end": float, "pitch": int,
                          "name": str})
    table = table.sort_values(["start", "part", "pitch"], kind="stable").reset_index(drop=True)
    table.attrs["length"] = float(length)
    return table


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
    start, end = to_steps(notes["start"]), to_steps(notes["end"])
    return start, np.maximum(end, start + 1)


def n_steps(notes: pd.DataFrame, length: float | None = None) -> int:
    n = steps_spanned(_piece_length(notes, length))
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
