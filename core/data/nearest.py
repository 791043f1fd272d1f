"""The nearest symbol a vocabulary knows, for a symbol it lacks (a seed from the user's own
MIDI file meets a run trained on other music).

How "nearest" is decided, by kind of symbol:

- a note ('61'): the same pitch class in the nearest octave the vocabulary knows
  (transposition into the run's range); when no octave of it is known, the nearest known
  note in semitones (the lower of two equally near);
- a chord ('7.11.2', or MIDI numbers '55.59.62' in voicing mode): the known chord or note
  sharing the most pitch classes with it, as a share of the pitch classes of both
  (shared / all), ties broken by the nearer mean pitch, then by vocabulary order;
- a rest or a hold the vocabulary lacks: the other one of the two (both mean "no new
  note"), else the nearest known symbol to nothing, the vocabulary's first;
- a duration ('0.75'): the known duration closest in quarter notes (the shorter of two).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from core.data.symbols import HOLD, REST, EncodingError, parse_duration

DURATION_STREAM = "duration"


def fit_to_vocabulary(symbols: Sequence[str], known: Sequence[str], stream: str,
                      chord_mode: str = "pitch_class") -> tuple[list[str], int]:
    """(symbols with every unknown one replaced by its nearest known one, how many were)."""
    table = frozenset(known)
    missing = {s for s in symbols if s not in table}
    if not missing:
        return list(symbols), 0
    nearest = _duration_nearest if stream == DURATION_STREAM else _pitch_nearest
    choice = {s: nearest(s, tuple(known), chord_mode) for s in missing}
    return [choice.get(s, s) for s in symbols], sum(1 for s in symbols if s in missing)


def _duration_nearest(symbol: str, known: tuple[str, ...], chord_mode: str) -> str:
    value = _quarters(symbol)
    lengths = [(abs(q - value), q, s) for s in known if (q := _quarters(s)) is not None]
    return min(lengths)[2] if value is not None and lengths else known[0]


def _quarters(symbol: str) -> float | None:
    try:
        return float(parse_duration(symbol))
    except EncodingError:
        return None


def _numbers(symbol: str) -> tuple[int, ...] | None:
    """MIDI numbers of a note or voiced chord, pitch classes of a pitch-class chord, None
    for anything else."""
    try:
        return tuple(int(v) for v in symbol.split("."))
    except ValueError:
        return None


@lru_cache(maxsize=1 << 14)
def _pitch_nearest(symbol: str, known: tuple[str, ...], chord_mode: str) -> str:
    if symbol in (REST, HOLD):
        other = HOLD if symbol == REST else REST
        return other if other in known else known[0]
    values = _numbers(symbol)
    candidates = [(s, v) for s in known if (v := _numbers(s)) is not None]
    if values is None or not candidates:
        return known[0]
    if len(values) == 1:
        notes = [(s, v[0]) for s, v in candidates if len(v) == 1]
        same_class = [(s, m) for s, m in notes if m % 12 == values[0] % 12]
        pool = same_class or notes
        if pool:
            return min(pool, key=lambda c: (abs(c[1] - values[0]), c[1]))[0]
    return _nearest_chord(values, candidates, chord_mode)


def _nearest_chord(values: tuple[int, ...], candidates: list[tuple[str, tuple[int, ...]]],
                   chord_mode: str) -> str:
    """The candidate sharing the most pitch classes with `values` (see the module)."""
    mine = _classes(values)
    centre = _centre(values, chord_mode)

    def rank(item: tuple[int, tuple[str, tuple[int, ...]]]):
        order, (_, other) = item
        theirs = _classes(other)
        shared = len(mine & theirs) / len(mine | theirs)
        return (-shared, abs(_centre(other, chord_mode) - centre), order)

    return min(enumerate(candidates), key=rank)[1][0]


def _is_chord_of_classes(values: tuple[int, ...], chord_mode: str) -> bool:
    return len(values) > 1 and chord_mode != "voicing"


def _classes(values: tuple[int, ...]) -> frozenset[int]:
    return frozenset(v % 12 for v in values)


def _centre(values: tuple[int, ...], chord_mode: str) -> float:
    """Mean pitch: MIDI numbers as they are; a pitch-class chord voiced from octave 3 (MIDI
    48 up), as the decoder writes it."""
    if _is_chord_of_classes(values, chord_mode):
        return 48 + sum(values) / len(values)
    return sum(values) / len(values)
