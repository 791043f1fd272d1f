"""Corpus page, tracks and roles: one file of a folder at a time (a folder may hold hundreds),
its tracks as the roles rule sees them (core.data.roles) and the role each one gets, which
the user may change to lead / accompaniment / ignore.

Saved roles go to the folder's roles file (core.data.roles.ROLES_FILE), which every prepare
of the folder reads, the Train page's and the CLI's included; the prepare's cache key covers
it, so the next Prepare uses them. Saving runs in a button callback, before the page is
drawn again, so the table then shows the saved roles. The editor's key names the file and
when the roles file last changed: another file or a save starts a fresh editor, where a kept
one would throw its edits away by itself and draw the page once more (losing the message).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.midi import program_name
from core.data.pieces import file_tracks
from core.data.prepare import ACCOMPANIMENT_FOLDER, LEAD_FOLDER, folder_files, is_pairs_folder
from core.data.roles import ROLES, ROLES_FILE, Overrides, RolesError, load_roles, \
    set_file_roles, table_roles
from core.outputs.figures import pitch_name
from views import common

FILE_PICK, MESSAGE = "corpus_roles_file", "corpus_roles_message"
COLUMNS = {"track": st.column_config.NumberColumn("track", width="small"),
           "name": st.column_config.TextColumn("name"),
           "instrument": st.column_config.TextColumn("program"),
           "drums": st.column_config.CheckboxColumn("drums", width="small"),
           "notes": st.column_config.NumberColumn("notes", width="small"),
           "register": st.column_config.TextColumn(
               "register", width="small", help="The track's mean pitch (C4 is middle C)."),
           "polyphony": st.column_config.NumberColumn(
               "polyphony", format="%.2f", help="Notes sounding together, on average."),
           "onsets": st.column_config.NumberColumn("onsets", width="small"),
           "kind": st.column_config.TextColumn(
               "melody rule", width="small",
               help="melodic, or why the track cannot be the melody: bass, chords (or a "
                    "pad), arpeggio, short (a stray line), percussive; drums and empty "
                    "tracks take no part."),
           "proposed": st.column_config.TextColumn("proposed by the rule"),
           "role": st.column_config.SelectboxColumn(
               "role", options=list(ROLES), required=True, width=130,
               help="lead: plays the melody (several lead tracks give their top line); "
                    "accompaniment: merged into the accompaniment; ignore: left out.")}


@st.cache_data(show_spinner=False, max_entries=64)
def _tracks(path: str, stamp: tuple[int, int], roles: tuple[tuple[int, str], ...]
            ) -> pd.DataFrame:
    """core.data.pieces.file_tracks, kept while the file and its roles are unchanged."""
    return file_tracks(path, dict(roles))


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The track table as the editor shows it: the instrument named, the register as a
    note name."""
    register = [pitch_name(round(m)) if not math.isnan(m) else common.MISSING
                for m in table["mean_pitch"]]
    instrument = ["drum kit" if d else f"{p} · {program_name(p)}"
                  for p, d in zip(table["program"], table["drums"])]
    return table.assign(instrument=instrument, register=register)[list(COLUMNS)]


def saved_roles(folder: Path) -> tuple[Overrides, str]:
    """(the folder's saved overrides, why its roles file cannot be used or '')."""
    path = folder / ROLES_FILE
    try:
        return (load_roles(path) if path.is_file() else {}), ""
    except RolesError as exc:
        return {}, str(exc)


def save(folder: Path, file: str, edited: pd.DataFrame | None) -> None:
    """Button callback: save one file's roles (None: back to the rule) in the roles file."""
    try:
        roles = table_roles(edited) if edited is not None else {}
        names = dict(zip(edited["track"].astype(int), edited["name"])) if roles else None
        set_file_roles(folder / ROLES_FILE, file, roles, names)
    except RolesError as exc:
        st.session_state[MESSAGE] = ("error", f"Not saved: {exc}")
        return
    if roles:
        leads = ", ".join(str(t) for t, r in roles.items() if r == "lead")
        text = f"Roles of **{file}** saved (lead: track {leads})."
    else:
        text = f"**{file}** has the rule's roles (nothing saved for it)."
    st.session_state[MESSAGE] = ("success", text + " The next **Prepare** uses them.")


