"""One file -> one piece (lead + accompaniment, both encodings) or one plain reason.

MIDI files are read by symusic (`core.data.midi`), other score files by music21
(`core.data.scores`); both give grid tracks, `core.data.roles` picks the lead line and the
accompaniment, and `encode_parts` encodes them. The bundled chorales keep their own exact
music21 path (`read_chorale`). Everything here returns plain data, so it runs in worker
processes, and never raises for a bad file: prepare reads a file through `read_encoded`
(symbol ids, as the cache stores them), the upload check and seeding through `read_piece`
(lists of symbols).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core.data.corpus import PARTS, EncodedPart, FileReport
from core.data.encoding import encode_parts
from core.data.metre import Metre
from core.data.midi import MidiError, midi_tracks, read_midi
from core.data.roles import ACCOMPANIMENT, LEAD, RolesError, assign_roles, track_table
from core.data.scores import ScoreError, read_chorale, score_read, score_tracks
from core.data.tracks import FileTracks, GridNotes, joined

MIDI_SUFFIXES = (".mid", ".midi")


UNEXPECTED = "could not be read (an unexpected problem inside the file)"


def read_tracks(path: Path | str) -> GridNotes:
    """A user's file as grid tracks: MIDI through symusic, other scores through music21."""
    if str(path).lower().endswith(MIDI_SUFFIXES):
        return read_midi(path)
    return score_tracks(str(path))


def read_song(lead: Path | str, accompaniment: Path | str) -> tuple[GridNotes, dict[int, str]]:
    """A song given as a lead file and an accompaniment file, read as one file (`joined`),
    with the roles that say so: every track of the lead file leads, every track of the
    accompaniment file accompanies. MidiError / ScoreError naming the half that cannot be
    used."""
    halves = []
    for half, path in (("lead", lead), ("accompaniment", accompaniment)):
        try:
            halves.append(_raw_tracks(path))
        except (MidiError, ScoreError) as exc:
            raise type(exc)(f"{half} file {Path(path).name}: {exc}") from exc
    grid = joined(halves).grid()
    count = len(halves[0].read)
    roles = {t.index: LEAD if t.index <= count else ACCOMPANIMENT for t in grid.tracks}
    for half, role in (("lead", LEAD), ("accompaniment", ACCOMPANIMENT)):
        if not any(t.notes and not t.is_drum for t in grid.tracks if roles[t.index] == role):
            raise RolesError(f"the {half} file has no pitched notes")
    return grid, roles


def _raw_tracks(path: Path | str) -> FileTracks:
    if str(path).lower().endswith(MIDI_SUFFIXES):
        return midi_tracks(path)
    return score_read(str(path))


def read_encoded(path: Path | str, name: str, layout: str = "instruments",
                 chord_mode: str = "pitch_class", overrides: Mapping[int, str] | None = None,
                 lead_line: str = "top", accompaniment_file: str | None = None
                 ) -> tuple[dict[str, Any] | None, FileReport]:
    """(the piece's lead and accompaniment as ids (EncodedPart, None for a missing part)
    and its "metre" (Metre), or None; the file's report line), as the cache stores them;
    `overrides` are this file's roles, `lead_line` the lead's line (core.data.roles). In
    the "pairs" layout `path` is a song's lead file and `accompaniment_file` its
    accompaniment file."""
    try:
        if layout == "chorale":
            data, lead, accompaniment, metre = read_chorale(str(path), chord_mode, lead_line)
            return ({**{part: EncodedPart.of_streams(streams) for part, streams in data.items()},
                     "metre": metre}, FileReport(name, "kept", "", lead, accompaniment))
        if layout == "pairs":
            grid, overrides = read_song(path, accompaniment_file or "")
        else:
            grid = read_tracks(path)
        roles = assign_roles(grid, overrides, lead_line)
        encoded = encode_parts([part for part in (roles.lead, roles.accompaniment)
                                if part is not None], chord_mode)
        parts = {"lead": encoded[0], "accompaniment": encoded[1] if len(encoded) > 1 else None,
                 "metre": Metre(grid.bar_steps)}
    except (MidiError, ScoreError, RolesError) as exc:
        return None, FileReport(name, "skipped", str(exc))
    except Exception:  # noqa: BLE001 - one odd file must not stop the whole corpus
        return None, FileReport(name, "skipped", UNEXPECTED)
    return parts, FileReport(name, "kept", "", roles.lead_label, roles.accompaniment_label,
                             round(grid.moved_share, 4), grid.capped, roles.confidence,
                             roles.doubt)


def read_piece(path: Path | str, name: str, layout: str = "instruments",
               chord_mode: str = "pitch_class", overrides: Mapping[int, str] | None = None,
               lead_line: str = "top") -> tuple[dict | None, FileReport]:
    """(piece fields as lists of symbols (PartData's fields) by part, None for a missing
    part, and its "metre", or None; the file's report line): `read_encoded` for whoever
    reads one file's symbols."""
    parts, report = read_encoded(path, name, layout, chord_mode, overrides, lead_line)
    if parts is None:
        return None, report
    return {part: parts[part].streams() if parts[part] else None for part in PARTS} | \
        {"metre": parts["metre"]}, report


def check_file(path: Path | str, overrides: Mapping[int, str] | None = None) -> FileReport:
    """Whether a just-saved upload would be kept, and the plain reason when not."""
    return read_encoded(path, Path(path).name, overrides=overrides)[1]


def file_tracks(path: Path | str, overrides: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The track table of one file (`core.data.roles.track_table`); ValueError with the plain
    reason when the file cannot be read."""
    try:
        return track_table(read_tracks(path), overrides)
    except (MidiError, ScoreError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise ScoreError(UNEXPECTED) from exc
