"""The Corpus and Train pages driven through Streamlit's AppTest, on temporary folders.

Pages are opened with tests/apptest.py (as scripts, the way st.navigation runs them; app.py
too) in the folders of the `app_env` fixture: runs and uploads in tmp, the run bank's corpus
cache. The corpus is 6 chorales (about a second to prepare), so the whole file stays well
under a minute even though one test trains a real (tiny) run through the background worker.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.nets.config import THESIS_METHOD, TrainConfig
from core.runs.status import read_status, wait_for, write_status
from core.runs.training import enqueue
from tests.apptest import TIMEOUT, click, open_page, rerun, texts
from scripts.synthetic_runs import write_synthetic_run
from tests.fixtures import HIGH, LOW, melody, midi_bytes, write_score
from tests.tiny import tiny_config

SUBMIT = "FormSubmitter:train_form-Queue this run"


def run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def test_app_opens_on_the_start_page_which_leads_to_the_corpus(app_env, tmp_path):
    app_env.use_cache(tmp_path / "no-corpus-yet")
    at = open_page("app")
    assert [t.value for t in at.title] == ["LSTM vs GRU music lab"]
    assert "Next step: Corpus" in texts(at, "markdown")
    assert "Glossary" in [e.label for e in at.sidebar.expander]
    click(at, "home_next")                  # st.switch_page to the Corpus page
    assert [t.value for t in at.title] == ["Corpus"]
    assert "Prepare" in texts(at, "info")   # nothing is parsed until asked


def test_corpus_page_prepares_and_shows_report_and_counts(app_env):
    at = open_page("corpus", corpus_max_pieces=6)
    assert not at.exception
    at.button(key="corpus_prepare").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Pieces"] == "6" and metrics["Files skipped"] == "0"
    assert metrics["Held-out pieces"] == "1"
    counts = at.dataframe[0].value.set_index("part")
    assert set(counts.index) == {"lead", "accompaniment"}
    assert (counts["steps vocabulary"] > 1).all() and (counts["duration vocabulary"] > 0).all()
    report = at.dataframe[1].value
    assert len(report) == 6 and set(report["status"]) == {"kept"}
    assert len(at.get("plotly_chart")) == 3          # symbols, durations, piano roll
    # a piece's split in the words every page uses: "held-out", never "validation"
    pieces = next(d.value for d in at.dataframe if "split" in d.value.columns)
    assert sorted(set(pieces["split"])) == ["held-out", "training"]
    held_out = pieces.loc[pieces["split"] == "held-out", "piece"].iloc[0]
    at.selectbox(key="corpus_roll_piece").set_value(held_out).run()
    assert "held-out piece ·" in texts(at, "caption") and "validation" not in texts(at)
    # the choice is what Train will use, and it shows there at once (no Prepare again)
    assert at.session_state["corpus_max_pieces"] == 6
    again = open_page("corpus", corpus_max_pieces=6)
    assert len(again.metric) == 6 and metrics["Uncertain leads"] == "0"


def test_upload_with_a_corrupt_file_reports_why_it_was_skipped(app_env):
    at = AppTest.from_string("""
import streamlit as st
from core.data.uploads import save_uploads
from core.folders import uploads_dir
result = save_uploads([("good.mid", GOOD), ("broken.mid", b"MThd" + b"x" * 300),
                       ("notes.txt", b"hello")], uploads_dir(), "my pieces")
st.session_state["result"] = result
""".replace("GOOD", repr(midi_bytes(HIGH))), default_timeout=TIMEOUT).run()
    result = at.session_state["result"]
    assert result.folder.parent == app_env.uploads
    assert sorted(p.name for p in result.saved) == ["broken.mid", "good.mid"]
    assert result.refused and result.refused[0][0] == "notes.txt"   # not a score file

    at = open_page("corpus", corpus_source=str(result.folder), corpus_source_kind="previous")
    assert not at.exception
    assert at.selectbox(key="corpus_folder_pick").value == str(result.folder)
    at.button(key="corpus_prepare").click().run()
    assert not at.exception
    report = at.dataframe[1].value
    broken = report[report["file"] == "broken.mid"].iloc[0]
    assert broken["status"] == "skipped"
    assert broken["reason"] == "damaged MIDI file (cut short or malformed)"
    assert report.iloc[0]["file"] == "broken.mid"     # skipped files are listed first
    assert {m.label: m.value for m in at.metric}["Files skipped"] == "1"


def test_upload_with_nothing_usable_is_refused_and_leaves_no_folder(app_env):
    at = AppTest.from_string("""
