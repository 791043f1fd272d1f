"""The Corpus page with a user's own multi-track MIDI, driven through Streamlit's AppTest:
uploads checked file by file when saved (and a failed one deleted), each file's tracks and
roles edited, saved with the corpus and used by the next prepare, and the prepare's progress.

The files are real music nobody here wrote (the first bars of a Bach chorale from music21's
corpus) exported as band arrangements with drums and a string pad, or one piano track, built
at test time (tests/fixtures.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from core.data.roles import ROLES_FILE, load_roles
from tests.apptest import click, open_page, rerun, texts
from tests.fixtures import (
    drum_notes,
    line,
    note_events,
    smf_bytes,
    work_parts,
    write_bytes,
    write_multitrack,
    write_piano,
)

SAVE_UPLOAD = "FormSubmitter:corpus_upload-Save upload"
DAMAGED = "damaged MIDI file (cut short or malformed)"


@pytest.fixture(scope="module")
def chorale():
    return work_parts("bach/bwv66.6", 4)


def band_folder(folder: Path, chorale) -> Path:
    """band.mid: soprano, alto, tenor, bass, a string pad and drums; piano.mid: the same
    chorale in one piano track."""
    write_multitrack(folder / "band.mid", chorale, drums=True, pad=True)
    write_piano(folder / "piano.mid", chorale)
    return folder


def open_folder(folder: Path, **state):
    return open_page("corpus", corpus_source=str(folder), corpus_source_kind="previous",
                     **state)


def prepare(at):
    """Press Prepare; the report as {file: row}."""
    click(at, "corpus_prepare")
    report = [d.value for d in at.dataframe if "lead" in d.value.columns][-1]
    return report.set_index("file")


def checks_table(at):
    """The upload's check: one row per saved file (it is shown before any prepare)."""
    found = [d.value for d in at.dataframe if "reason" in d.value.columns]
    assert found, "no upload check shown"
    return found[0]


def roles_table(at):
    (editor,) = at.data_editor
    return editor.value


def edit_roles(at, roles: dict[int, str]):
    """Seed the roles editor with edits (row: role), as a user's clicks would leave them."""
    (editor,) = at.data_editor
    at.session_state[editor.key] = {
        "edited_rows": {row: {"role": role} for row, role in roles.items()},
        "added_rows": [], "deleted_rows": []}
    return rerun(at)


def test_an_upload_is_checked_file_by_file_when_saved(app_env, chorale, tmp_path):
    band = write_multitrack(tmp_path / "band.mid", chorale, drums=True).read_bytes()
    at = open_page("corpus", corpus_max_pieces=5)
    at.radio(key="corpus_source_kind").set_value("upload")
    rerun(at)
    at.file_uploader[0].set_value([("band.mid", band, "audio/midi"),
                                   ("broken.mid", b"MThd" + b"x" * 300, "audio/midi"),
                                   ("drums.mid", smf_bytes([note_events(
                                       drum_notes(8), channel=10, name="Kit")]), "audio/midi")])
    click(at, SAVE_UPLOAD)
    (folder,) = app_env.uploads.iterdir()
    assert at.session_state["corpus_source"] == str(folder)
    assert "Checked: 1 kept, 2 skipped." in texts(at, "success")
    checks = checks_table(at).set_index("file")
    assert list(checks.index) == ["broken.mid", "drums.mid", "band.mid"]  # skipped first
    assert checks.loc["broken.mid", "reason"] == DAMAGED
    assert checks.loc["drums.mid", "reason"] == "no pitched notes (drums only)"
    assert checks.loc["band.mid", "status"] == "kept"
    assert checks.loc["band.mid", "lead"] == "Soprano (#1)"
    assert at.number_input(key="corpus_max_pieces_w").value == 5     # settings survive
    rerun(at)                                                        # still shown while picked
    assert "Checked: 1 kept, 2 skipped." in texts(at, "success")
    at.radio(key="corpus_source_kind").set_value("default")
    rerun(at)
    assert "Checked:" not in texts(at, "success")


