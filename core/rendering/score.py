"""The thesis plays the separately generated lead and accompaniment together: this module puts
them into one score and writes it as MIDI and MusicXML. The staves' display names ('Lead',
'Accompaniment') live here only; a note table of the score names its parts 'lead' and
'accompaniment' (core.data.notes.part_name).
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

from music21 import instrument, meter, note, stream, tempo

from core.data.corpus import ACCOMPANIMENT, LEAD

STAFF_NAMES = {LEAD: "Lead", ACCOMPANIMENT: "Accompaniment"}
BAR = 4.0  # quarter lengths in a 4/4 bar
TEMPO_BPM = 90  # every generated piece and listening clip: one tempo, so only notes differ


class RenderError(RuntimeError):
    """An output could not be produced; the message says what to install or check."""


def _fresh_part(source: stream.Part, name: str, length: float) -> stream.Part:
    """A flat copy of a part's notes and rests, padded with a rest to `length`.

    Copies, so engraving (which splits and ties notes at barlines) never alters the caller's
    part; padding, so both staves end on the same bar and engrave as one system.
    """
    part = stream.Part(id=name)
    piano = instrument.Piano()  # the piano's own name would label later systems "Pno."
    piano.partName, piano.partAbbreviation = name, name[:4] + "."
    part.partName, part.partAbbreviation = name, piano.partAbbreviation
    part.insert(0, piano)
    part.insert(0, meter.TimeSignature("4/4"))
    flat = source.flatten()
    for element in flat.notesAndRests:
        part.insert(element.getOffsetBySite(flat), copy.deepcopy(element))
    end = part.highestTime
    if end < length:
        part.insert(end, note.Rest(quarterLength=length - end))
    return part


def combine_parts(lead: stream.Part, accompaniment: stream.Part | None,
                  tempo_bpm: float = TEMPO_BPM) -> stream.Score:
    """One piano score of the two generated parts, both from offset 0, ready to engrave.

    The thesis generates the parts independently, so they are simply laid side by side; the
    tempo is the only timing they share.
    """
    sources = [(lead, STAFF_NAMES[LEAD])]
    if accompaniment is not None:
        sources.append((accompaniment, STAFF_NAMES[ACCOMPANIMENT]))
    longest = max(float(p.flatten().highestTime) for p, _ in sources)
    length = max(BAR, math.ceil(longest / BAR) * BAR)
    score = stream.Score()
    for source, name in sources:
        score.insert(0, _fresh_part(source, name, length))
    score.parts[0].insert(0, tempo.MetronomeMark(number=tempo_bpm))
    return score.makeNotation()


def _write(score: stream.Score, fmt: str, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = score.write(fmt, fp=path)
    except Exception as exc:  # music21 raises many exception types for unwritable content
        raise RenderError(f"could not write {fmt} to {path}: {exc}") from exc
    return Path(written)


def write_midi(score: stream.Score, path: Path | str) -> Path:
    return _write(score, "midi", path)


def write_musicxml(score: stream.Score, path: Path | str) -> Path:
    return _write(score, "musicxml", path)