import streamlit as st
from core.data.uploads import save_uploads
from core.folders import uploads_dir
st.session_state["result"] = save_uploads([("a.txt", b"x")], uploads_dir(), "bad")
""", default_timeout=TIMEOUT).run()
    result = at.session_state["result"]
    assert result.folder is None and result.refused[0][0] == "a.txt"
    assert list(app_env.uploads.iterdir()) == []


def test_train_page_shows_error_naming_window_and_creates_no_run(app_env):
    at = open_page("train", corpus_max_pieces=6)
    assert not at.exception
    assert "No runs yet" in texts(at, "info")
    at.number_input(key="tf_window").set_value(2000)
    at.number_input(key="tf_units").set_value(8)
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("**window**" in e and "2000" in e for e in errors)
    assert len(errors) == 2                          # beside the field and at the top
    assert run_dirs(app_env.runs) == []


def test_train_page_queues_a_run_and_the_worker_finishes_it(app_env):
    at = open_page("train", corpus_max_pieces=6)
    for key, value in {"tf_units": 8, "tf_layers": 1, "tf_dropout_layers": 0, "tf_epochs": 1,
                       "tf_window": 8, "tf_batch_size": 256}.items():
        at.number_input(key=key).set_value(value)
    at.selectbox(key="tf_objective").set_value("sequence")
    at.text_input(key="tf_label").set_value("tiny")
    at.button(key=SUBMIT).click().run()
    assert not at.exception and not at.error
    assert "Queued 1 run" in texts(at, "success")
    (run_dir,) = run_dirs(app_env.runs)
    status = wait_for(run_dir, timeout=45)
    assert status["state"] == "finished", status
    assert (run_dir / "history.csv").exists()

    at = open_page("train", corpus_max_pieces=6)          # a fresh session sees the result
    recent = at.dataframe[0].value
    assert recent.iloc[0]["run id"] == run_dir.name
    assert recent.iloc[0]["state"] == "finished" and recent.iloc[0]["run"] == "tiny"
    assert list(recent.columns[:4]) == ["run", "state", "epochs", "held-out loss"]
    assert recent.iloc[0]["epochs"] == "1/1" and not [c for c in recent.columns if "_" in c]


def test_the_recipe_buttons_fill_the_form_and_the_run_records_them(app_env):
    """'Thesis's method' switches the recipe's settings to the thesis's and keeps the
    network's shape; the queued run records them; 'Demo recipe' brings the defaults back."""
    at = open_page("train", corpus_max_pieces=6, tf_units=8, tf_window=8, tf_epochs=1)
    at.button(key="tf_recipe_thesis").click().run()
    assert at.selectbox(key="tf_objective").value == "window"
    assert at.selectbox(key="tf_lr_schedule").value == "constant"
    assert at.checkbox(key="tf_key_normalisation").value is False
    assert at.number_input(key="tf_units").value == 8  # the shape stays
    at.button(key=SUBMIT).click().run()
    assert not at.exception and "Queued 1 run" in texts(at, "success")
    (run_dir,) = run_dirs(app_env.runs)
    recorded = json.loads((run_dir / "config.json").read_text())["config"]
    assert {k: recorded[k] for k in THESIS_METHOD} == THESIS_METHOD and recorded["units"] == 8
    at.button(key="tf_recipe_demo").click().run()
    defaults = TrainConfig()
    assert at.selectbox(key="tf_objective").value == defaults.objective
    assert at.number_input(key="tf_units").value == defaults.units
    assert at.checkbox(key="tf_bar_position").value is defaults.bar_position