def test_an_upload_with_nothing_usable_can_be_deleted_at_once(app_env, chorale):
    keep = band_folder(app_env.uploads / "20250101-000000-keep", chorale)
    at = open_page("corpus")
    at.radio(key="corpus_source_kind").set_value("upload")
    rerun(at)
    at.file_uploader[0].set_value([("a.mid", b"MThd" + b"x" * 300, "audio/midi"),
                                   ("b.mid", b"not midi at all", "audio/midi")])
    click(at, SAVE_UPLOAD)
    failed = Path(at.session_state["corpus_source"])
    assert failed.is_dir() and failed != keep
    assert "Nothing in" in texts(at, "error") and "can be used" in texts(at, "error")
    assert list(checks_table(at)["reason"]) == [DAMAGED, "not a MIDI file"]
    click(at, "corpus_upload_delete")
    assert not failed.exists() and keep.is_dir()
    assert at.selectbox(key="corpus_folder_pick").value == str(keep)
    assert "Nothing in" not in texts(at, "error")


def test_roles_are_edited_saved_with_the_corpus_and_used_by_the_next_prepare(app_env,
                                                                             chorale):
    folder = band_folder(app_env.uploads / "20260101-000000-band", chorale)
    at = open_folder(folder)
    assert at.selectbox(key="corpus_roles_file").value == "band.mid"
    table = roles_table(at)
    assert list(table["name"]) == ["Soprano", "Alto", "Tenor", "Bass", "Strings pad", "Drums"]
    assert list(table["proposed"]) == ["lead"] + ["accompaniment"] * 4 + ["ignore"]
    assert list(table["register"][:4]) == ["B-4", "F4", "C4", "E3"]        # mean pitches
    assert table["drums"].tolist() == [False] * 5 + [True]
    report = prepare(at)
    assert report.loc["band.mid", "lead"] == "Soprano (#1)"
    assert report.loc["piano.mid", "lead"] == "Piano (#1), top line"

    edit_roles(at, {0: "accompaniment", 3: "lead", 4: "ignore"})
    click(at, "corpus_roles_save")
    assert "Roles of **band.mid** saved (lead: track 4)" in texts(at, "success")
    assert load_roles(folder / ROLES_FILE) == {
        "band.mid": {1: "accompaniment", 2: "accompaniment", 3: "accompaniment", 4: "lead",
                     5: "ignore"}}
    assert "Bass,lead" in (folder / ROLES_FILE).read_text()           # named for the reader
    assert list(roles_table(at)["role"]) == ["accompaniment"] * 3 + ["lead", "ignore", "ignore"]
    assert "Roles were saved since this corpus was prepared" in texts(at, "info")
    assert at.selectbox(key="corpus_roles_file").format_func("band.mid") == \
        "band.mid · roles set"

    report = prepare(at)
    assert report.loc["band.mid", "lead"] == "Bass (#4)"
    assert report.loc["band.mid", "accompaniment"] == "Soprano (#1) + Alto (#2) + Tenor (#3)"
    assert report.loc["piano.mid", "lead"] == "Piano (#1), top line"    # untouched

    click(at, "corpus_roles_reset")
    assert load_roles(folder / ROLES_FILE) == {}
    assert list(roles_table(at)["role"]) == list(table["proposed"])
    assert prepare(at).loc["band.mid", "lead"] == "Soprano (#1)"


def test_roles_without_a_lead_or_with_drums_playing_are_refused(app_env, chorale):
    folder = band_folder(app_env.uploads / "20260101-000000-band", chorale)
    at = open_folder(folder)
    edit_roles(at, {0: "ignore"})
    click(at, "corpus_roles_save")
    assert "Not saved: no track is set to lead" in texts(at, "error")
    edit_roles(at, {5: "accompaniment"})
    click(at, "corpus_roles_save")
    assert "Not saved: track 6 (Drums) has no pitched notes" in texts(at, "error")
    assert not (folder / ROLES_FILE).exists()


