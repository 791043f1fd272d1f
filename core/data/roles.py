"""Who plays the melody: every track of a file becomes lead, accompaniment or ignored.

The rule, in the spirit of Magenta's melody extraction and the skyline algorithm:

1. Drum tracks (channel 10 / is_drum) and tracks without notes take no part.
2. A roles file saved with the corpus (`ROLES_FILE`) sets tracks to lead, accompaniment or
   ignore first; the rule below only decides what it leaves open.
3. The lead track: the one `core.data.melody` finds carries the tune (never a bass line, a
   stray short line, a pad, chords, an arpeggio figure or a percussive program while a
   melodic track is there; then name, one note at a time, register, onsets, span of the
   piece, stepwise motion and instrument), with a confidence and, when it is unsure, why.
4. The lead's line (`LEAD_LINES`, a corpus setting): "top", one line, the top line (skyline)
   of the lead track(s): at each onset the highest note starting there joins the line and
   ends the line's previous note, unless a higher line note is still held (by more than a
   16th, so played legato still counts as a new note); notes left out (a piano's lower
   notes, the left hand) join the accompaniment. "whole": every note of the lead track(s),
   chords included, encoded as the thesis encodes chords.
5. The accompaniment: every other open track, merged into one part, encoded the thesis's
   way (pitch-class chords).

So a 4-voice chorale exported to MIDI comes out as the bundled corpus does (soprano lead,
alto, tenor and bass merged), a band loses its drums and keeps its melody over the rest, and
a solo piano with both hands in one track is split into its top line and the rest (or kept
whole as the lead with "whole").
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from core.data.corpus import LEAD_LINES
from core.data.melody import LeadChoice, choose_lead, track_features
from core.data.tracks import GridNotes, Notes, sort_order

LEAD, ACCOMPANIMENT, IGNORE = "lead", "accompaniment", "ignore"


ROLES = (LEAD, ACCOMPANIMENT, IGNORE)


ROLES_FILE = "roles.csv"


ROLES_COLUMNS = ("file", "track", "name", "role")


LEGATO_STEPS = 1


class RolesError(ValueError):
    """A roles file that cannot be used, or roles that leave a file without a lead."""


def propose_roles(notes: GridNotes, overrides: Mapping[int, str] | None = None) -> dict[int, str]:
    """Every track's role: overrides first, then the rule (drums and empty tracks ignored)."""
    return proposal(notes, overrides)[0]


def proposal(notes: GridNotes, overrides: Mapping[int, str] | None
              ) -> tuple[dict[int, str], LeadChoice | None]:
    """(every track's role, the rule's lead choice or None when the overrides name the lead
    or nothing can lead)."""
    overrides = overrides or {}
    roles = {t.index: IGNORE if t.is_drum or not t.notes else overrides.get(t.index, "")
             for t in notes.tracks}
    choice = None
    if LEAD not in roles.values():
        open_tracks = [t for t in notes.tracks if roles[t.index] == ""]
        if open_tracks:
            choice = choose_lead(notes, open_tracks)
            roles[choice.track] = LEAD
    return {i: role or ACCOMPANIMENT for i, role in roles.items()}, choice


def skyline(start: np.ndarray, end: np.ndarray, pitch: np.ndarray) -> tuple[Notes, Notes]:
    """(top line, the other notes) of a part's notes (see the module's rule 4)."""
    if _one_line(start, end):
        return (start, end, pitch), _no_notes()  # the usual melody track
    order = sort_order(start, 127 - pitch)
    start, end, pitch = start[order], end[order], pitch[order]
    if _one_line(start, end):
        return (start, end, pitch), _no_notes()
    line_end = end.tolist()
    in_line = np.zeros(len(start), bool)
    starts, pitches = start.tolist(), pitch.tolist()
    last = -1
    for i in np.concatenate(([True], start[1:] != start[:-1])).nonzero()[0].tolist():
        if last >= 0 and line_end[last] > starts[i]:
            if pitches[i] < pitches[last] and line_end[last] - starts[i] > LEGATO_STEPS:
                continue  # under a held line note: accompaniment
            line_end[last] = starts[i]
        in_line[i] = True
        last = i
    cut = np.asarray(line_end, np.int64)
    return ((start[in_line], cut[in_line], pitch[in_line]),
            (start[~in_line], end[~in_line], pitch[~in_line]))