def test_cancel_button_cancels_a_queued_run(app_env):
    config = tiny_config(dropout_layers=0, epochs=1)
    run_dir = enqueue(config, app_env.runs, app_env.cache)    # no worker: it stays queued
    at = open_page("train", corpus_max_pieces=6)
    assert "no worker" not in texts(at, "warning")            # a worker may be starting
    assert "Starting the background worker" in texts(at, "caption")
    write_status(run_dir, queued_at=time.time() - 60)          # a minute on, none came
    at = open_page("train", corpus_max_pieces=6)
    assert "no worker" in texts(at, "warning")
    at.button(key=f"cancel_{run_dir.name}").click().run()
    assert not at.exception
    assert read_status(run_dir)["state"] == "cancelled"
    assert at.dataframe[0].value.iloc[0]["state"] == "cancelled"


def test_runs_table_is_cached_on_mtimes_and_refreshes(app_env):
    from views import common
    assert common.load_runs_table().empty
    config = tiny_config(dropout_layers=0, epochs=1)
    run_dir = enqueue(config, app_env.runs, app_env.cache)
    assert list(common.load_runs_table()["state"]) == ["queued"]
    from core.runs.status import cancel
    cancel(run_dir)
    os.utime(run_dir / "status.json", ns=(1, 10**18))        # a surely different mtime
    assert list(common.load_runs_table()["state"]) == ["cancelled"]


def test_runs_table_with_200_runs_is_cached_and_refreshed_on_change(app_env):
    """Speed is a `python -m core bench` figure; here: cached reads still see new files."""
    import json

    from views import common
    for i in range(200):
        run = app_env.runs / f"run-{i:03d}"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"config": {"units": i}, "created": "x"}))
        (run / "status.json").write_text(json.dumps({"state": "finished"}))
        (run / "history.csv").write_text("epoch,loss\n1,2.0\n2,1.5\n")
    table = common.load_runs_table()
    assert common.load_runs_table().equals(table)
    assert len(table) == 200 and set(table["state"]) == {"finished"}
    status = app_env.runs / "run-007" / "status.json"
    status.write_text(json.dumps({"state": "failed", "error": "boom"}))
    os.utime(status, (time.time() + 5, time.time() + 5))
    refreshed = common.load_runs_table().set_index("run_id")
    assert refreshed.loc["run-007", "state"] == "failed"


def test_corpus_settings_are_train_config_fields(app_env):
    at = AppTest.from_string("""
import streamlit as st
from core.nets.config import TrainConfig
from views import common
st.session_state["config"] = TrainConfig(**common.corpus_settings()).validate()
""", default_timeout=TIMEOUT)
    at.session_state["corpus_source"] = "some/folder"
    at.session_state["corpus_max_pieces"] = 6
    at.session_state["corpus_chord_mode"] = "voicing"
    config = at.run().session_state["config"]
    assert (config.corpus, config.max_pieces, config.chord_mode) == ("some/folder", 6, "voicing")


# --------------------------------------------------------------------------- defense-ready

def lead_only_upload(uploads: Path) -> Path:
    """An uploaded corpus of three one-instrument pieces: nothing to accompany."""
    folder = uploads / "20260101-000000-solo"
    for i in range(3):
        write_score(folder / f"solo{i}.mid", [("Piano", melody(HIGH * 6, 0.5))])
    return folder


def test_a_corpus_without_accompaniment_says_so_on_both_pages(app_env):
    folder = lead_only_upload(app_env.uploads)
    at = open_page("corpus", corpus_source=str(folder), corpus_source_kind="previous")
    click(at, "corpus_prepare")
    assert "No piece of this corpus has an accompaniment" in texts(at, "info")
    at = open_page("train", corpus_source=str(folder))
    at.selectbox(key="tf_part").set_value("accompaniment")
    at.number_input(key="tf_window").set_value(8)
    at.button(key=SUBMIT).click().run()
    errors = " ".join(e.value for e in at.error)
    assert "this corpus has no accompaniment parts" in errors and "**part**" in errors
    assert "longest" not in errors                    # not a window length complaint
    assert run_dirs(app_env.runs) == []