def test_a_broken_roles_file_is_named_and_can_be_removed(app_env, chorale):
    folder = band_folder(app_env.uploads / "20260101-000000-band", chorale)
    (folder / ROLES_FILE).write_text("file,track,role\nband.mid,1,boss\n")
    at = open_folder(folder)
    assert "roles.csv, line 2: role must be one of" in texts(at, "error")
    assert not at.data_editor
    click(at, "corpus_roles_remove")
    assert not (folder / ROLES_FILE).exists() and len(at.data_editor) == 1


def test_a_large_folder_prepares_with_progress_and_edits_one_file_at_a_time(app_env):
    folder = app_env.uploads / "20260101-000000-many"
    tune = [72, 74, 76, 77, 79, 77, 76, 74]
    for i in range(10):
        melody = note_events(line([p + i % 5 for p in tune], 0.5), name="Melody")
        bass = note_events(line([48, 43] * 4), channel=2, program=33, name="Bass")
        write_bytes(folder / f"song{i:02d}.mid", smf_bytes([melody, bass]))
    write_bytes(folder / "broken.mid", b"MThd" + b"x" * 300)
    write_bytes(folder / "drums.mid", smf_bytes([note_events(drum_notes(8), channel=10)]))
    at = open_folder(folder)
    files = at.selectbox(key="corpus_roles_file")
    assert len(files.options) == 12 and files.value == "broken.mid"   # the first, by name
    assert f"**broken.mid** cannot be read: {DAMAGED}. Prepare skips it." in texts(at, "warning")
    assert not at.data_editor
    files.set_value("song03.mid")
    rerun(at)
    assert len(at.data_editor) == 1                                   # one file's tracks
    assert list(roles_table(at)["role"]) == ["lead", "accompaniment"]
    report = prepare(at)
    (bar,) = at.get("progress")
    assert bar.value == 100
    assert bar.text == "Prepared 20260101-000000-many: 12 of 12 files read · 10 kept · 2 skipped"
    assert report.loc["song03.mid", "lead"] == "Melody (#1)"
    assert report.loc["song03.mid", "accompaniment"] == "Bass (#2)"
    assert report.loc["drums.mid", "reason"] == "no pitched notes (drums only)"
    again = open_folder(folder)                                       # prepared: no bar again
    assert not again.get("progress")
    assert {m.label: m.value for m in again.metric}["Files skipped"] == "2"


def test_uncertain_leads_are_counted_named_and_explained_in_the_roles_editor(app_env):
    from core.data.labelled import write_band

    folder = app_env.uploads / "20260101-000000-twins"
    tune = [(i * 0.5, 0.5, 67 + (0, 2, 4, 5, 7, 5, 4, 2)[i % 8]) for i in range(48)]
    third = [(o, d, p + 4) for o, d, p in tune]   # a second voice a third above: as likely
    write_band(folder / "twins.mid", [("Track 1", 0, False, tune), ("Track 2", 0, False, third)])
    write_band(folder / "sure.mid", [("Melody", 73, False, tune),
                                     ("Bass", 33, False, [(b * 2.0, 2.0, 36) for b in range(12)])])
    at = open_folder(folder)
    report = prepare(at)
    assert {m.label: m.value for m in at.metric}["Uncertain leads"] == "1"
    assert "The lead of 1 file(s) is uncertain" in texts(at, "warning")
    assert list(report.index) == ["twins.mid", "sure.mid"]                 # uncertain first
    assert report.loc["twins.mid", "doubt"].startswith("two similar candidates: Track 2 (#2)")
    assert report.loc["sure.mid", "doubt"] == "" and report.loc["sure.mid", "confidence"] == 1
    at.selectbox(key="corpus_roles_file").set_value("twins.mid")
    rerun(at)
    assert "The rule is unsure of this file's lead" in texts(at, "warning")
    assert list(roles_table(at)["kind"]) == ["melodic", "melodic"]
