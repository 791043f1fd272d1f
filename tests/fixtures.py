"""Tiny scores built with music21 at test time (no binary fixtures in the repository).

A part is described as a list of events, each `(pitches, quarter_length)` appended in order,
or `(offset, pitches, quarter_length)` inserted at an offset; `pitches` is a MIDI number (a
note), a list of MIDI numbers (a chord) or None (a rest).

`toy_corpus` is an already encoded corpus written out by hand, for tests that need exact
counts and lengths without parsing anything.
"""
from __future__ import annotations

import io
import random
import stat
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence, Union

from music21 import chord, instrument, midi, note, pitch, stream
from music21.midi import translate

from core.data.corpus import Corpus, FileReport, PartData, Piece

Pitches = Union[int, Sequence[int], None]
Event = Union[tuple[Pitches, float], tuple[float, Pitches, float]]

LOW = [48, 50, 52, 53, 55, 53, 52, 50]       # C3 D3 E3 F3 G3 F3 E3 D3
HIGH = [72, 74, 76, 77, 79, 77, 76, 74]      # the same tune two octaves up
MID = [[60, 64], [62, 65], [64, 67], [60, 64]]  # thirds around C4
MID_EVENTS: list[Event] = [(c, 1.0) for c in MID]


def element(pitches: Pitches, quarter_length: float | Fraction) -> note.GeneralNote:
    if pitches is None:
        return note.Rest(quarterLength=quarter_length)
    if isinstance(pitches, int):
        return note.Note(pitch.Pitch(midi=pitches), quarterLength=quarter_length)
    return chord.Chord([pitch.Pitch(midi=m) for m in pitches], quarterLength=quarter_length)


def make_part(events: Iterable[Event], name: str | None = None,
              inst: instrument.Instrument | None = None) -> stream.Part:
    """A part from events; appended `(pitches, ql)` and inserted `(offset, pitches, ql)` mix."""
    part = stream.Part()
    if inst is not None or name is not None:
        inst = inst or instrument.Piano()
        if name is not None:
            inst.partName = name  # music21 writes this as the MIDI track name
        part.insert(0, inst)
    if name is not None:
        part.partName = name
    for event in events:
        if len(event) == 3:
            offset, pitches, ql = event
            part.insert(offset, element(pitches, ql))
        else:
            pitches, ql = event
            part.append(element(pitches, ql))
    return part


def melody(midis: Sequence[int], ql: float = 1.0) -> list[Event]:
    return [(m, ql) for m in midis]


def write_score(path: Path, parts: Sequence[tuple[str, Sequence[Event]]],
                fmt: str = "midi") -> Path:
    """Write named parts as one score ('midi' or 'musicxml'); returns the path."""
    score = stream.Score()
    for name, events in parts:
        score.insert(0, make_part(events, name=name))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    score.write(fmt, fp=str(path))
    return path


def midi_bytes(midis: Sequence[int] = LOW[:4], name: str = "Piano") -> bytes:
    """A small valid one-track MIDI file, as bytes."""
    score = stream.Score([make_part(melody(midis), name=name)])
    return translate.streamToMidiFile(score).writestr()


def _raw_track(index: int, name: str, channel: int, midis: Sequence[int],
               program: int = 0, ticks: int = 480) -> midi.MidiTrack:
    """One MIDI track written event by event, so the channel is exactly the one asked for
    (channel is 1-16 as in the MIDI spec; 10 is General MIDI percussion)."""
    track = midi.MidiTrack(index)

    def add(kind, time: int = 0, **fields) -> None:
        track.events.append(midi.DeltaTime(track, time=time))
        event = midi.MidiEvent(track, type=kind, channel=channel)
        for key, value in fields.items():
            setattr(event, key, value)
        track.events.append(event)

    add(midi.MetaEvents.SEQUENCE_TRACK_NAME, data=name.encode())
    add(midi.ChannelVoiceMessages.PROGRAM_CHANGE, data=program)
    for m in midis:
        add(midi.ChannelVoiceMessages.NOTE_ON, pitch=m, velocity=90)
        add(midi.ChannelVoiceMessages.NOTE_OFF, time=ticks, pitch=m, velocity=0)
    add(midi.MetaEvents.END_OF_TRACK, data=b"")
    track.updateEvents()
    return track


