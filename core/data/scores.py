"""Reading score files with music21: the bundled chorales, and a user's MusicXML / ABC / kern.

The default corpus is the Bach chorales bundled with music21 (soprano = lead, lower voices
merged into chords = accompaniment), encoded from the music21 streams with their exact
notated durations. A user's score file is read into grid tracks (`core.data.tracks`), the
same form the MIDI reader gives, so roles and encodings follow one rule for every format.
A file that cannot be used gives a plain reason instead of an exception.
"""
from __future__ import annotations

import os
from dataclasses import asdict

from music21 import converter, instrument, note, stream

from core.data.corpus import PartData
from core.data.encoding import encode_events, encode_steps
from core.data.metre import Metre
from core.data.notes import note_table
from core.data.tracks import STEPS_PER_QUARTER, FileTracks, GridNotes, ReadTrack

CHORALE_VOICES = ("soprano", "alto", "tenor", "bass")  # instrumental doublings are left out


class ScoreError(ValueError):
    """A score file that cannot be used; the message is the plain reason."""


def _is_drums(part: stream.Part) -> bool:
    """A percussion part: an unpitched-percussion instrument or MIDI channel 10 anywhere in
    the part, or nothing but unpitched notes.

    music21 puts the instruments it reads from a MIDI track inside the first measure, so
    they are searched recursively (a MIDI channel-10 track gets an UnpitchedPercussion with
    midiChannel 9 there, and its notes are read as note.Unpitched).
    """
    for inst in part.recurse().getElementsByClass(instrument.Instrument):
        if isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == 9:
            return True
    sounding = list(part.recurse().notes)
    return bool(sounding) and all(isinstance(n, note.Unpitched) or "Percussion" in type(n).__name__
                                  for n in sounding)


def parse_score(path: str) -> stream.Score:
    """A score file as a music21 Score, or ScoreError with a plain reason."""
    try:
        if os.path.getsize(path) == 0:
            raise ScoreError("empty file")
        score = converter.parse(path, forceSource=True)
    except ScoreError:
        raise
    except Exception as exc:  # music21 raises many types for unreadable files
        raise ScoreError("not a readable score (MusicXML, ABC or kern)") from exc
    return score if isinstance(score, stream.Score) else stream.Score([score])


def chorale_voices(score: stream.Score) -> list[stream.Part]:
    """The sung voices of a chorale, soprano first, or ScoreError."""
    parts = [p for p in score.parts if p.recurse().notes] if score.parts else []
    voices = [p for p in parts if (p.partName or "").lower() in CHORALE_VOICES] or parts[:4]
    if len(voices) < 2:
        raise ScoreError(f"a chorale needs a soprano and lower voices, found {len(voices)}")
    return voices


def _encode_part(part: stream.Stream, chord_mode: str) -> PartData:
    pitch, duration = encode_events(part, chord_mode)
    return PartData(encode_steps(part, chord_mode), pitch, duration)


def encode_chorale(score: stream.Score, chord_mode: str,
                   lead_line: str = "top") -> tuple[dict, str, str, Metre]:
    """({"lead": ..., "accompaniment": ...} as plain data, lead voice, lower voices, metre)
    of a chorale, or ScoreError. Ties are merged first: a tied note is one note held (the
    hold symbol), as a MIDI file stores it. The soprano is one line ("top": where it
    splits, the note written first); "whole" keeps both notes of a split as a chord."""
    sung = chorale_voices(score)
    voices = [v.flatten().stripTies() for v in sung]
    soprano = voices[0].chordify() if lead_line == "whole" else voices[0]
    lead = _encode_part(soprano, chord_mode)
    if not any(s not in ("r", "_") for s in lead.steps):
        raise ScoreError("no notes")
    lower = stream.Score(voices[1:]).chordify()
    names = [v.partName or f"part {i}" for i, v in enumerate(voices, start=1)]
    return ({"lead": asdict(lead), "accompaniment": asdict(_encode_part(lower, chord_mode))},
            names[0], " + ".join(names[1:]), voice_metre(sung[0]))


def voice_metre(voice: stream.Stream) -> Metre:
    """A voice's bar length and first downbeat in 16ths: after a pickup measure (shorter
    than its bar, as most chorales begin), else at its start."""
    measures = list(voice.getElementsByClass(stream.Measure))
    signature = voice.recurse().getElementsByClass("TimeSignature").first()
    if signature is None or not measures:
        return Metre()
    bar = float(signature.barDuration.quarterLength)
    first = float(measures[0].duration.quarterLength)
    downbeat = first if 0 < first < bar else 0.0
    return Metre(max(1, round(bar * STEPS_PER_QUARTER)), round(downbeat * STEPS_PER_QUARTER))


def read_chorale(path: str, chord_mode: str,
                 lead_line: str = "top") -> tuple[dict, str, str, Metre]:
    """A bundled chorale encoded from its music21 streams (`encode_chorale`)."""
    return encode_chorale(parse_score(path), chord_mode, lead_line)


def score_tracks(path: str) -> GridNotes:
    """A user's MusicXML / ABC / kern file as grid tracks, one per part (ties merged)."""
    grid = score_read(path).grid()
    if not grid.has_pitched_notes():
        raise ScoreError("no pitched notes (drums only)" if any(t.notes for t in grid.tracks)
                         else "no notes")
    return grid


def score_read(path: str) -> FileTracks:
    """A score file's parts as tracks in quarter notes, before the grid."""
    score = parse_score(path)
    read = []
    for index, part in enumerate(list(score.parts) or [score], start=1):
        table = note_table(part, f"part{index}")
        inst = part.getInstrument(returnDefault=False, recurse=True)
        onset = table["start"].to_numpy(float)
        read.append(ReadTrack(part.partName or getattr(inst, "instrumentName", None) or "",
                              getattr(inst, "midiProgram", None) or 0, _is_drums(part), onset,
                              table["end"].to_numpy(float) - onset,
                              table["pitch"].to_numpy(int)))
    return FileTracks(read, _bar_steps(score))


def _bar_steps(score: stream.Score) -> int:
    signatures = list(score.recurse().getElementsByClass("TimeSignature"))
    if not signatures:
        return 4 * STEPS_PER_QUARTER
    return max(1, round(float(signatures[0].barDuration.quarterLength) * STEPS_PER_QUARTER))
