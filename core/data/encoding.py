"""A part's two thesis encodings and their decoders.

Model 1 ("steps"): one symbol per 16th note: onsets and lengths rounded to the 16th grid.
Model 2 ("events"): one pitch symbol per note/chord/rest and, beside it, its duration.
A part comes either as a music21 stream (`encode_steps`, `encode_events`: the bundled corpus)
or as note arrays on the 16th grid (`encode_parts`: MIDI files, read without music21 objects).
`decode_part` and `lead_steps` turn any run's symbols back into music or into Model 1 steps.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
from music21 import common, note, stream

from core.data.corpus import EncodedPart
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
from core.data.tracks import Notes


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


def encode_parts(parts: Sequence[Notes], chord_mode: str = "pitch_class") -> list[EncodedPart]:
    """Model 1 steps and Model 2 pitches and durations of parts given as notes whose onsets
    and ends are whole 16th steps (end > start).

    A part is cut at every onset and end of any of its notes; each slice is the set of
    pitches sounding in it, named by `pitch_symbol` (a rest when nothing sounds). That is what
    music21's chordify gives the stream encoders, so both paths agree on the same music. Here
    it is done on arrays of ids, the parts laid end to end on one time line: each distinct
    set and each distinct slice length is named once, however many slices it fills, so a
    MIDI file of 20,000 notes encodes in about a millisecond. In the shared table id 0 is
    the hold; then come the pitch sets, then the durations.
    """
    if not parts:
        return []
    origin = np.cumsum([0, *(int(end.max()) if len(end) else 0 for _, end, _ in parts)])
    shifted = [(np.add(start, at), np.add(end, at), pitch)
               for (start, end, pitch), at in zip(parts, origin.tolist())]
    start, end, pitch = (np.concatenate(column).astype(np.int64, copy=False)
                         for column in zip(*shifted))
    bounds, index, first, last = _slices(start, end, origin)
    names, sets = _slice_symbols(first, last, pitch, len(bounds) - 1, chord_mode)
    durations, lengths = _duration_symbols(bounds[1:] - bounds[:-1])
    pitch_ids = (sets + 1).astype(np.int32)
    steps = np.zeros(int(origin[-1]), np.int32)
    steps[bounds[:-1]] = pitch_ids
    duration_ids = (lengths + 1 + len(names)).astype(np.int32)
    table = [HOLD, *names, *durations]
    cuts = index[origin].tolist()
    return [EncodedPart(table, steps[origin[i]:origin[i + 1]], pitch_ids[cuts[i]:cuts[i + 1]],
                        duration_ids[cuts[i]:cuts[i + 1]]) for i in range(len(parts))]


def _slices(start: np.ndarray, end: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, ...]:
    """(the steps where slices begin, plus the last end; the slice at each step; each note's
    first slice; the slice after its last): a mark at every part's origin, onset and end,
    counted up."""
    marks = np.zeros(int(origin[-1]) + 1, bool)
    marks[origin] = marks[start] = marks[end] = True
    index = marks.cumsum() - 1
    return marks.nonzero()[0], index, index[start], index[end]


def _slice_symbols(first: np.ndarray, last: np.ndarray, pitch: np.ndarray, slices: int,
                   chord_mode: str) -> tuple[list[str], np.ndarray]:
    """(the symbol of each distinct pitch set, the set of each slice): every note marks each
    slice it covers in a bit set of the pitches above the lowest (one 64-bit word, two when
    the notes span more than 64 semitones), and equal sets share one id."""
    if not len(pitch):
        return [], np.zeros(slices, np.int64)
    cover = last - first
    where, pitches = first, pitch
    if int(cover.sum()) > len(cover):  # notes that span several slices
        offsets = (first - (cover.cumsum() - cover)).repeat(cover)
        where, pitches = np.arange(len(offsets)) + offsets, pitch.repeat(cover)
    low = int(pitch.min())
    above = pitches - low
    count = 1 + int(above.max() >= 64)
    sets = np.zeros(slices * count, np.uint64)
    np.bitwise_or.at(sets, where if count == 1 else where * 2 + (above >> 6),
                     np.left_shift(np.uint64(1), (above & 63).astype(np.uint64)))
    ids, words = _distinct([sets[i::count] for i in range(count)])
    bits = words[0].tolist()
    if count == 2:
        bits = [low_word | high << 64 for low_word, high in zip(bits, words[1].tolist())]
    return [_set_symbol(b << low, chord_mode) for b in bits], ids


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it mixes a word's bits upwards


def _distinct(words: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(an id for each set, the words of each id's set) of sets given as parallel words.

    Sets are ordered by a 16-bit hash (a radix sort, linear in the number of slices), so equal
    sets lie together and each run of equal sets gets one id; two sets that share a hash can
    make a set come back under two ids, which names it twice but never misnames a slice.
    """
    mixed = words[0] * _MIX
    for word in words[1:]:
        mixed = (mixed ^ word) * _MIX
    order = np.argsort((mixed >> np.uint64(48)).astype(np.uint16), kind="stable")
    ranked = [word[order] for word in words]
    new = np.ones(len(order), bool)
    new[1:] = ranked[0][1:] != ranked[0][:-1]
    for word in ranked[1:]:
        new[1:] |= word[1:] != word[:-1]
    ids = np.empty(len(order), np.int64)
    ids[order] = new.cumsum() - 1
    return ids, [word[new] for word in ranked]


@lru_cache(maxsize=1 << 16)
def _set_symbol(bits: int, chord_mode: str) -> str:
    """The symbol of the MIDI pitches whose bits are set."""
    return pitch_symbol([m for m in range(bits.bit_length()) if bits >> m & 1], chord_mode)


def _duration_symbols(lengths: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(the symbol of each distinct slice length, the length id of each slice)."""
    present = np.bincount(lengths) > 0
    distinct = present.nonzero()[0]
    return ([_steps_duration(n) for n in distinct.tolist()],
            (present.cumsum() - 1)[lengths])


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
