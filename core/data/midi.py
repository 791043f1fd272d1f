"""Reading a MIDI file with symusic (the C++ reader MidiTok is built on) into grid tracks.

symusic reads a whole file into per-track note arrays in microseconds; nothing here builds
music21 objects, so a folder of MIDI files encodes at close to the speed it is read. Type 0
files come back split into one track per channel and program; drums (channel 10) are marked
`is_drum`. Time is read in quarter notes (ticks / ticks per quarter), so tempo changes do
not move any note, and time-signature changes do not either (the encodings have no bars).

A type 0 file has one track name for all its channels, which says nothing about any one
of them: its tracks are named after their General MIDI instrument instead.

A file that cannot be used raises `MidiError` with one plain reason ("not a MIDI file",
"no pitched notes (drums only)", "notes never end", ...), never a library's message. A note
whose note-on never meets a note-off is dropped by symusic (it has no length); when that
leaves no note at all, the file is refused with "notes never end".
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import symusic

from core.data.tracks import STEPS_PER_QUARTER, FileTracks, GridNotes, ReadTrack

HEADER = b"MThd"
REPLACED = "\ufffd"  # what a decoder puts for bytes that are not UTF-8


DRUM_CHANNEL = 10  # General MIDI percussion, 1-based as in the MIDI specification


class MidiError(ValueError):
    """A MIDI file that cannot be used; the message is the plain reason."""


def read_midi(path: Path | str) -> GridNotes:
    """Every track of a MIDI file on the 16th grid (drum tracks included, marked)."""
    data = _read_bytes(path)
    notes = _tracks(data).grid()
    if not notes.has_pitched_notes():
        raise MidiError(_why_no_notes(data, notes))
    return notes


def midi_tracks(path: Path | str) -> FileTracks:
    """Every track of a MIDI file as symusic read it, named (before the grid)."""
    return _tracks(_read_bytes(path))


def _tracks(data: bytes) -> FileTracks:
    file_format, ticks_per_quarter = _check_header(data)
    try:
        score = symusic.Score.from_midi(data)
    except Exception as exc:  # symusic raises RuntimeError with its parser's text
        raise MidiError("damaged MIDI file (cut short or malformed)") from exc
    read = [_read_track(t) for t in score.tracks]
    if any(REPLACED in track.name for track in read):
        names = _legacy_names(data)
        for track in read:
            track.name = names.get(track.name, track.name)
    if file_format == 0:
        for track in read:
            track.name = "Drums" if track.is_drum else program_name(track.program)
    return FileTracks(read, _bar_steps(score), ticks_per_quarter)


def _legacy_names(data: bytes) -> dict[str, str]:
    """Track names that are not UTF-8 (older files write Latin-1: 'Spür'), which symusic
    hands over with replacement characters ('Sp\ufffdr'): {as symusic read it: as written}.
    Each track chunk's first track-name event is read from the raw bytes."""
    found: dict[str, str] = {}
    at = data.find(b"MTrk")
    while at >= 0:
        size = int.from_bytes(data[at + 4:at + 8], "big")
        chunk = data[at + 8:at + 8 + size]
        name_at = chunk.find(b"\xff\x03")
        if name_at >= 0:
            length, start = _variable_length(chunk, name_at + 2)
            raw = chunk[start:start + length]
            found[raw.decode("utf-8", errors="replace")] = raw.decode("latin-1")
        at = data.find(b"MTrk", at + 8 + size)
    return found


def _variable_length(data: bytes, at: int) -> tuple[int, int]:
    """A MIDI variable-length number at `at`: (value, where the bytes after it start)."""
    value = 0
    for end in range(at, min(at + 4, len(data))):
        value = (value << 7) | (data[end] & 0x7F)
        if not data[end] & 0x80:
            return value, end + 1
    return value, min(at + 4, len(data))


def _read_track(track) -> ReadTrack:
    """A track's notes as symusic hands them over: onsets and lengths in ticks."""
    arrays = track.notes.numpy()
    return ReadTrack(track.name, track.program, track.is_drum, arrays["time"],
                     arrays["duration"], arrays["pitch"])


@lru_cache(maxsize=128)
def program_name(program: int) -> str:
    """The General MIDI instrument of a program number, as music21 names it."""
    from music21 import instrument

    try:
        name = instrument.instrumentFromMidiProgram(program).instrumentName
    except Exception:  # noqa: BLE001 - music21 has no instrument for a few programs
        name = ""
    return name if name and name != "Sampler" else f"program {program}"


def _read_bytes(path: Path | str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise MidiError("cannot be opened") from exc


def _check_header(data: bytes) -> tuple[int, int]:
    """(format, ticks per quarter note) from the header, or MidiError saying what is wrong
    with it."""
    head = data[:14]
    if not head:
        raise MidiError("empty file")
    if head[:4] != HEADER or len(head) < 14:
        raise MidiError("not a MIDI file")
    division = int.from_bytes(head[12:14], "big")
    if division & 0x8000:
        raise MidiError("timed in SMPTE frames, not in beats (no quarter notes to place "
                        "notes on)")
    if division == 0:
        raise MidiError("broken timing (0 ticks per quarter note)")
    return int.from_bytes(head[8:10], "big"), division


def _bar_steps(score) -> int:
    """16ths in a bar of the first time signature (4/4 when there is none or it is absurd)."""
    for sig in score.time_signatures:
        if sig.numerator > 0 and sig.denominator in (1, 2, 4, 8, 16, 32):
            return max(1, sig.numerator * 4 * STEPS_PER_QUARTER // sig.denominator)
        break
    return 4 * STEPS_PER_QUARTER


def _why_no_notes(data: bytes, notes: GridNotes) -> str:
    """The plain reason a readable file has no pitched note."""
    if any(t.notes for t in notes.tracks):
        return "no pitched notes (drums only)"
    started, ended = _note_events(data)
    if started and not ended:
        return "notes never end (note-ons without note-offs)"
    return "no notes"


def _note_events(data: bytes) -> tuple[int, int]:
    """(pitched note-ons, note-offs) counted event by event with music21's MIDI parser:
    slow, so only asked when symusic found no note, to tell why."""
    from music21 import midi

    mf = midi.MidiFile()
    try:
        mf.readstr(data)
    except Exception:  # noqa: BLE001 - symusic read it; music21 is only asked why
        return 0, 0
    on, off = midi.ChannelVoiceMessages.NOTE_ON, midi.ChannelVoiceMessages.NOTE_OFF
    started = ended = 0
    for track in mf.tracks:
        for event in track.events:
            if event.type == on and event.velocity and event.channel != DRUM_CHANNEL:
                started += 1
            elif event.type == off or (event.type == on and not event.velocity):
                ended += 1
    return started, ended