def _one_line(start: np.ndarray, end: np.ndarray) -> bool:
    """Whether notes, in this order, follow one another without overlapping."""
    return bool((start[1:] > start[:-1]).all() and (start[1:] >= end[:-1]).all())


def _no_notes() -> Notes:
    empty = np.zeros(0, np.int64)
    return empty, empty, empty


def _merge(parts: list[Notes]) -> Notes:
    """Several tracks' notes as one part (in no particular order: the encoders and the
    skyline sort for themselves)."""
    if not parts:
        return _no_notes()
    start, end, pitch = (np.concatenate(column) for column in zip(*parts))
    return start, end, pitch


@dataclass
class Assignment:
    """A file's lead and merged accompaniment, which tracks made each, and how sure the
    rule was of the lead (1 when the roles file names it)."""

    lead: Notes
    accompaniment: Notes | None
    roles: dict[int, str]
    lead_label: str
    accompaniment_label: str
    confidence: float = 1.0
    doubt: str = ""


def assign_roles(notes: GridNotes, overrides: Mapping[int, str] | None = None,
                 lead_line: str = "top") -> Assignment:
    """The lead (its top line, or the whole tracks: `LEAD_LINES`) and the accompaniment of
    a file; RolesError when nothing can lead."""
    if lead_line not in LEAD_LINES[1:]:
        raise RolesError(f"lead line must be one of {', '.join(LEAD_LINES[1:])}")
    roles, choice = proposal(notes, overrides)
    by_index = {t.index: t for t in notes.tracks}
    leads = [by_index[i] for i, role in roles.items() if role == LEAD]
    others = [by_index[i] for i, role in roles.items() if role == ACCOMPANIMENT]
    if not leads:
        raise RolesError("no track left for the lead (the roles file sets every pitched "
                         "track to accompaniment or ignore)")
    notes_of_leads = _merge([(t.start, t.end, t.pitch) for t in leads])
    line, rest = skyline(*notes_of_leads) if lead_line == "top" else (notes_of_leads,
                                                                       _no_notes())
    split = len(rest[0]) > 0
    accompaniment = _merge([rest] * split + [(t.start, t.end, t.pitch) for t in others])
    lead_label = " + ".join(t.label for t in leads) + (", top line" if split else "")
    acc_labels = [" + ".join(t.label for t in leads) + ", lower notes"] * split
    acc_labels += [t.label for t in others]
    return Assignment(line, accompaniment if len(accompaniment[0]) else None, roles,
                      lead_label, " + ".join(acc_labels),
                      choice.confidence if choice else 1.0, choice.doubt if choice else "")


TABLE_COLUMNS = ["track", "name", "program", "drums", "notes", "mean_pitch", "polyphony",
                 "onsets", "kind", "proposed", "role"]