def write_channel_midi(path: Path, tracks: Sequence[tuple[str, int, Sequence[int]]]) -> Path:
    """A MIDI file from (track name, channel 1-16, MIDI numbers as quarter notes) tracks."""
    mf = midi.MidiFile()
    mf.ticksPerQuarterNote = 480
    mf.format = 1
    mf.tracks = [_raw_track(i, name, ch, midis) for i, (name, ch, midis) in
                 enumerate(tracks, start=1)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mf.open(str(path), "wb")
    mf.write()
    mf.close()
    return path


def write_drums(path: Path, with_piano: bool = False) -> Path:
    """Kick/snare/hi-hat on channel 10, optionally beside a piano track on channel 1."""
    tracks = [("Kit", 10, [36, 42, 38, 42, 36, 42, 38, 42])]
    if with_piano:
        tracks.insert(0, ("Keys", 1, LOW))
    return write_channel_midi(path, tracks)


def write_corrupt(path: Path, size: int = 2000, seed: int = 0) -> Path:
    """Random bytes under a score suffix."""
    rng = random.Random(seed)
    Path(path).write_bytes(bytes(rng.randrange(256) for _ in range(size)))
    return Path(path)


def write_empty(path: Path) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def build_mixed_folder(folder: Path) -> dict[str, Path]:
    """The corpus of test_corpus: each kind of file a user might drop in a folder."""
    folder = Path(folder)
    files = {
        "two.mid": write_score(folder / "two.mid", [("Keys", melody(LOW)),
                                                    ("Strings", melody(HIGH))]),
        "melody_low.mid": write_score(folder / "melody_low.mid",
                                      [("Pad", melody(HIGH)), ("Melody", melody(LOW))]),
        "one.mid": write_score(folder / "one.mid", [("Piano", melody(LOW) + MID_EVENTS)]),
        "band.mid": write_drums(folder / "band.mid", with_piano=True),
        "sub/duet.musicxml": write_score(folder / "sub" / "duet.musicxml",
                                         [("Violin", melody(HIGH)), ("Cello", melody(LOW))],
                                         fmt="musicxml"),
        "corrupt.mid": write_corrupt(folder / "corrupt.mid"),
        "empty.mid": write_empty(folder / "empty.mid"),
        "drums.mid": write_drums(folder / "drums.mid"),
        "three.mid": write_score(folder / "three.mid", [("A", melody(HIGH)), ("B", melody(LOW)),
                                                        ("C", MID_EVENTS)]),
    }
    (folder / "notes.txt").write_text("not a score")
    return files


def zip_bytes(members: Sequence[tuple[str, bytes]] | dict[str, bytes],
              symlinks: dict[str, str] | None = None,
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip held in memory; `symlinks` maps member names to link targets (Unix mode bits)."""
    items = list(members.items()) if isinstance(members, dict) else list(members)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in items:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix, so the mode bits mean what they say
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def understate_sizes(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite one member's uncompressed size in both its local header and the central
    directory, as a zip bomb would (the real data is left as it is)."""
    blob = bytearray(data)
    name = member.encode()
    # (signature, offset of the uncompressed size, of the name length, of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                                   (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (at := blob.find(signature, start)) >= 0:
            length = int.from_bytes(blob[at + length_at: at + length_at + 2], "little")
            if blob[at + name_at: at + name_at + length] == name:
                blob[at + size_at: at + size_at + 4] = declared.to_bytes(4, "little")
            start = at + 4
    return bytes(blob)


def toy_corpus() -> Corpus:
    """Three encoded pieces and one skipped file. Lead steps: a 6 (train), b 12 (held out),
    c 2 (train); only a has an accompaniment (6 steps, one chord event)."""
    a = Piece("a", "a.mid", "train",
              PartData(["60", "_", "_", "r", "62", "_"], ["60", "r", "62"], ["0.75", "0.25", "0.5"]),
              PartData(["0.4.7", "_", "_", "_", "_", "_"], ["0.4.7"], ["1.5"]))
    b = Piece("b", "b.mid", "validation",
              PartData(["64", "_", "_", "_", "_", "_", "_", "_", "_", "_", "_", "_"],
                       ["64"], ["3.0"]), None)
    c = Piece("c", "c.mid", "train", PartData(["60", "_"], ["60"], ["0.5"]), None)
    report = [FileReport("a.mid", "kept", ""), FileReport("x.mid", "skipped", "drums only"),
              FileReport("b.mid", "kept", ""), FileReport("c.mid", "kept", "")]
    return Corpus("toy", "k", {}, [a, b, c], report)


# --- MIDI written event by event (messy files), and real music exported to MIDI -----------

QUARTER = 480  # ticks per quarter note of the files written here


def _vlq(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_track_chunk(events: Iterable[tuple[int, bytes]]) -> bytes:
    """An MTrk chunk from (absolute tick, event bytes); ends with end-of-track."""
    data, now = b"", 0
    for tick, event in sorted(events, key=lambda e: e[0]):
        data += _vlq(tick - now) + event
        now = tick
    data += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(data).to_bytes(4, "big") + data


def smf_bytes(tracks: Sequence[Iterable[tuple[int, bytes]]], division: int = QUARTER,
              fmt: int = 1) -> bytes:
    """A Standard MIDI File: header (format, track count, ticks per quarter or any 16-bit
    division, e.g. 0 or an SMPTE one) and one chunk per track of (tick, event bytes)."""
    header = b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") \
        + len(tracks).to_bytes(2, "big") + division.to_bytes(2, "big")
    return header + b"".join(midi_track_chunk(t) for t in tracks)


def track_name(name: str) -> tuple[int, bytes]:
    return 0, b"\xff\x03" + _vlq(len(name.encode())) + name.encode()


def tempo(tick: int, bpm: float) -> tuple[int, bytes]:
    return tick, b"\xff\x51\x03" + round(60_000_000 / bpm).to_bytes(3, "big")


def time_signature(tick: int, numerator: int, denominator: int) -> tuple[int, bytes]:
    return tick, bytes([0xFF, 0x58, 4, numerator, denominator.bit_length() - 1, 24, 8])


def note_events(notes: Iterable[tuple[float, float, int]], channel: int = 1,
                program: int = 0, name: str | None = None, ends: bool = True,
                ticks: int = QUARTER) -> list[tuple[int, bytes]]:
    """Events of (onset, length in quarters, MIDI pitch) notes on `channel` (1-16; 10 is
    drums); `ends=False` leaves out every note-off."""
    status = channel - 1
    events = [track_name(name)] if name is not None else []
    events.append((0, bytes([0xC0 | status, program])))
    for onset, length, midi_number in notes:
        start = round(onset * ticks)
        events.append((start, bytes([0x90 | status, midi_number, 90])))
        if ends:
            events.append((start + round(length * ticks), bytes([0x80 | status, midi_number, 0])))
    # note-offs before note-ons of the same tick, so a re-struck note stays two notes
    return sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80))


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def line(pitches: Sequence[int], length: float = 1.0, start: float = 0.0):
    """A melody of equal notes as (onset, length, pitch) notes."""
    return [(start + i * length, length, p) for i, p in enumerate(pitches)]


def drum_notes(quarters: float) -> list[tuple[float, float, int]]:
    """Kick on the beat, hi-hat on the off-beat, for `quarters` quarter notes."""
    out = []
    for beat in range(int(quarters)):
        out += [(beat, 0.25, 36 if beat % 2 == 0 else 38), (beat + 0.5, 0.25, 42)]
    return out


def work_parts(work: str, measures: int = 8) -> list[tuple[str, list[tuple[float, float, int]]]]:
    """(part name, notes) of the first measures of a work in music21's bundled corpus
    (string quartets, madrigals, chorales): real music that nobody here wrote."""
    from music21 import corpus

    score = corpus.parse(work).measures(1, measures)
    parts = []
    for part in score.parts:
        flat = part.stripTies().flatten()
        notes = [(float(n.getOffsetBySite(flat)), float(n.quarterLength), p.midi)
                 for n in flat.notes if n.quarterLength > 0 for p in n.pitches]
        parts.append((part.partName or "", notes))
    return parts


def write_multitrack(path: Path, parts, drums: bool = False, pad: bool = False,
                     fmt: int = 1) -> Path:
    """A band arrangement of real parts: one track per part (channels 1, 2, ...), optionally
    with a drum kit on channel 10 and a sustained string pad (an extra instrument whose
    chords sit above everything); `fmt=0` writes them all into one track."""
    length = max((o + d for _, notes in parts for o, d, _ in notes), default=4.0)
    channels = [c for c in range(1, 17) if c != 10]
    tracks = [note_events(notes, channel=channels[i], program=40 + i, name=name)
              for i, (name, notes) in enumerate(parts)]
    if pad:
        chords = [(bar, 4.0, p) for bar in range(0, int(length), 4) for p in (84, 88, 91)]
        tracks.append(note_events(chords, channel=channels[len(parts)], program=48,
                                  name="Strings pad"))
    if drums:
        tracks.append(note_events(drum_notes(length), channel=10, name="Drums"))
    if fmt == 0:
        tracks = [[e for t in tracks for e in t]]
    return write_bytes(path, smf_bytes(tracks, fmt=fmt))


def write_piano(path: Path, parts, name: str = "Piano") -> Path:
    """Every part of a work played by one piano track (both hands in one track)."""
    notes = [n for _, part in parts for n in part]
    return write_bytes(path, smf_bytes([note_events(notes, name=name)]))


def rule_encoding(start, end, pitch, chord_mode: str = "pitch_class") -> dict[str, list[str]]:
    """A part's streams by the encoding rule spelled out slice by slice (slow, plain): cut at
    every onset and end, name the pitches sounding in each slice, hold it for its 16ths. The
    reference the array encoder (`encode_parts`) must match symbol for symbol."""
    from core.data.symbols import HOLD, duration_symbol, pitch_symbol

    notes = list(zip(*(list(map(int, column)) for column in (start, end, pitch))))
    bounds = sorted({0, *(s for s, _, _ in notes), *(e for _, e, _ in notes)})
    streams: dict[str, list[str]] = {"steps": [], "pitch": [], "duration": []}
    for here, there in zip(bounds, bounds[1:]):
        symbol = pitch_symbol([p for s, e, p in notes if s <= here < e], chord_mode)
        streams["steps"] += [symbol] + [HOLD] * (there - here - 1)
        streams["pitch"].append(symbol)
        streams["duration"].append(duration_symbol(Fraction(there - here, 4)))
    return streams
