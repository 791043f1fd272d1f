"""A file's instruments as note arrays on the 16th grid, whatever library read them.

Both readers of user files (symusic for MIDI, music21 for MusicXML / ABC / kern) hand their
notes, in quarter notes, to `to_grid`, which is where real files are cleaned, one rule each:

- a file whose onsets all sit the same fraction of a 16th off the grid (a sequencer's
  constant delay) is first moved back onto it (`grid_phase`);
- onsets and ends are rounded to the nearest 16th (halves to even, as `encode_steps` rounds),
  and every note keeps at least one 16th, so a staccato note is never lost;
- triplets and swing land on the 16th grid; an onset moved by more than a 64th note (a
  quarter of a step) is counted: the 16th grid never moves an onset by more than a 32nd, so
  "more than a 64th" is what separates triplets and swing (a third of a step) from the
  jitter of a played performance;
- a note longer than MAX_NOTE_STEPS (four 4/4 bars, e.g. a stuck note whose note-off came
  at the end of the song) is cut to that length and counted;
- notes of one pitch that overlap in one track (a second note-on before the note-off) are
  played one after the other: the earlier one ends where the later one starts;
- whole bars of silence before the music are dropped, so a count-in does not become a bar
  of rests while a pickup keeps its place in the bar.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.symbols import STEP

STEPS_PER_QUARTER = round(1 / STEP)


MAX_NOTE_STEPS = 16 * STEPS_PER_QUARTER


MOVED = 0.25  # of a step: a 64th note


PHASE_AGREEMENT = 0.9  # how closely onsets must share one offset for it to be a delay


@dataclass
class ReadTrack:
    """One track as a library read it: onsets and lengths in quarter notes."""

    name: str
    program: int
    is_drum: bool
    onset: np.ndarray
    length: np.ndarray
    pitch: np.ndarray


@dataclass
class Track:
    """One instrument: its notes as (onset step, end step, MIDI pitch) arrays, by onset."""

    index: int
    name: str
    program: int
    is_drum: bool
    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray

    @property
    def notes(self) -> int:
        return len(self.start)


@dataclass
class GridNotes:
    """A file's tracks on the grid, with what putting them there changed (pitched notes)."""

    tracks: list[Track]
    onsets: int = 0
    moved: int = 0
    capped: int = 0

    @property
    def moved_share(self) -> float:
        return self.moved / self.onsets if self.onsets else 0.0

    def has_pitched_notes(self) -> bool:
        return any(t.notes for t in self.tracks if not t.is_drum)


def to_grid(read: list[ReadTrack], bar_steps: int = 4 * STEPS_PER_QUARTER) -> GridNotes:
    """Every track on the 16th grid (numbered from 1 in file order), cleaned as the module
    says; `bar_steps` is the length of the first bar, for dropping silent bars."""
    pitched = [r.onset for r in read if not r.is_drum]
    phase = grid_phase(np.concatenate(pitched)) if pitched else 0.0
    grid = GridNotes([])
    for index, r in enumerate(read, start=1):
        track, moved, capped = _grid_track(index, r, phase)
        grid.tracks.append(track)
        if not r.is_drum:
            grid.onsets += len(r.onset)
            grid.moved += moved
            grid.capped += capped
    return _drop_silent_bars(grid, bar_steps)


def grid_phase(onset: np.ndarray) -> float:
    """The delay, in steps, that every onset shares, when they agree on one (0 otherwise):
    the mean of the onsets' positions within their 16ths taken round the circle."""
    if not len(onset):
        return 0.0
    angle = 2 * np.pi * np.asarray(onset, np.float64) * STEPS_PER_QUARTER
    mean = complex(np.cos(angle).mean(), np.sin(angle).mean())
    phase = np.angle(mean) / (2 * np.pi)
    return float(phase) if abs(mean) >= PHASE_AGREEMENT and abs(phase) > MOVED else 0.0


def _grid_track(index: int, read: ReadTrack, phase: float) -> tuple[Track, int, int]:
    """(track, onsets moved more than a 64th, notes capped)."""
    onset = np.asarray(read.onset, np.float64) * STEPS_PER_QUARTER - phase
    end_exact = onset + np.asarray(read.length, np.float64) * STEPS_PER_QUARTER
    start = np.rint(onset).astype(np.int64)
    moved = int(np.count_nonzero(np.abs(onset - start) > MOVED))
    end = np.maximum(np.rint(end_exact).astype(np.int64), start + 1)
    too_long = end - start > MAX_NOTE_STEPS
    end[too_long] = start[too_long] + MAX_NOTE_STEPS
    start, end, pitch = _one_note_per_pitch(start, end, np.asarray(read.pitch, np.int64))
    track = Track(index, read.name.strip(), int(read.program), bool(read.is_drum), start, end,
                  pitch)
    return track, moved, int(np.count_nonzero(too_long))


def _one_note_per_pitch(start: np.ndarray, end: np.ndarray,
                        pitch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping notes of one pitch made consecutive (the earlier ends where the later
    starts; of two starting together the longer stays); the result is sorted by onset."""
    order = np.lexsort((end, start, pitch))
    start, end, pitch = start[order], end[order], pitch[order]
    same = pitch[1:] == pitch[:-1]
    overlap = np.flatnonzero(same & (start[1:] < end[:-1]))
    end[overlap] = start[overlap + 1]
    keep = end > start
    start, end, pitch = start[keep], end[keep], pitch[keep]
    by_onset = np.lexsort((pitch, start))
    return start[by_onset], end[by_onset], pitch[by_onset]


def _drop_silent_bars(grid: GridNotes, bar_steps: int) -> GridNotes:
    """The tracks moved earlier by the whole bars of silence before the first pitched note
    (drum hits of a count-in go with the silence)."""
    firsts = [int(t.start[0]) for t in grid.tracks if t.notes and not t.is_drum]
    shift = min(firsts) // bar_steps * bar_steps if firsts else 0
    if shift <= 0:
        return grid
    for t in grid.tracks:
        keep = t.start >= shift
        t.start, t.end, t.pitch = t.start[keep] - shift, t.end[keep] - shift, t.pitch[keep]
    return grid
