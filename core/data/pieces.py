"""One file -> one piece (lead + accompaniment, both encodings) or one plain reason.

MIDI files are read by symusic (`core.data.midi`), other score files by music21
(`core.data.scores`); both give grid tracks, `core.data.roles` picks the lead line and the
accompaniment, and `encode_notes` encodes them. The bundled chorales keep their own exact
music21 path (`read_chorale`). Everything here returns plain data, so it runs in worker
processes, and never raises for a bad file: prepare, the upload check and seeding all read a
file through `read_piece`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd

from core.data.corpus import FileReport
from core.data.encoding import encode_notes
from core.data.midi import MidiError, read_midi
from core.data.roles import RolesError, assign_roles, track_table
from core.data.scores import ScoreError, read_chorale, score_tracks
from core.data.tracks import GridNotes

MIDI_SUFFIXES = (".mid", ".midi")


UNEXPECTED = "could not be read (an unexpected problem inside the file)"


def read_tracks(path: Path | str) -> GridNotes:
    """A user's file as grid tracks: MIDI through symusic, other scores through music21."""
    if Path(path).suffix.lower() in MIDI_SUFFIXES:
        return read_midi(path)
    return score_tracks(str(path))


def encode_part(notes, chord_mode: str) -> dict[str, list[str]]:
    """One part's streams as plain data (PartData's fields), ready to cross processes."""
    steps, pitch, duration = encode_notes(*notes, chord_mode=chord_mode)
    return {"steps": steps, "pitch": pitch, "duration": duration}


def read_piece(path: Path | str, name: str, layout: str = "instruments",
               chord_mode: str = "pitch_class",
               overrides: Mapping[int, str] | None = None) -> tuple[dict | None, FileReport]:
    """(piece fields or None, the file's report line); `overrides` are this file's roles."""
    try:
        if layout == "chorale":
            data, lead, accompaniment = read_chorale(str(path), chord_mode)
            return data, FileReport(name, "kept", "", lead, accompaniment)
        grid = read_tracks(path)
        roles = assign_roles(grid, overrides)
        parts = {"lead": encode_part(roles.lead, chord_mode),
                 "accompaniment": (encode_part(roles.accompaniment, chord_mode)
                                   if roles.accompaniment is not None else None)}
    except (MidiError, ScoreError, RolesError) as exc:
        return None, FileReport(name, "skipped", str(exc))
    except Exception:  # noqa: BLE001 - one odd file must not stop the whole corpus
        return None, FileReport(name, "skipped", UNEXPECTED)
    return parts, FileReport(name, "kept", "", roles.lead_label, roles.accompaniment_label,
                             round(grid.moved_share, 4), grid.capped)


def check_file(path: Path | str, overrides: Mapping[int, str] | None = None) -> FileReport:
    """Whether a just-saved upload would be kept, and the plain reason when not."""
    return read_piece(path, Path(path).name, overrides=overrides)[1]


def file_tracks(path: Path | str, overrides: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The track table of one file (`core.data.roles.track_table`); ValueError with the plain
    reason when the file cannot be read."""
    try:
        return track_table(read_tracks(path), overrides)
    except (MidiError, ScoreError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise ScoreError(UNEXPECTED) from exc
