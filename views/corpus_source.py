"""Corpus page, where the music comes from: the bundled chorales, a new upload or a previous
one. An upload is checked file by file as soon as it is saved (what a prepare will keep, with
its roles, or skip, and why); an upload may be deleted, one with nothing usable in it at once.

Deleting runs in button callbacks, before the page is drawn again, so the source widgets
can be reset to what is left.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import DEFAULT_CORPUS, SUFFIXES
from core.data.uploads import UploadResult, save_uploads
from core.runs.deletion import DeletionError, delete_upload
from views import common
from views.corpus_report import REPORT_COLUMNS

SOURCE_DEFAULT, SOURCE_UPLOAD, SOURCE_PREVIOUS = "default", "upload", "previous"
SOURCE_LABELS = {SOURCE_DEFAULT: "Bach chorales (bundled with music21, offline)",
                 SOURCE_UPLOAD: "Upload MIDI / MusicXML / ABC files or a zip",
                 SOURCE_PREVIOUS: "A previous upload"}
UPLOAD_TYPES = sorted({s.lstrip(".") for s in SUFFIXES} | {"zip"})
RESULT, PENDING, DELETE_ERROR = ("corpus_upload_result", "corpus_pending_folder",
                                 "corpus_delete_error")
CHECK_COLUMNS = ["file", "status", "reason", "lead", "confidence", "doubt", "accompaniment"]


def source_kind() -> str:
    """The Source radio (a fresh upload shows as the selected previous upload)."""
    pending = st.session_state.pop(PENDING, None)
    if pending:
        st.session_state["corpus_source_kind"] = SOURCE_PREVIOUS
        st.session_state["corpus_folder_pick"] = pending
    if "corpus_source_kind" not in st.session_state:
        st.session_state["corpus_source_kind"] = (
            SOURCE_DEFAULT if common.selected_corpus() == DEFAULT_CORPUS else SOURCE_PREVIOUS)
    return st.radio("Source", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get,
                    key="corpus_source_kind", horizontal=True)


def choose_source(kind: str) -> None:
    """The uploader or the folder picker of the chosen source; writes the choice to
    common.CORPUS_KEY."""
    if kind == SOURCE_DEFAULT:
        st.session_state[common.CORPUS_KEY] = DEFAULT_CORPUS
    elif kind == SOURCE_UPLOAD:
        upload_form()
    else:
        pick_folder()


def pick_folder() -> None:
    """The previous uploads, newest first, and the deletion of the picked one."""
    names = [str(f) for f in common.upload_folders()]
    if not names:
        st.info("Nothing has been uploaded yet: choose *Upload* above.")
        return
    if common.selected_corpus() in names:
        st.session_state.setdefault("corpus_folder_pick", common.selected_corpus())
    elif st.session_state.get("corpus_folder_pick") not in names:
        st.session_state["corpus_folder_pick"] = names[0]
    pick = st.selectbox("Uploaded folder", names, key="corpus_folder_pick",
                        format_func=lambda p: common.corpus_label(p))
    st.session_state[common.CORPUS_KEY] = pick
    delete_form(Path(pick))


def delete_folder(folder: Path) -> None:
    """Button callback: delete an upload and select what is left (an error is kept for
    the next draw)."""
    try:
        delete_upload(folder, common.uploads_dir())
    except DeletionError as exc:
        st.session_state[DELETE_ERROR] = f"Not deleted: {exc}"
        return
    st.session_state[common.CORPUS_KEY] = DEFAULT_CORPUS
    for key in ("corpus_folder_pick", "corpus_delete_sure", RESULT):
        st.session_state.pop(key, None)
    if not common.upload_folders():
        st.session_state["corpus_source_kind"] = SOURCE_DEFAULT


def delete_form(folder: Path) -> None:
    """Delete the picked upload for good, after a confirmation."""
    with st.expander(f"Delete {folder.name}", icon=":material/delete:"):
        if error := st.session_state.pop(DELETE_ERROR, None):
            st.error(error)
        sure = st.checkbox(f"Yes, delete the uploaded corpus {folder.name} and its files for "
                           "good (runs trained on it keep their records and weights)",
                           key="corpus_delete_sure")
        st.button("Delete this upload", key="corpus_delete", disabled=not sure,
                  icon=":material/delete:", on_click=delete_folder, args=(folder,))


def upload_form() -> None:
    """Save the chosen files into a fresh folder under uploads/, check them and select it."""
    with st.form("corpus_upload", clear_on_submit=True):
        files = st.file_uploader(
            "Score files or a zip of them (at most 20 MB each)", type=UPLOAD_TYPES,
            accept_multiple_files=True,
            help="Any number of instruments: drums are dropped, one track leads (a track "
                 "named lead/melody/soprano/voice…, else the most melody-like one) and the "
                 "others accompany. Each file's roles can be changed once it is saved.")
        label = st.text_input("Name for this corpus", value="my-corpus", max_chars=60)
        submitted = st.form_submit_button("Save upload", type="primary")
    if submitted:
        if not files:
            st.warning("Choose at least one file first.")
            return
        with st.spinner("Saving and checking every file…"):
            result = save_uploads(((f.name, f.getvalue()) for f in files),
                                  common.uploads_dir(), label)
        st.session_state[RESULT] = result   # shown while this upload stays selected
        if result.folder is not None:
            st.session_state[common.CORPUS_KEY] = str(result.folder)
            # widgets already drawn in this run cannot be changed: done before the next one
            st.session_state[PENDING] = str(result.folder)
        st.rerun()
    st.caption(f"Until an upload is saved, the selected corpus stays "
               f"**{common.corpus_label()}**.")
    st.stop()


def show_upload_result(kind: str) -> None:
    """What the last upload saved, refused and left out, and the check of every saved file,
    while that upload is the picked folder (or once, when nothing was saved)."""
    result = st.session_state.get(RESULT)
    if result is None:
        return
    picked = kind == SOURCE_PREVIOUS and \
        st.session_state.get("corpus_folder_pick") == str(result.folder)
    if not picked:
        st.session_state.pop(RESULT)
        if result.folder is not None:
            return
    if result.folder is not None and result.folder.is_dir():
        show_checks(result)
    for name, reason in result.refused:
        st.error(f"Refused **{name}**: {reason}")
    if result.skipped:
        st.warning("Left out of the zip: " + "; ".join(f"{n} ({r})" for n, r in result.skipped[:10])
                   + (" …" if len(result.skipped) > 10 else ""))


def show_checks(result: UploadResult) -> None:
    """Kept / skipped per saved file with the plain reason; the whole upload can be deleted
    when nothing in it can be used."""
    checks = pd.DataFrame([asdict(c) for c in result.checks], columns=CHECK_COLUMNS)
    kept = int((checks["status"] == "kept").sum())
    name = result.folder.name
    if kept:
        st.success(f"Saved {len(checks)} file(s) in `{name}`; it is now the selected corpus. "
                   f"Checked: {kept} kept, {len(checks) - kept} skipped.")
    else:
        st.error(f"Nothing in `{name}` can be used: every file would be skipped (the reasons "
                 "are below). Delete this upload and try other files.")
        st.button("Delete this upload", key="corpus_upload_delete", type="primary",
                  icon=":material/delete:", on_click=delete_folder, args=(result.folder,))
    order = checks["status"].map({"skipped": 0}).fillna(1).argsort(kind="stable")
    st.dataframe(checks.iloc[order], hide_index=True, width="stretch",
                 column_config=REPORT_COLUMNS, height=min(300, 38 + 35 * len(checks)))
