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
from typing import Sequence

import numpy as np

from core.data.symbols import STEP

STEPS_PER_QUARTER = round(1 / STEP)


MAX_NOTE_STEPS = 16 * STEPS_PER_QUARTER


Notes = tuple[np.ndarray, np.ndarray, np.ndarray]  # onset steps, end steps, MIDI pitches


MOVED = 0.25  # of a step: a 64th note


PHASE_AGREEMENT = 0.9  # how closely onsets must share one offset for it to be a delay


@dataclass
class ReadTrack:
    """One track as a library read it: onsets and lengths in quarter notes, or in ticks
    (`to_grid` is told how many make a quarter), as the library hands them over."""

    name: str
    program: int
    is_drum: bool
    onset: np.ndarray
    length: np.ndarray
    pitch: np.ndarray


@dataclass
class FileTracks:
    """A file's tracks as its reader hands them to `to_grid`: the tracks, the 16ths in its
    first bar, and how many units of their onsets make a quarter note."""

    read: list[ReadTrack]
    bar_steps: int = 4 * STEPS_PER_QUARTER
    per_quarter: int = 1

    def grid(self) -> GridNotes:
        return to_grid(self.read, self.bar_steps, self.per_quarter)


def joined(files: Sequence[FileTracks]) -> FileTracks:
    """Several files' tracks as one file's, on one time line from each file's start (in
    quarter notes, whatever each file's ticks), numbered on from one file to the next: a
    song given as a lead file and an accompaniment file is read as one, so the silent bars
    both open with are dropped alike and the two halves stay together."""
    read = [ReadTrack(r.name, r.program, r.is_drum,
                      np.asarray(r.onset, np.float64) / f.per_quarter,
                      np.asarray(r.length, np.float64) / f.per_quarter, r.pitch)
            for f in files for r in f.read]
    return FileTracks(read, files[0].bar_steps if files else 4 * STEPS_PER_QUARTER)


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

    @property
    def label(self) -> str:
        """How reports name the track: its name and number."""
        return f"{self.name or 'unnamed'} (#{self.index})"


@dataclass
class GridNotes:
    """A file's tracks on the grid, with what putting them there changed (pitched notes).

    `track`, `start`, `end` and `pitch` hold every note of the file, sorted by track, onset
    and pitch (`track` is the position in `tracks`); each Track's arrays are views of them.
    """

    tracks: list[Track]
    track: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    onsets: int = 0
    moved: int = 0
    capped: int = 0
    bar_steps: int = 4 * STEPS_PER_QUARTER  # the first bar's length; bars start at step 0

    @property
    def moved_share(self) -> float:
        return self.moved / self.onsets if self.onsets else 0.0

    def has_pitched_notes(self) -> bool:
        return any(t.notes for t in self.tracks if not t.is_drum)


def to_grid(read: list[ReadTrack], bar_steps: int = 4 * STEPS_PER_QUARTER,
            per_quarter: int = 1) -> GridNotes:
    """Every track on the 16th grid (numbered from 1 in file order), cleaned as the module
    says; `bar_steps` is the length of the first bar, for dropping silent bars, and
    `per_quarter` how many units of the tracks' onsets and lengths make a quarter note (a
    MIDI file's ticks per quarter). All tracks are worked on at once, as one array of notes,
    so a file costs a few dozen array operations, whatever its number of notes."""
    sizes = [len(r.onset) for r in read]
    is_drum = np.array([r.is_drum for r in read], bool)
    pitched = (~is_drum).repeat(sizes)
    start, length, counts = _rounded(read, per_quarter, pitched)
    track, start, end, pitch = _one_note_per_pitch(np.arange(len(read)).repeat(sizes), start,
                                                   length, _joined([r.pitch for r in read]))
    cuts = np.searchsorted(track, np.arange(len(read) + 1))
    shift = _silent_bars(start, cuts, ~is_drum, bar_steps)
    if shift:
        keep = start >= shift
        track, start, end, pitch = track[keep], start[keep] - shift, end[keep] - shift, pitch[keep]
        cuts = np.searchsorted(track, np.arange(len(read) + 1))
    at = cuts.tolist()
    tracks = [Track(i + 1, r.name.strip(), int(r.program), bool(r.is_drum),
                    start[at[i]:at[i + 1]], end[at[i]:at[i + 1]], pitch[at[i]:at[i + 1]])
              for i, r in enumerate(read)]
    return GridNotes(tracks, track, start, end, pitch, **counts, bar_steps=bar_steps)


