"""A part's two thesis encodings and their decoders.

Model 1 ("steps"): one symbol per 16th note: onsets and lengths rounded to the 16th grid.
Model 2 ("events"): one pitch symbol per note/chord/rest and, beside it, its duration.
A part comes either as a music21 stream (`encode_steps`, `encode_events`: the bundled corpus)
or as note arrays on the 16th grid (`encode_notes`: MIDI files, read without music21 objects).
`decode_part` and `lead_steps` turn any run's symbols back into music or into Model 1 steps.
"""
from __future__ import annotations

import sys
from fractions import Fraction
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
from music21 import common, note, stream

from core.data.symbols import (
    HOLD,
    REST,
    STEP,
    EncodingError,
    duration_symbol,
    element_symbol,
    parse_duration,
    pitch_symbol,
    symbol_element,
)


def _events(part: stream.Stream) -> list[tuple[Fraction, Fraction, note.GeneralNote]]:
    """(offset, duration, element) in time order, without overlaps, gaps filled by rests.

    A part is expected to sound one element at a time (chords already merged); where it does
    not, a later onset cuts the earlier element short, so no time is encoded twice. Rests
    that follow each other are one silence, as a MIDI file (which has no rests) gives it.
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
        if isinstance(element, note.Rest) and events and isinstance(events[-1][2], note.Rest):
            events[-1] = (events[-1][0], end - events[-1][0], events[-1][2])
        else:
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


def encode_notes(start: np.ndarray, end: np.ndarray, pitch: np.ndarray,
                 chord_mode: str = "pitch_class") -> tuple[list[str], list[str], list[str]]:
    """(Model 1 steps, Model 2 pitches, Model 2 durations) of a part given as notes whose
    onsets and ends are whole 16th steps (end > start).

    The part is cut at every onset and end of any of its notes; each slice is the set of
    pitches sounding in it, named by `pitch_symbol` (a rest when nothing sounds). That is what
    music21's chordify gives the stream encoders, so both paths agree on the same music; here
    it is done on arrays, so a MIDI file of 20,000 notes encodes in milliseconds.
    """
    if not len(start):
        return [], [], []
    start, end = np.asarray(start, np.int64), np.asarray(end, np.int64)
    bounds = _distinct(np.concatenate(([0], start, end)))
    sets = _slice_sets(np.searchsorted(bounds, start), np.searchsorted(bounds, end),
                       np.asarray(pitch, np.int64), len(bounds) - 1)
    distinct, inverse = np.unique(sets, return_inverse=True)
    names = np.array([_set_symbol(key.tobytes(), chord_mode) for key in distinct], object)
    symbols = names[inverse.ravel()]
    steps = np.full(int(bounds[-1]), HOLD, dtype=object)
    steps[bounds[:-1]] = symbols
    lengths = np.diff(bounds)
    durations = np.empty(int(lengths.max()) + 1, object)
    for count in _distinct(lengths).tolist():
        durations[count] = _steps_duration(count)
    return steps.tolist(), symbols.tolist(), durations[lengths].tolist()


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of non-negative ints: by counting when they are dense
    (16th steps of a piece), else by np.unique."""
    top = int(values.max())
    if top > 16 * len(values) + 4096:
        return np.unique(values)
    return np.flatnonzero(np.bincount(values, minlength=top + 1))


def _slice_sets(first: np.ndarray, last: np.ndarray, pitch: np.ndarray,
                slices: int) -> np.ndarray:
    """The pitches sounding in each slice as a 128-bit set (two uint64 words, as 16 bytes):
    every note marks each slice it covers, from `first` up to `last`."""
    cover = last - first
    total = int(cover.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(cover) - cover, cover)
    where = np.repeat(first, cover) + offsets
    pitches = np.repeat(pitch, cover)
    words = np.zeros((slices, 2), np.uint64)
    bits = np.left_shift(np.uint64(1), (pitches % 64).astype(np.uint64))
    np.bitwise_or.at(words, (where, pitches // 64), bits)
    return words.view("V16").ravel()


@lru_cache(maxsize=1 << 16)
def _set_symbol(key: bytes, chord_mode: str) -> str:
    low, high = (int.from_bytes(key[i:i + 8], sys.byteorder) for i in (0, 8))
    bits = low | high << 64
    return pitch_symbol([m for m in range(128) if bits >> m & 1], chord_mode)


@lru_cache(maxsize=4096)
def _steps_duration(count: int) -> str:
    return duration_symbol(Fraction(count) * Fraction(STEP))


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
