"""Reading one score file with music21 and splitting it into lead and accompaniment.

The default corpus is the Bach chorales bundled with music21 (soprano = lead, lower voices
merged into chords = accompaniment). A user's file is read the thesis's way: drums dropped,
lead = the part whose name says so, else the higher-sounding part. A file that cannot be used
gives a plain reason instead of an exception.
"""
from __future__ import annotations

import os
from dataclasses import asdict

from music21 import converter, instrument, note, stream

from core.data.corpus import PartData
from core.data.encoding import encode_events, encode_steps

LEAD_WORDS = ("lead", "melody", "melodia", "soprano", "vocal", "voice", "voz", "solo")
CHORALE_VOICES = ("soprano", "alto", "tenor", "bass")  # instrumental doublings are left out


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


def _mean_pitch(part: stream.Stream) -> float:
    midis = [p.midi for n in part.recurse().notes for p in getattr(n, "pitches", ())]
    return sum(midis) / len(midis) if midis else -1.0


def _named_lead(part: stream.Part) -> bool:
    inst = part.getInstrument(returnDefault=False, recurse=True)
    name = " ".join(filter(None, [part.partName, getattr(inst, "instrumentName", None)])).lower()
    return any(word in name for word in LEAD_WORDS)


def split_parts(score: stream.Score, layout: str) -> tuple[stream.Stream, stream.Stream | None]:
    """(lead, accompaniment) of a score, or ValueError with the reason it cannot be used."""
    parts = [p for p in score.parts if p.recurse().notes] if score.parts else []
    if not parts and score.recurse().notes:
        parts = [score]
    if layout == "chorale":
        voices = [p for p in parts if (p.partName or "").lower() in CHORALE_VOICES] or parts[:4]
        if len(voices) < 2:
            raise ValueError(f"a chorale needs a soprano and lower voices, found {len(voices)}")
        return voices[0], stream.Score(voices[1:]).chordify()
    pitched = [p for p in parts if not _is_drums(p)]
    if not parts:
        raise ValueError("no notes")
    if not pitched:
        raise ValueError("drums only")
    if len(pitched) > 2:
        raise ValueError(f"{len(pitched)} instruments (at most two are used)")
    if len(pitched) == 1:
        return pitched[0].chordify(), None
    named = [p for p in pitched if _named_lead(p)]
    lead = named[0] if len(named) == 1 else max(pitched, key=_mean_pitch)
    other = pitched[1] if lead is pitched[0] else pitched[0]
    return lead.chordify(), other.chordify()


def _encode_part(part: stream.Stream, chord_mode: str) -> PartData:
    pitch, duration = encode_events(part, chord_mode)
    return PartData(encode_steps(part, chord_mode), pitch, duration)


def read_piece(path: str, layout: str, chord_mode: str) -> tuple[dict | None, str]:
    """Parse and encode one file: (piece fields, "") when kept, (None, reason) when skipped.

    Runs in worker processes, so it returns plain data and never raises for a bad file.
    """
    try:
        if os.path.getsize(path) == 0:
            return None, "empty file"
        score = converter.parse(path, forceSource=True)
    except Exception as exc:  # music21 raises many types for unreadable files
        return None, f"could not be read ({type(exc).__name__}: {str(exc)[:120] or 'no detail'})"
    if not isinstance(score, stream.Score):
        score = stream.Score([score])
    try:
        lead, accompaniment = split_parts(score, layout)
        lead_data = _encode_part(lead, chord_mode)
        acc_data = _encode_part(accompaniment, chord_mode) if accompaniment is not None else None
    except ValueError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the whole corpus
        return None, f"could not be encoded ({type(exc).__name__}: {str(exc)[:120]})"
    if not any(s not in ("r", "_") for s in lead_data.steps):
        return None, "no notes"
    return {"lead": asdict(lead_data), "accompaniment": acc_data and asdict(acc_data)}, ""