def roles_stamp(folder: Path) -> int:
    """When the folder's roles file last changed (0: it has none)."""
    path = folder / ROLES_FILE
    return path.stat().st_mtime_ns if path.is_file() else 0


def editor_key(folder: Path, file: str) -> str:
    return f"corpus_roles_{file}_{roles_stamp(folder)}"


def roles_section(folder: Path) -> None:
    """Pick a file of the folder, see its tracks, set and save their roles (a folder of
    lead and accompaniment files has no roles to set: it is said so instead)."""
    if is_pairs_folder(folder):
        st.subheader("Lead and accompaniment files")
        st.caption(f"This folder holds `{LEAD_FOLDER}/` and `{ACCOMPANIMENT_FOLDER}/`: each "
                   "song is a lead file and the accompaniment file of the same name (the "
                   "thesis's layout). The lead is every note of the lead file, the "
                   "accompaniment every note of the accompaniment file; a song missing a "
                   "half is skipped and named in the file report.")
        return
    files = folder_files(folder)
    if not files:
        return
    names = {f.relative_to(folder).as_posix(): f for f in files}
    overrides, broken = saved_roles(folder)
    st.subheader("Tracks and roles")
    st.caption(f"{len(names)} file(s), {len(overrides)} with roles chosen by hand. The rule: "
               "drums are left out; the lead is never a bass line, chords, a pad, an "
               "arpeggio figure or a short stray line while a melodic track is there; among "
               "melodic tracks a name that says so (melody, lead, vocal, soprano…), one note "
               "at a time, high, busy, spanning the piece and moving by steps wins; the "
               "other tracks are merged into the accompaniment.")
    if broken:
        st.error(f"The roles file of this corpus cannot be used ({broken}); Prepare refuses "
                 "it. Remove it to start again from the rule's roles.")
        st.button("Remove the roles file", key="corpus_roles_remove",
                  on_click=(folder / ROLES_FILE).unlink, kwargs={"missing_ok": True})
        return
    if st.session_state.get(FILE_PICK) not in names:
        st.session_state[FILE_PICK] = next(iter(names))
    name = st.selectbox("File", list(names), key=FILE_PICK,
                        format_func=lambda n: f"{n} · roles set" if n in overrides else n)
    stat = names[name].stat()
    try:
        table = _tracks(str(names[name]), (stat.st_mtime_ns, stat.st_size),
                        tuple(sorted(overrides.get(name, {}).items())))
    except ValueError as exc:
        st.warning(f"**{name}** cannot be read: {exc}. Prepare skips it.")
        return
    confidence, doubt = table.attrs.get("confidence", 1.0), table.attrs.get("doubt", "")
    if doubt:
        st.warning(f"The rule is unsure of this file's lead (confidence {confidence:.2f}): "
                   f"{doubt}. Set the track that plays the melody to lead and save.",
                   icon=":material/help:")
    else:
        st.caption(f"The rule's confidence in its lead: {confidence:.2f}.")
    edited = st.data_editor(shown(table), key=editor_key(folder, name), hide_index=True,
                            width="stretch", column_config=COLUMNS,
                            disabled=[c for c in COLUMNS if c != "role"])
    left, right = st.columns(2)
    left.button("Save roles", key="corpus_roles_save", type="primary", icon=":material/save:",
                on_click=save, args=(folder, name, edited))
    right.button("Back to the rule's roles", key="corpus_roles_reset",
                 disabled=name not in overrides, on_click=save, args=(folder, name, None))
    if message := st.session_state.pop(MESSAGE, None):
        getattr(st, message[0])(message[1])
