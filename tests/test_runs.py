"""The run record (core.runs): one Run object reads each file of a run once; the listing
reads every run in one pass and turns broken files into "broken" rows with the reason;
history.csv and sample.json each have one reader."""
from __future__ import annotations

import errno
import json
import logging
import os
import socket
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from core.files import RunError, RunFileError, WriteError, atomic_path, write_json
from core.nets.config import SETTING_FIELDS, TrainConfig
from core.processes import process_identity
from core.runs.history import PARTIAL_NOTE, append_history, keep_epochs, read_history
from core.runs.listing import SETTING_COLUMNS, list_runs, runs_table
from core.runs.record import Run, open_run
from core.runs.samples import list_samples, read_sample
from core.runs.status import FINAL, cancel, change_state, read_status, write_status
from core.runs.worker import queue_resume
from scripts.synthetic_runs import write_synthetic_run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Three good runs (epochs 3, 3, 2) and four broken in different ways."""
    root = tmp_path / "runs"
    for i in range(3):
        write_synthetic_run(root, i, epochs=3 if i < 2 else 2)
    bad_status = write_synthetic_run(root, 3)
    (bad_status / "status.json").write_text("{half a status")
    bad_history = write_synthetic_run(root, 4)
    (bad_history / "history.csv").write_text("epoch,loss\n1,2.0\n2,\x00oops\n")
    listed = root / "20260101-900000-config-is-a-list"
    listed.mkdir()
    (listed / "config.json").write_text("[1, 2]")
    (listed / "status.json").write_text('{"state": "finished"}')
    (root / "20260101-990000-no-config").mkdir()
    (root / ".worker.lock").write_text("")  # not a run
    return root


def test_runs_table_reads_each_file_of_each_run_once(runs: Path, monkeypatch):
    reads: list[str] = []
    real_open = Path.open

    def counted_open(path: Path, *args, **kwargs):  # read_text opens through it too
        reads.append(f"{path.parent.name}/{path.name}")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counted_open)
    table = runs_table(runs)
    assert len(table) == 7
    assert len(reads) == len(set(reads))  # no file read twice
    assert sum(r.endswith("/config.json") for r in reads) == 7  # once each, absent or not
    assert sum(r.endswith("/history.csv") for r in reads) == 5  # good ones and a broken one


def test_broken_files_make_broken_rows_with_the_reason(runs: Path):
    table = runs_table(runs).set_index("run_id")
    broken = table[table["state"] == "broken"]
    assert len(broken) == 4 and (table["state"] == "finished").sum() == 3
    errors = broken["error"].to_dict()
    assert any("status.json is unreadable" in e for e in errors.values())
    assert errors["20260101-900000-config-is-a-list"].endswith("config.json holds no settings")
    assert errors["20260101-990000-no-config"] == \
        "run 20260101-990000-no-config is missing config.json"
    history_error = next(e for e in errors.values() if "history.csv" in e)
    assert "line 3" in history_error and "\x00" not in history_error
    good = table[table["state"] == "finished"]
    assert list(good["epochs_done"]) == [3, 3, 2]


def test_list_runs_is_runs_table_with_the_short_settings(runs: Path):
    full, short = runs_table(runs), list_runs(runs)
    assert "dropout_rate" in full and "dropout_rate" not in short
    assert set(SETTING_COLUMNS) <= set(short.columns)
    pd.testing.assert_frame_equal(short, full[short.columns])
    assert set(full.columns) - set(short.columns) <= set(SETTING_FIELDS)


def test_final_and_best_metrics_come_from_the_history(runs: Path):
    run_id = sorted(p.name for p in runs.iterdir() if p.name.startswith("20260101-000000"))[0]
    row = runs_table(runs).set_index("run_id").loc[run_id]
    history = read_history(runs / run_id)
    assert row["final_loss"] == history["loss"].iloc[-1]
    assert row["best_val_loss"] == history["val_loss"].min()
    assert row["seconds"] == history["seconds"].sum()
    assert "final_epoch" not in row and "final_seconds" not in row


def test_settings_fill_fields_recorded_before_they_existed_and_are_not_validated(tmp_path):
    run = tmp_path / "old"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {"units": 0, "cell": "gru"}}))
    settings = Run(run).settings
    assert settings["units"] == 0 and settings["cell"] == "gru"  # listed as it was
    assert settings["dropout_rate"] == TrainConfig().dropout_rate
    with pytest.raises(RunFileError, match="config.json.*units"):
        Run(run).config  # noqa: B018  training and generation need valid settings


def test_empty_runs_folder_gives_an_empty_table_with_the_setting_columns(tmp_path):
    for table in (runs_table(tmp_path / "none"), list_runs(tmp_path)):
        assert table.empty and {"run_id", "state", *SETTING_COLUMNS} <= set(table.columns)


# --------------------------------------------------------------------------- history.csv

def test_read_history_orders_epochs_and_keeps_gaps_as_nan(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n2,1.0,\n1,2.0,2.5\n\n3,0.5\n")
    history = read_history(tmp_path)
    assert history["epoch"].tolist() == [1, 2, 3] and history["epoch"].dtype == "int64"
    assert history["loss"].tolist() == [2.0, 1.0, 0.5]
    assert history["val_loss"].iloc[0] == 2.5 and history["val_loss"].iloc[1:].isna().all()


def test_read_history_reads_what_append_history_writes(tmp_path):
    rows = [{"epoch": e, "loss": 1 / e, "val_loss": 2 / e, "seconds": 0.5} for e in (1, 2)]
    for row in rows:
        append_history(tmp_path, row)
    pd.testing.assert_frame_equal(read_history(tmp_path), pd.DataFrame(rows),
                                  check_dtype=False)


@pytest.mark.parametrize("text, reason", [
    ("epoch,loss\n1,abc\n", ", line 2: the loss column holds 'abc', not a number"),
    ("epoch,loss\n1,2,3\n", ", line 2: 3 values under 2 column names"),
    ("loss\n1.0\n", " has no epoch column"),
])
def test_read_history_names_the_file_and_the_reason(tmp_path, text, reason):
    (tmp_path / "history.csv").write_text(text)
    with pytest.raises(RunFileError) as err:
        read_history(tmp_path)
    assert str(err.value) == f"{tmp_path / 'history.csv'}{reason}"


def test_run_file_error_is_a_run_error_and_a_value_error(tmp_path):
    (tmp_path / "history.csv").write_bytes(b"epoch\n\xff\xfe\n")
    with pytest.raises(RunError, match="is not a text file"):
        read_history(tmp_path)
    assert issubclass(RunFileError, ValueError)


# --------------------------------------------------------------------------- a real run

def test_a_trained_run_through_run(run_bank, tmp_path):
    path = run_bank.copy(tmp_path, "lead_lstm")
    run = open_run(path)
    assert run.config.cell == "lstm" and set(run.vocabs) == {"steps"}
    assert run.has_model and (path / "best.keras").is_file()
    assert run.held_out_pieces == run.record["corpus"]["held_out"] != []
    assert len(run.history) == run.config.epochs and run.status["state"] == "finished"
    run.add_to_record(note="kept")
    assert json.loads((path / "config.json").read_text())["note"] == "kept"
    assert Run(path).record["parameters"] == run.record["parameters"]


def test_a_run_is_a_snapshot_and_a_new_one_sees_new_epochs(run_bank, tmp_path):
    path = run_bank.copy(tmp_path, "lead_lstm")
    run = Run(path)
    epochs = len(run.history)
    append_history(path, {**run.history.iloc[-1].to_dict(), "epoch": epochs + 1})
    assert len(run.history) == epochs and len(Run(path).history) == epochs + 1


def test_open_run_names_the_missing_or_broken_file(run_bank, tmp_path):
    path = run_bank.copy(tmp_path, "lead_lstm")
    (path / "vocab.json").write_text("{not json")
    with pytest.raises(RunFileError, match="broken vocab.json"):
        open_run(path)
    (path / "vocab.json").unlink()
    with pytest.raises(RunError, match="missing vocab.json"):
        open_run(path)
    for name in ("best.keras", "model.keras"):
        (path / name).unlink()
    assert not Run(path).has_model
    with pytest.raises(RunError, match="no saved model"):
        Run(path).load_model()


# --------------------------------------------------------------------------- samples

def test_list_samples_newest_first_through_the_one_reader(tmp_path):
    samples = tmp_path / "run" / "samples"
    for name, text in (("20260101-1", '{"sample_id": "a"}'), ("20260101-2", "[]"),
                       ("20260101-3", '{"sample_id": "c"}'), ("20260101-4", "{half")):
        (samples / name).mkdir(parents=True)
        (samples / name / "sample.json").write_text(text)
    assert [s["sample_id"] for s in list_samples(tmp_path / "run")] == ["c", "a"]
    assert list_samples(tmp_path / "nothing") == []
    with pytest.raises(RunFileError, match="holds no sample"):
        read_sample(samples / "20260101-2")


# --------------------------------------------------------------------------- atomic files

def test_a_failed_atomic_write_keeps_the_previous_version_and_no_temporary_file(tmp_path):
    path = tmp_path / "status.json"
    write_json(path, {"state": "queued"})
    with pytest.raises(WriteError, match="could not save status.json in .*: boom"):
        with atomic_path(path) as temp:
            temp.write_text('{"state": "runn')  # half written when the process dies
            raise OSError(errno.EIO, "boom")
    assert json.loads(path.read_text()) == {"state": "queued"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     RuntimeError("h5py: No space left on device (errno 28)")])
def test_a_full_disk_is_said_plainly_whichever_library_hit_it(tmp_path, failure):
    with pytest.raises(WriteError) as err:
        with atomic_path(tmp_path / "model.keras", "model.keras of run r1"):
            raise failure
    assert str(err.value) == "no space left on the device while saving model.keras of run r1"
    assert err.value.full and list(tmp_path.iterdir()) == []


def test_other_errors_inside_a_save_pass_unchanged(tmp_path):
    with pytest.raises(KeyError):
        with atomic_path(tmp_path / "x.json"):
            raise KeyError("a bug, not a write")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- history rows

HISTORY_TEXT = ("epoch,loss,val_loss,seconds\r\n1,2.5,2.25,1.0\r\n2,1.5,1.25,1.0\r\n"
                "3,1.25,1.09,1.0\r\n")


def test_a_last_row_cut_at_any_byte_is_left_out_with_a_note(tmp_path):
    data = HISTORY_TEXT.encode()
    last = data.rindex(b"\r\n3,") + 2
    for cut in range(last, len(data)):  # every byte offset of the last row, its end too
        (tmp_path / "history.csv").write_bytes(data[:cut])
        history = read_history(tmp_path)  # "3,1.25,1.09,1.0\r" is still cut short
        assert history["epoch"].tolist() == [1, 2], cut
        assert history["val_loss"].min() == 1.25, cut  # never a cut "1.0" or "0"
        assert history.attrs["note"] == ("" if cut == last else PARTIAL_NOTE), cut
    (tmp_path / "history.csv").write_bytes(data)
    assert read_history(tmp_path)["epoch"].tolist() == [1, 2, 3]
    assert read_history(tmp_path).attrs["note"] == ""


def test_a_header_cut_at_any_byte_is_no_epoch_yet(tmp_path):
    header = HISTORY_TEXT.split("\r\n")[0]
    for cut in range(1, len(header) + 1):
        (tmp_path / "history.csv").write_text(header[:cut])
        history = read_history(tmp_path)
        assert history.empty and history.attrs["note"] == PARTIAL_NOTE, cut


def test_the_listing_counts_only_whole_rows_and_notes_the_cut(tmp_path):
    run = write_synthetic_run(tmp_path, 0, epochs=3)
    text = (run / "history.csv").read_text()
    (run / "history.csv").write_text(text[:text.rindex(",")])  # "3,...,1.0" cut before elapsed
    row = runs_table(tmp_path).iloc[0]
    assert row["epochs_done"] == 2 and row["state"] == "finished"
    assert row["note"] == PARTIAL_NOTE


def test_append_history_drops_a_cut_row_first_and_never_leaves_half_a_row(tmp_path,
                                                                          monkeypatch):
    (tmp_path / "history.csv").write_text("epoch,loss\n1,2.0\n2,1.")
    append_history(tmp_path, {"epoch": 2, "loss": 1.5})
    assert (tmp_path / "history.csv").read_bytes() == b"epoch,loss\n1,2.0\n2,1.5\r\n"
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, data[:3])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(WriteError, match="no space left on the device while saving "
                                         "history.csv of"):
        append_history(tmp_path, {"epoch": 3, "loss": 1.0})
    monkeypatch.undo()
    assert read_history(tmp_path)["epoch"].tolist() == [1, 2]
    assert (tmp_path / "history.csv").read_bytes().endswith(b"2,1.5\r\n")


def test_keep_epochs_cuts_the_history_to_a_checkpoint(tmp_path):
    (tmp_path / "history.csv").write_bytes(HISTORY_TEXT.encode() + b"4,1.0,")
    keep_epochs(tmp_path, 2)
    history = read_history(tmp_path)
    assert history["epoch"].tolist() == [1, 2] and history.attrs["note"] == ""
    assert history["val_loss"].tolist() == [2.25, 1.25]


# --------------------------------------------------------------------------- status changes

def status_of(run: Path) -> dict:
    return json.loads((run / "status.json").read_text())


def test_state_changes_are_compare_and_set(tmp_path):
    run = write_synthetic_run(tmp_path, 0)
    write_json(run / "status.json", {"state": "queued"})
    assert cancel(run) == "queued" and status_of(run)["state"] == "cancelled"
    assert change_state(run, "running", ("queued",)) is None  # the worker came too late
    assert status_of(run)["state"] == "cancelled"
    with pytest.raises(ValueError, match="change_state"):
        write_status(run, state="running")
    assert queue_resume(run) and status_of(run) | {"resume": True} == status_of(run)
    running = change_state(run, "running", ("queued",))
    assert running["pid"] == os.getpid() and running["process"] == process_identity(os.getpid())
    for final in FINAL:  # nothing but an explicit resume leaves a final state
        write_json(run / "status.json", {"state": final})
        assert change_state(run, "running", ("queued",)) is None
        assert change_state(run, "finished", ("running",)) is None
        assert status_of(run)["state"] == final


def test_a_running_run_whose_process_is_gone_is_rewritten_killed(tmp_path):
    run = write_synthetic_run(tmp_path, 0)
    dead = subprocess.Popen(["true"])
    dead.wait()
    write_json(run / "status.json", {"state": "running", "pid": dead.pid,
                                     "host": socket.gethostname()})
    assert read_status(run)["state"] == "killed"
    assert status_of(run)["state"] == "killed" and "without a final status" in \
        status_of(run)["error"]


def test_a_reused_pid_is_not_mistaken_for_the_trainer(tmp_path):
    run = write_synthetic_run(tmp_path, 0)
    write_json(run / "status.json", {"state": "running", "pid": os.getpid(),
                                     "host": socket.gethostname(), "process": "other:1"})
    assert read_status(run)["state"] == "killed"  # this pid runs, but another process
    write_json(run / "status.json", {"state": "running", "pid": os.getpid(),
                                     "host": socket.gethostname(),
                                     "process": process_identity(os.getpid())})
    assert read_status(run)["state"] == "running"


# --------------------------------------------------------------------------- broken files

def test_each_broken_run_file_is_a_listed_reason_and_hides_nothing(tmp_path):
    breakages = {"status.json": "{half", "config.json": "[1, 2]",
                 "history.csv": "epoch,loss\n1,\x00\n"}
    for i, (name, text) in enumerate(breakages.items()):
        (write_synthetic_run(tmp_path, i) / name).write_text(text)
    (write_synthetic_run(tmp_path, 3) / "status.json").unlink()
    write_synthetic_run(tmp_path, 4)
    table = list_runs(tmp_path).set_index("run_id")
    assert list(table["state"]) == ["broken"] * 4 + ["finished"]
    reasons = ["status.json is unreadable", "config.json holds no settings",
               "history.csv, line 2: the loss column holds", "status.json is missing"]
    for error, reason in zip(table["error"], reasons):
        assert reason in error


# --------------------------------------------------------------------------- models, samples

def test_open_run_says_a_file_is_not_a_run_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(RunError, match="config.json is a file, not a run folder"):
        open_run(tmp_path / "config.json")
    with pytest.raises(RunError, match="there is no run folder"):
        open_run(tmp_path / "nothing")


def test_an_empty_best_keras_falls_back_to_model_keras_with_a_note(run_bank, tmp_path, caplog):
    path = run_bank.copy(tmp_path, "lead_lstm")
    (path / "best.keras").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="core"):
        model = Run(path).load_model()
    assert model is not None
    assert "best.keras" in caplog.text and "using model.keras instead" in caplog.text
    (path / "model.keras").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(RunFileError, match="best.keras .* and model.keras .* cannot be loaded"):
        Run(path).load_model()