def test_settings_survive_an_upload(app_env):
    at = open_page("corpus")
    at.number_input(key="corpus_max_pieces_w").set_value(7)
    rerun(at)
    at.radio(key="corpus_source_kind").set_value("upload")
    rerun(at)
    assert at.number_input(key="corpus_max_pieces_w").value == 7   # drawn above the uploader
    folder = lead_only_upload(app_env.uploads)
    at.session_state["corpus_pending_folder"] = str(folder)        # what Save upload leaves
    at.session_state["corpus_source"] = str(folder)
    rerun(at)
    assert at.radio(key="corpus_source_kind").value == "previous"
    assert at.number_input(key="corpus_max_pieces_w").value == 7
    assert at.button(key="corpus_prepare").label.endswith("(7 pieces)")
    assert at.session_state["corpus_max_pieces"] == 7


def test_a_new_session_starts_on_the_corpus_last_prepared(app_env):
    """A reload (a new session) keeps the user's own music selected once it was prepared,
    with its settings; a deleted upload falls back to the chorales."""
    folder = app_env.uploads / "20260101-000000-duo"
    for i in range(4):
        write_score(folder / f"duo{i}.mid", [("Melody", melody(HIGH * 4, 0.5)),
                                             ("Bass", melody(LOW * 4, 0.5))])
    assert "corpus_source" not in open_page("app").session_state   # the default: chorales
    at = open_page("corpus", corpus_source=str(folder), corpus_source_kind="previous",
                   corpus_max_pieces=3)
    click(at, "corpus_prepare")
    assert "duo** is the selected corpus" in texts(at, "success")
    saved = app_env.uploads / ".corpus-choice.json"
    written = saved.stat().st_mtime_ns
    assert "duo** is the selected corpus" in texts(rerun(at), "success")
    assert saved.stat().st_mtime_ns == written    # redrawn, not written again
    reloaded = open_page("app")
    assert [reloaded.session_state[k] for k in ("corpus_source", "corpus_max_pieces")] == \
        [str(folder), 3]
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    assert "corpus_source" not in open_page("app").session_state


def test_an_upload_is_deleted_after_a_confirmation(app_env):
    folder = lead_only_upload(app_env.uploads)
    keep = app_env.uploads / "20250101-000000-keep"
    keep.mkdir()
    at = open_page("corpus", corpus_source=str(folder), corpus_source_kind="previous")
    assert at.button(key="corpus_delete").disabled
    at.checkbox(key="corpus_delete_sure").check()
    rerun(at)
    click(at, "corpus_delete")
    assert not folder.exists() and keep.is_dir() and app_env.uploads.is_dir()
    assert at.session_state["corpus_source"] != str(folder)
    assert at.selectbox(key="corpus_folder_pick").value == str(keep)


def test_queue_shows_its_time_left_and_cancel_all_stops_everything(app_env, run_bank,
                                                                   tmp_path):
    runs = app_env.use_runs(run_bank.folder(tmp_path / "runs", "lead_lstm"))
    queued = [enqueue(tiny_config(seed=s), runs, app_env.cache) for s in (1, 2)]
    at = open_page("train", corpus_max_pieces=6)
    summary = texts(at, "markdown")
    assert "2 run(s) queued or training · about" in summary
    assert "left for the whole queue" in summary           # the finished run's pace
    click(at, "cancel_all")
    assert [read_status(q)["state"] for q in queued] == ["cancelled", "cancelled"]
    assert read_status(runs / run_bank.path("lead_lstm").name)["state"] == "finished"


def test_runs_are_deleted_after_a_confirmation_queued_ones_cancelled_first(app_env):
    keep = enqueue(tiny_config(seed=1), app_env.runs, app_env.cache)
    gone = enqueue(tiny_config(seed=2), app_env.runs, app_env.cache)
    at = open_page("train", corpus_max_pieces=6)
    at.checkbox(key=f"delete_runs_0_{gone.name}").check()
    rerun(at)
    assert "cancelled first" in texts(at, "caption")
    assert at.button(key="delete_runs_button").disabled
    at.checkbox(key="delete_runs_sure_0").check()
    rerun(at)
    click(at, "delete_runs_button")
    assert not gone.exists() and keep.is_dir()
    assert "Deleted 1 run(s)." in texts(at, "success")
    # the picker forgets it: no box of the deleted run, nothing ticked, the confirmation anew
    boxes = [c for c in at.checkbox if c.key and c.key.startswith("delete_runs_")]
    assert [c.key for c in boxes] == [f"delete_runs_1_{keep.name}", "delete_runs_sure_1"]
    assert not any(c.value for c in boxes)
    assert boxes[-1].label == "Tick what to delete above first" and boxes[-1].disabled


