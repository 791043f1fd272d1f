"""A part's two thesis encodings and their decoders.

Model 1 ("steps"): one symbol per 16th note: onsets and lengths rounded to the 16th grid.
Model 2 ("events"): one pitch symbol per note/chord/rest and, beside it, its duration.
`decode_part` and `lead_steps` turn any run's symbols back into music or into Model 1 steps.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Sequence

from music21 import common, note, stream

from core.data.symbols import (
    HOLD,
    REST,
    STEP,
    EncodingError,
    duration_symbol,
    element_symbol,
    parse_duration,
    symbol_element,
)


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


def decode_part(symbols: Mapping[str, Sequence[str]], model: int,
                chord_mode: str = "pitch_class") -> stream.Part:
    """A part's symbols in either model's encoding back to music."""
    if model == 1:
        return decode_steps(symbols["steps"], chord_mode)
    return decode_events(symbols["pitch"], symbols["duration"], chord_mode)


def lead_steps(symbols: Mapping[str, Sequence[str]], model: int, chord_mode: str,
               target_mode: str) -> list[str]:
    """A generated lead as Model 1 steps in the accompaniment run's chord mode: the time
    grid and symbols a conditioned accompaniment reads."""
    if model == 1 and chord_mode == target_mode:
        return list(symbols["steps"])
    return encode_steps(decode_part(symbols, model, chord_mode), target_mode)