def _rounded(read: list[ReadTrack], per_quarter: int,
             pitched: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(onsets, lengths) of all notes in whole steps, moved back by a shared delay, rounded
    and capped as the module says, with the counts of pitched onsets, of those moved by more
    than a 64th and of capped notes. Files on the grid skip the delay and the moved count."""
    onset = _joined([r.onset for r in read], np.float64) / per_quarter * STEPS_PER_QUARTER
    exact_end = onset + (_joined([r.length for r in read], np.float64) / per_quarter
                         * STEPS_PER_QUARTER)
    start, moved = np.rint(onset), 0
    if np.count_nonzero((start != onset) & pitched):
        phase = grid_phase(onset[pitched])
        if phase:
            onset, exact_end = onset - phase, exact_end - phase
            start = np.rint(onset)
        moved = int(np.count_nonzero((np.abs(onset - start) > MOVED) & pitched))
    start = start.astype(np.int64)
    length = np.rint(exact_end).astype(np.int64) - start
    capped = int(np.count_nonzero((length > MAX_NOTE_STEPS) & pitched))
    np.maximum(np.minimum(length, MAX_NOTE_STEPS, out=length), 1, out=length)
    return start, length, dict(onsets=int(np.count_nonzero(pitched)), moved=moved,
                               capped=capped)


def _joined(arrays: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def grid_phase(onset: np.ndarray) -> float:
    """The delay, in steps, that every onset (in steps) shares, when they agree on one
    (0 otherwise): the mean of their positions within their 16ths taken round the circle."""
    if not len(onset) or (onset == np.rint(onset)).all():
        return 0.0
    angle = 2 * np.pi * onset
    mean = complex(np.cos(angle).mean(), np.sin(angle).mean())
    phase = np.angle(mean) / (2 * np.pi)
    return float(phase) if abs(mean) >= PHASE_AGREEMENT and abs(phase) > MOVED else 0.0


def _one_note_per_pitch(track: np.ndarray, start: np.ndarray, length: np.ndarray,
                        pitch: np.ndarray) -> tuple[np.ndarray, ...]:
    """(track, start, end, pitch) sorted by track, onset and pitch, with overlapping notes of
    one pitch in one track made consecutive (the earlier ends where the later starts; of two
    starting together the longer stays).

    One sort by track, onset, pitch and length (fast: a MIDI track comes in time order), then
    a stable sort of that order by track and pitch alone (a radix sort of small numbers)
    brings each pitch's notes together in time order, where overlaps are next to each other.
    """
    if not len(track):
        return track, start, start + length, pitch
    low, span = int(pitch.min()), int(pitch.max()) - int(pitch.min()) + 1
    above = pitch - low
    order = sort_order(track, start, above, length,  # onsets and lengths are >= 0
                       tops=(int(track[-1]), int(start.max()), span - 1, MAX_NOTE_STEPS))
    track, start, pitch, above = track[order], start[order], pitch[order], above[order]
    end = start + length[order]
    voice = track * span + above
    small = (int(track[-1]) + 1) * span <= 1 << 16
    by_voice = np.argsort(voice.astype(np.uint16) if small else voice, kind="stable")
    earlier, later = by_voice[:-1], by_voice[1:]
    overlap = (voice[later] == voice[earlier]) & (start[later] < end[earlier])
    if not overlap.any():
        return track, start, end, pitch
    end[earlier[overlap]] = start[later[overlap]]
    keep = end > start
    return track[keep], start[keep], end[keep], pitch[keep]


def sort_order(*keys: np.ndarray, tops: Sequence[int] | None = None) -> np.ndarray:
    """The order that sorts by the first key, then the next...: one stable argsort of the
    keys packed into one int64 when they are non-negative and fit in 63 bits together
    (several times faster than np.lexsort on the note arrays of a file), else np.lexsort.
    `tops` are the keys' largest values where the caller knows them (and that none is
    negative), which spares looking for them."""
    if tops is None:
        if not len(keys[0]) or min(int(k.min()) for k in keys) < 0:
            return np.lexsort(keys[::-1])
        tops = [int(k.max()) for k in keys]
    widths = [int(top).bit_length() for top in tops]
    if sum(widths) > 63:
        return np.lexsort(keys[::-1])
    combined = keys[0].astype(np.int64)
    for key, width in zip(keys[1:], widths[1:]):
        combined = (combined << width) | key
    return np.argsort(combined, kind="stable")


def _silent_bars(start: np.ndarray, cuts: np.ndarray, pitched: np.ndarray,
                 bar_steps: int) -> int:
    """The steps of the whole bars of silence before the first note of a pitched track
    (`pitched` per track; `cuts` where each track's notes begin, sorted by onset); drum hits
    of a count-in go with the silence."""
    first = cuts[:-1][pitched & (cuts[1:] > cuts[:-1])]
    return int(start[first].min()) // bar_steps * bar_steps if len(first) else 0