def test_the_delete_picker_lists_every_run_and_filters_them(app_env):
    """Fifteen runs are fifteen boxes (a multiselect's dropdown drew ten); a filter narrows
    them, and a run ticked before filtering stays picked."""
    for i in range(15):
        write_synthetic_run(app_env.runs, i)
    at = open_page("train", corpus_max_pieces=6)
    boxes = [c for c in at.checkbox if c.key and c.key.startswith("delete_runs_0_")]
    assert len(boxes) == 15
    assert boxes[0].label.startswith("m1-lead-gru-2x46-s14") and boxes[0].label.endswith(
        "· finished")                                           # newest first, with its state
    boxes[0].check()
    at.text_input(key="delete_runs_filter").set_value("GRU 2x3")
    rerun(at)
    shown = [c.label for c in at.checkbox if c.key and c.key.startswith("delete_runs_0_")]
    assert len(shown) == 4 and all("gru-2x3" in label for label in shown)
    assert "4 of 15 shown" in texts(at, "caption")
    assert "Yes, delete the 1 run(s)" in at.checkbox(key="delete_runs_sure_0").label
    click(at, "delete_runs_all_0")                              # tick the four shown
    assert "Yes, delete the 5 run(s)" in at.checkbox(key="delete_runs_sure_0").label


def test_every_page_has_the_glossary_and_the_start_page_leads_on(app_env, trained_runs):
    app_env.use_runs(trained_runs.runs)
    at = open_page("app")
    assert "Next step: Compare" in texts(at, "markdown")     # runs, but no sample yet
    for page in ("corpus", "train", "compare", "listen", "listening"):
        at.switch_page(f"views/{page}.py")
        rerun(at)
        (glossary,) = [e for e in at.sidebar.expander if e.label == "Glossary"]
        body = texts(glossary, "markdown")
        for term in ("hold _", "rest r", "pitch-class chord", "held-out pieces",
                     "cross-entropy loss (nats)", "baseline", "top-p (nucleus)"):
            assert f"**{term}**" in body


def test_the_start_page_queues_the_defense_demo(app_env, monkeypatch):
    """One button queues the fair comparison of the demo recipe (3 settings x 3 seeds) and an
    accompaniment run, in training order, and hands over to the Train page."""
    started = []
    monkeypatch.setattr("core.runs.worker.ensure_worker", lambda *a: started.append(a))
    at = open_page("app", corpus_max_pieces=6)
    click(at, "home_demo")
    assert "Queued the defense demo: 10 runs" in texts(at, "success")  # on the Train page
    queued = sorted(run_dirs(app_env.runs), key=lambda d: read_status(d)["queued_at"])
    runs = [json.loads((d / "config.json").read_text())["config"] for d in queued]
    assert len(runs) == 10 and started
    parts = [r["part"] for r in runs]
    assert parts.count("accompaniment") == 1 and parts[3] == "accompaniment"
    assert runs[3]["conditioned"] is True  # it reads the lead
    lead = [r for r in runs if r["part"] == "lead"]
    assert [r["cell"] for r in lead[:3]] == ["lstm", "gru", "gru"]
    assert lead[0]["units"] == lead[1]["units"] < lead[2]["units"]   # equal units, parameters
    assert sorted(r["seed"] for r in lead) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    defaults = TrainConfig()
    assert all(r["objective"] == defaults.objective and r["key_normalisation"] for r in runs)


def test_the_queue_says_the_last_epoch_in_words_not_keras_names(app_env, run_bank, tmp_path):
    runs = app_env.use_runs(run_bank.folder(tmp_path / "runs", "lead_lstm"))
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    status = json.loads((run / "status.json").read_text())
    status.update(state="running", pid=os.getpid(), host=socket.gethostname())
    (run / "status.json").write_text(json.dumps(status))
    at = open_page("train", corpus_max_pieces=6)
    (line,) = [c for c in texts(at, "caption").splitlines() if c.startswith("last epoch")]
    assert "held-out loss" in line and "training loss" in line
    assert "val_" not in line and "_" not in line