def track_table(notes: GridNotes, overrides: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per track: its features, what the melody rule takes it for (melodic, or why
    not), the role the rule proposes, and the role it gets (the same unless an override says
    otherwise): the table the Corpus page edits. attrs holds the rule's confidence in its
    lead and why it doubts it."""
    proposed, choice = proposal(notes, None)
    final = propose_roles(notes, overrides) if overrides else proposed
    kinds = choice.kinds if choice else {}
    rows = []
    for f in track_features(notes):
        kind = "drums" if f.drums else "empty" if not f.notes else kinds.get(f.track, "melodic")
        rows.append({"track": f.track, "name": f.name, "program": f.program, "drums": f.drums,
                     "notes": f.notes, "mean_pitch": round(f.mean_pitch, 1),
                     "polyphony": round(f.polyphony, 2), "onsets": f.onsets, "kind": kind,
                     "proposed": proposed[f.track], "role": final[f.track]})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table.attrs.update(confidence=choice.confidence if choice else 1.0,
                       doubt=choice.doubt if choice else "")
    return table


# --- the roles file: overrides saved with the corpus ---------------------------------------

Overrides = dict[str, dict[int, str]]  # file (as named in the corpus report) -> track -> role


def load_roles(path: Path | str) -> Overrides:
    """Overrides from a CSV with columns file, track, role (a name column is only for the
    reader); RolesError naming the line of anything it cannot use."""
    path = Path(path)
    return _overrides(_read_rows(path), path.name)


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RolesError(f"{path.name}: not a readable CSV file") from exc


def _overrides(rows: list[dict[str, str]], shown: str) -> Overrides:
    overrides: Overrides = {}
    for line, row in enumerate(rows, start=2):
        file, track, role = (str(row.get(k) or "").strip() for k in ("file", "track", "role"))
        if not file or not track.isdigit() or int(track) < 1:
            raise RolesError(f"{shown}, line {line}: needs a file and a track number "
                             "(1, 2, ...)")
        if role.lower() not in ROLES:
            raise RolesError(f"{shown}, line {line}: role must be one of "
                             f"{', '.join(ROLES)}, not {role[:20]!r}")
        overrides.setdefault(file, {})[int(track)] = role.lower()
    return overrides


def save_roles(path: Path | str, overrides: Overrides,
               names: Mapping[tuple[str, int], str] | None = None) -> Path:
    """Write overrides as a readable CSV (file, track, name, role), sorted by file and track;
    `names` gives each (file, track) its track name for the reader."""
    path = Path(path)
    rows = [{"file": f, "track": t, "name": (names or {}).get((f, t), ""), "role": r}
            for f in sorted(overrides) for t, r in sorted(overrides[f].items())]
    for row in rows:
        if row["role"] not in ROLES:
            raise RolesError(f"role must be one of {', '.join(ROLES)}, not {row['role']!r}")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROLES_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def table_roles(table: pd.DataFrame) -> dict[int, str]:
    """The overrides a track table (`track_table`, its roles edited on the Corpus page)
    amounts to: none when every role is the rule's proposal, else the role of every pitched
    track. All are pinned together because a track left open lets the rule choose the lead
    again among fewer candidates, which may pick another one. RolesError when a drum or
    empty track is asked to play, or when no track leads."""
    silent = table["drums"].astype(bool) | (table["notes"] == 0)
    for row in table.itertuples():
        if row.role not in ROLES:
            raise RolesError(f"track {row.track}: role must be one of {', '.join(ROLES)}")
        if silent[row.Index] and row.role != IGNORE:
            raise RolesError(f"track {row.track} ({row.name or 'unnamed'}) has no pitched "
                             "notes (drums or empty): it is always left out, set it to ignore")
    pitched = table[~silent]
    if LEAD not in set(pitched["role"]):
        raise RolesError("no track is set to lead: choose the track that plays the melody")
    if (pitched["role"] == pitched["proposed"]).all():
        return {}
    return {int(t): str(r) for t, r in zip(pitched["track"], pitched["role"])}


def set_file_roles(path: Path | str, file: str, roles: Mapping[int, str],
                   names: Mapping[int, str] | None = None) -> Overrides:
    """Replace one file's rows of a roles file, keeping every other file's rows with their
    track names; no `roles` puts the file back to the rule. Returns every override now
    saved; RolesError when the existing file cannot be read (it is left as it is)."""
    path = Path(path)
    rows = _read_rows(path) if path.is_file() else []
    overrides = _overrides(rows, path.name)
    kept = {(str(r["file"]).strip(), int(str(r["track"]).strip())): str(r.get("name") or "")
            for r in rows}
    overrides.pop(file, None)
    if roles:
        overrides[file] = dict(roles)
    kept.update({(file, t): n for t, n in (names or {}).items()})
    save_roles(path, overrides, kept)
    return overrides
