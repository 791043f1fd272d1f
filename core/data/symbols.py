"""One symbol of the thesis's encodings, and its inverse.

A pitch symbol is a MIDI number for a note ('48'), pitch classes joined by '.' for a chord
('9.2'; chord mode "voicing" keeps MIDI numbers instead), 'r' for a rest; Model 1 adds '_' to
hold the previous symbol one more 16th (STEP = 0.25 quarter lengths). A duration symbol is a
quarter length written exactly ('0.5', '17/3').
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Iterable

from music21 import chord, common, note, pitch

STEP = 0.25
HOLD = "_"
REST = "r"
CHORD_MODES = ("pitch_class", "voicing")
_PITCH_SYMBOL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3})*")


class EncodingError(ValueError):
    """A symbol or element the encoding cannot represent."""


def element_symbol(element: note.GeneralNote, chord_mode: str = "pitch_class") -> str:
    """The pitch symbol of a music21 note, chord or rest (shared by both models)."""
    if isinstance(element, note.Rest):
        return REST
    if isinstance(element, note.Note):
        return str(element.pitch.midi)
    if isinstance(element, chord.Chord):
        return pitch_symbol([p.midi for p in element.pitches], chord_mode)
    raise EncodingError(f"cannot encode {type(element).__name__}")


def pitch_symbol(midis: Iterable[int], chord_mode: str = "pitch_class") -> str:
    """The pitch symbol of the MIDI numbers sounding together: the one rule both readers use
    (music21 elements through `element_symbol`, MIDI note arrays directly).

    Nothing sounding is a rest; one pitch is its MIDI number; a chord is its pitch classes
    in normal order ('voicing' keeps the sorted MIDI numbers); a unison or octaves have one
    pitch class and are kept as their lowest note.
    """
    return _pitch_symbol(tuple(sorted(set(int(m) for m in midis))), chord_mode)


@lru_cache(maxsize=1 << 16)
def _pitch_symbol(midis: tuple[int, ...], chord_mode: str) -> str:
    if not midis:
        return REST
    if len(midis) == 1:
        return str(midis[0])
    if chord_mode == "voicing":
        return ".".join(str(m) for m in midis)
    order = normal_order(frozenset(m % 12 for m in midis))
    if len(order) == 1:
        return str(midis[0])
    return ".".join(str(pc) for pc in order)


@lru_cache(maxsize=4096)
def normal_order(pitch_classes: frozenset[int]) -> tuple[int, ...]:
    """music21's normal order of a pitch-class set, computed once per set: a Chord built from
    Pitch objects (not from ints, which music21 respells at ~10 ms per chord)."""
    pitches = [pitch.Pitch(midi=60 + pc) for pc in sorted(pitch_classes)]
    return tuple(chord.Chord(pitches).normalOrder)


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
