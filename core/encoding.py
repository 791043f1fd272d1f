"""The thesis's two symbol encodings of one part, their decoders, and vocabularies.

Model 1 ("steps"): one symbol per 16th note (0.25 quarter lengths): a MIDI number for a note,
pitch classes joined by '.' for a chord, 'r' for a rest, '_' to hold the previous symbol.
Model 2 ("events"): one pitch symbol per note/chord/rest and, beside it, its duration in
quarter lengths written exactly ('0.5', '17/3').

Chord mode "pitch_class" is the thesis's (octave lost); "voicing" keeps MIDI pitches.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

from music21 import chord, common, note, pitch, stream

STEP = 0.25
HOLD = "_"
REST = "r"
CHORD_MODES = ("pitch_class", "voicing")
_PITCH_SYMBOL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3})*")


class EncodingError(ValueError):
    """A symbol or element the encoding cannot represent."""


def element_symbol(element: note.GeneralNote, chord_mode: str = "pitch_class") -> str:
    """The pitch symbol of a note, chord or rest (shared by both models)."""
    if isinstance(element, note.Rest):
        return REST
    if isinstance(element, note.Note):
        return str(element.pitch.midi)
    if isinstance(element, chord.Chord):
        midis = sorted({p.midi for p in element.pitches})
        if chord_mode == "voicing" and len(midis) > 1:
            return ".".join(str(m) for m in midis)
        if len(midis) == 1 or len(element.normalOrder) == 1:
            return str(midis[0])  # a unison or octaves: one pitch class, kept as its lowest note
        return ".".join(str(pc) for pc in element.normalOrder)
    raise EncodingError(f"cannot encode {type(element).__name__}")


def symbol_element(symbol: str, quarter_length: float | Fraction,
                   chord_mode: str = "pitch_class") -> note.GeneralNote:
    """Inverse of `element_symbol`; pitch-class chords are voiced upwards from octave 3.

    Numbers are MIDI numbers 0-127 (pitch classes 0-11 in a pitch-class chord); anything
    else is refused with EncodingError rather than turned into some other pitch.
    """
    if symbol == REST:
        return note.Rest(quarterLength=quarter_length)
    if not isinstance(symbol, str) or not _PITCH_SYMBOL.fullmatch(symbol):
        raise EncodingError(f"not a pitch symbol: {symbol!r}")
    values = [int(v) for v in symbol.split(".")]
    top = 11 if len(values) > 1 and chord_mode != "voicing" else 127
    if any(v > top for v in values):
        raise EncodingError(f"not a pitch symbol: {symbol!r} (numbers must be 0-{top})")
    if len(values) == 1:
        # pitch.Pitch(midi=...): music21 reads a bare int below 12 as a pitch class in octave 4
        return note.Note(pitch.Pitch(midi=values[0]), quarterLength=quarter_length)
    if chord_mode == "voicing":
        midis = values
    else:
        midis = []
        for pc in values:
            midi = 48 + pc
            while midis and midi <= midis[-1]:
                midi += 12
            midis.append(midi)
    if midis[-1] > 127:
        raise EncodingError(f"not a pitch symbol: {symbol!r} (voiced above MIDI 127)")
    return chord.Chord([pitch.Pitch(midi=m) for m in midis], quarterLength=quarter_length)


def _events(part: stream.Stream) -> list[tuple[Fraction, Fraction, note.GeneralNote]]:
    """(offset, duration, element) in time order, without overlaps, gaps filled by rests.

    A part is expected to sound one element at a time (chords already merged); where it does
    not, a later onset cuts the earlier element short, so no time is encoded twice.
    """
    flat = [e for e in part.flatten().notesAndRests if e.quarterLength > 0]
    flat.sort(key=lambda e: (Fraction(e.getOffsetInHierarchy(part)), isinstance(e, note.Rest)))
    events: list[tuple[Fraction, Fraction, note.GeneralNote]] = []
    cursor = Fraction(0)
    for element in flat:
        start = Fraction(element.getOffsetInHierarchy(part))
        end = start + Fraction(element.quarterLength)
        if events and start < cursor:
            if start == events[-1][0] or isinstance(element, note.Rest):
                continue  # a second voice starting together with the first: keep the first
            prev_start, _, prev = events[-1]
            events[-1] = (prev_start, start - prev_start, prev)
        elif start > cursor:
            events.append((cursor, start - cursor, note.Rest()))
        events.append((start, end - start, element))
        cursor = end
    return events


def encode_steps(part: stream.Stream, chord_mode: str = "pitch_class") -> list[str]:
    """Model 1: one symbol per 16th; onsets and lengths are rounded to the 16th grid."""
    symbols: list[str] = []
    for start, length, element in _events(part):
        first = round(start / Fraction(STEP))
        last = round((start + length) / Fraction(STEP))
        if first < len(symbols):
            first = len(symbols)
        if last <= first:
            continue
        if first > len(symbols):
            symbols += [REST] + [HOLD] * (first - len(symbols) - 1)
        symbols += [element_symbol(element, chord_mode)] + [HOLD] * (last - first - 1)
    return symbols


def decode_steps(symbols: Sequence[str], chord_mode: str = "pitch_class") -> stream.Part:
    """Model 1 symbols back to a part; a leading hold is read as a rest."""
    groups: list[list] = []
    for symbol in symbols:
        if symbol == HOLD and groups:
            groups[-1][1] += 1
        else:
            groups.append([REST if symbol == HOLD else symbol, 1])
    part = stream.Part()
    for symbol, count in groups:
        part.append(symbol_element(symbol, common.opFrac(count * STEP), chord_mode))
    return part


def duration_symbol(quarter_length: float | Fraction) -> str:
    """Exact quarter length as text: '0.5', '1.0', '17/3' (music21's own exact form)."""
    value = common.opFrac(quarter_length)
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return str(float(value))


def parse_duration(symbol: str) -> Fraction | float:
    """Inverse of `duration_symbol`; a duration must be a finite number above zero."""
    try:
        value = Fraction(symbol) if "/" in symbol else float(symbol)
        if math.isfinite(value) and common.opFrac(value) > 0:
            return common.opFrac(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise EncodingError(f"not a duration symbol: {symbol!r}") from exc
    raise EncodingError(f"not a duration symbol: {symbol!r} (must be a finite length > 0)")


def encode_events(part: stream.Stream,
                  chord_mode: str = "pitch_class") -> tuple[list[str], list[str]]:
    """Model 2: parallel pitch and duration streams, one entry per note/chord/rest."""
    pitches, durations = [], []
    for _, length, element in _events(part):
        pitches.append(element_symbol(element, chord_mode))
        durations.append(duration_symbol(length))
    return pitches, durations


def decode_events(pitches: Sequence[str], durations: Sequence[str],
                  chord_mode: str = "pitch_class") -> stream.Part:
    if len(pitches) != len(durations):
        raise EncodingError(f"{len(pitches)} pitches but {len(durations)} durations")
    part = stream.Part()
    for symbol, duration in zip(pitches, durations):
        part.append(symbol_element(symbol, parse_duration(duration), chord_mode))
    return part


@dataclass(frozen=True)
class Vocabulary:
    """Symbols numbered from 0 in order of first appearance, as the thesis stores them."""

    symbols: tuple[str, ...]

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]]) -> "Vocabulary":
        seen: dict[str, None] = {}
        for sequence in sequences:
            for symbol in sequence:
                seen.setdefault(symbol, None)
        return cls(tuple(seen))

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, sequence: Sequence[str]) -> list[int]:
        index = self.index
        missing = sorted({s for s in sequence if s not in index})
        if missing:
            raise EncodingError(f"symbols not in the vocabulary: {', '.join(missing[:10])}")
        return [index[s] for s in sequence]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[int(i)] for i in ids]

    def to_json(self) -> list[str]:
        return list(self.symbols)

    @classmethod
    def from_json(cls, data: list[str]) -> "Vocabulary":
        return cls(tuple(data))


def save_vocabularies(vocabs: dict[str, Vocabulary], path: Path) -> None:
    """All of a run's vocabularies in one readable JSON file ({stream name: [symbols]})."""
    path.write_text(json.dumps({k: v.to_json() for k, v in vocabs.items()}, indent=1))


def load_vocabularies(path: Path) -> dict[str, Vocabulary]:
    return {k: Vocabulary.from_json(v) for k, v in json.loads(path.read_text()).items()}
