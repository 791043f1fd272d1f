"""A tiny real training fills a complete run directory; errors, kills and a full disk lose
nothing, and a stopped run resumes to what the uninterrupted run would have been."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.files import RunError, WriteError, write_json
from core.nets.config import ConfigError
from core.runs.history import read_history
from core.runs.listing import list_runs
from core.runs.record import open_run
from core.runs.status import cancel, change_state, read_status, request_cancel
from core.runs.training import enqueue, epoch_seed, resume_training, run_training, train
from tests.tiny import tiny_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache(run_bank):
    """The run bank's prepared corpus cache (the tiny corpus is prepared once)."""
    return run_bank.cache


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes (the lock a status change takes is no content)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != ".lock"}


def test_model1_run_directory_is_complete(tmp_path, cache):
    run = train(tiny_config(model=1, cell="gru"), tmp_path, cache)
    for name in ("config.json", "status.json", "history.csv", "vocab.json", "model.keras",
                 "best.keras"):
        assert (run / name).is_file(), name
    record = json.loads((run / "config.json").read_text())
    assert record["config"]["cell"] == "gru"
    assert record["corpus"]["id"] == "bach-chorales" and len(record["corpus"]["key"]) == 64
    assert record["corpus"]["held_out"], "a held-out piece is recorded"
    assert record["versions"]["tensorflow"] and record["parameters"] > 0
    history = read_history(run)
    assert list(history["epoch"]) == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(history.columns)
    assert history["val_loss"].notna().all() and (history["seconds"] > 0).all()
    assert read_status(run)["state"] == "finished"
    vocab = json.loads((run / "vocab.json").read_text())
    assert len(vocab["steps"]) == record["vocab_sizes"]["steps"]


def test_model2_history_has_each_head(tmp_path, cache):
    run = train(tiny_config(model=2), tmp_path, cache)
    columns = set(read_history(run).columns)
    for head in ("pitch", "duration"):
        assert {f"{head}_loss", f"{head}_accuracy", f"val_{head}_loss",
                f"val_{head}_accuracy"} <= columns


def test_window_longer_than_every_piece_is_refused_before_anything_is_written(tmp_path, cache):
    with pytest.raises(ConfigError) as err:
        enqueue(tiny_config(window=5000), tmp_path, cache)
    assert err.value.field == "window" and "needs a training piece of 5001" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("gpu, asked, recorded", [(False, "auto", "lookup"),
                                                   (True, "auto", "onehot"),
                                                   (True, "lookup", "lookup"),
                                                   (False, "onehot", "onehot")])
def test_an_auto_input_encoding_is_fixed_when_the_run_is_created(tmp_path, cache, monkeypatch,
                                                                 gpu, asked, recorded):
    """'auto' becomes the faster form on the machine that creates the run, and config.json
    records that form, so a resume or a generation elsewhere builds the same network; a form
    the user chose is kept whatever the machine."""
    monkeypatch.setattr("core.nets.models.gpu_present", lambda: gpu)
    run = enqueue(tiny_config(input_encoding=asked), tmp_path, cache)
    assert json.loads((run / "config.json").read_text())["config"]["input_encoding"] == recorded


def test_crash_keeps_finished_epochs_and_other_runs(tmp_path, cache):
    other = train(tiny_config(epochs=1), tmp_path, cache)
    before = snapshot(other)

    def crash(row):
        raise RuntimeError("disk on fire")

    run = enqueue(tiny_config(), tmp_path, cache)
    with pytest.raises(RuntimeError):
        run_training(run, cache, on_epoch=crash)
    status = read_status(run)
    assert status["state"] == "failed" and "disk on fire" in status["error"]
    assert len(read_history(run)) == 1
    assert snapshot(other) == before
    table = list_runs(tmp_path).set_index("run_id")
    assert table.loc[run.name, "state"] == "failed"
    assert table.loc[other.name, "state"] == "finished"


def test_cancel_stops_and_keeps_history(tmp_path, cache):
    run = enqueue(tiny_config(epochs=5), tmp_path, cache)
    request_cancel(run)
    status = run_training(run, cache)
    assert status["state"] == "cancelled"
    assert len(read_history(run)) < 5


def test_broken_run_directory_is_listed_not_fatal(tmp_path, cache):
    good = train(tiny_config(epochs=1), tmp_path, cache)
    broken = tmp_path / "broken-run"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "status.json").write_text('{"state": "finished"}')
    table = list_runs(tmp_path).set_index("run_id")
    assert table.loc["broken-run", "state"] == "broken"
    assert table.loc[good.name, "state"] == "finished"


@pytest.mark.slow
def test_killed_training_reads_as_killed_with_its_epochs(tmp_path, cache):
    run = enqueue(tiny_config(epochs=200), tmp_path, cache)
    proc = subprocess.Popen([sys.executable, "-m", "core", "train-run", str(run), "--cache",
                             str(cache)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(read_history(run)) < 2:
        time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    status = read_status(run)
    assert status["state"] == "killed"
    assert len(read_history(run)) >= 2
    assert list_runs(tmp_path).set_index("run_id").loc[run.name, "state"] == "killed"


def test_queue_takes_runs_in_the_order_they_were_queued(tmp_path, cache):
    from core.runs.worker import queued_runs

    queued = [enqueue(tiny_config(seed=s), tmp_path, cache) for s in (3, 1, 2)]
    assert queued_runs(tmp_path) == queued


# --------------------------------------------------------------------------- the queue

def test_a_run_cancelled_as_it_is_picked_up_stays_cancelled(tmp_path, cache):
    run = enqueue(tiny_config(), tmp_path, cache)
    cancel(run)
    status = run_training(run, cache)  # the worker's child arrives just after the cancel
    assert status["state"] == "cancelled" and status["error"] == "cancelled before it started"
    assert read_history(run).empty and not (run / "model.keras").exists()


# --------------------------------------------------------------------------- resume

HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]  # not timings


@pytest.fixture(scope="module")
def three_epochs(run_bank):
    """An uninterrupted 3-epoch run: what a resumed one must equal (read-only)."""
    return run_bank.path("three_epochs")


def stop_after(epochs: int):
    def on_epoch(row):
        if row["epoch"] == epochs:
            raise KeyboardInterrupt  # Ctrl-C right after the epoch was saved
    return on_epoch


def test_a_resumed_run_equals_the_uninterrupted_one(tmp_path, cache, three_epochs):
    run = enqueue(tiny_config(epochs=3), tmp_path, cache)
    with pytest.raises(KeyboardInterrupt):
        run_training(run, cache, on_epoch=stop_after(2))
    assert read_status(run)["state"] == "failed" and len(read_history(run)) == 2
    status = resume_training(run, cache)
    assert status["state"] == "finished" and status["resumed_at"] == 3
    resumed, reference = read_history(run), read_history(three_epochs)
    assert resumed["epoch"].tolist() == [1, 2, 3]  # each epoch once
    pd.testing.assert_frame_equal(resumed[HISTORY_COLUMNS], reference[HISTORY_COLUMNS])
    weights = [open_run(r).load_model("latest").get_weights() for r in (run, three_epochs)]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))  # optimizer and RNG restored
    assert [r["epoch"] for r in json.loads((run / "config.json").read_text())["resumes"]] == [3]
    assert list_runs(tmp_path).set_index("run_id").loc[run.name, "note"] == "resumed at epoch 3"


def test_training_a_run_that_has_epochs_is_refused_without_touching_it(tmp_path, cache):
    run = enqueue(tiny_config(epochs=3), tmp_path, cache)
    with pytest.raises(KeyboardInterrupt):
        run_training(run, cache, on_epoch=stop_after(1))
    change_state(run, "queued", ("failed",))  # e.g. queued again by hand
    before = snapshot(run)
    with pytest.raises(RunError, match=f"already has epochs: resume it .*resume {run.name}"):
        run_training(run, cache)
    assert snapshot(run) == before


def test_resume_refuses_a_finished_or_running_run(tmp_path, cache):
    run = train(tiny_config(epochs=1), tmp_path, cache)
    with pytest.raises(RunError, match="finished all its epochs"):
        resume_training(run, cache)
    write_json(run / "status.json", {"state": "running", "pid": os.getpid(),
                                     "host": socket.gethostname()})
    with pytest.raises(RunError, match="is running: only a failed, killed or cancelled"):
        resume_training(run, cache)


def test_each_epoch_has_its_own_seed():
    seeds = [epoch_seed(s, e) for s in (0, 1) for e in range(4)]
    assert len(set(seeds)) == 8 and epoch_seed(0, 2) == epoch_seed(0, 2)
    assert all(0 <= s < 2**32 for s in seeds)


# --------------------------------------------------------------------------- full disk

def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def full_disk_at(monkeypatch, site: str) -> None:
    """Make one write site of training fail as a full disk does: Keras' save after writing
    part of the file; the other files when they are flushed (their data written)."""
    import keras

    if site == "model.keras":
        def save(model, path, *args, **kwargs):
            Path(path).write_bytes(b"PK\x03\x04")  # Keras got this far
            no_space()
        monkeypatch.setattr(keras.Model, "save", save)
        return
    real_fsync, stem = os.fsync, Path(site).stem

    def fsync(fd):
        name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
        if name == site or name.startswith(f".tmp-{stem}-"):
            no_space()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.slow
@pytest.mark.parametrize("site", ["model.keras", "best.keras", "history.csv", "config.json"])
def test_a_full_disk_fails_the_run_with_one_message_and_loses_nothing(tmp_path, cache,
                                                                      monkeypatch, site):
    run = enqueue(tiny_config(epochs=2), tmp_path, cache)
    with monkeypatch.context() as patch:
        full_disk_at(patch, site)
        with pytest.raises(WriteError) as err:
            run_training(run, cache)
    assert str(err.value) == f"no space left on the device while saving {site} of run {run.name}"
    status = read_status(run)
    assert status["state"] == "failed" and status["error"] == str(err.value)
    assert [p.name for p in run.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []
    assert read_history(run).attrs["note"] == ""  # whole rows only
    if site != "config.json":
        assert resume_training(run, cache)["state"] == "finished"  # space again: it goes on
        assert read_history(run)["epoch"].tolist() == [1, 2]


def test_a_status_that_cannot_be_written_leaves_the_run_queued_and_whole(tmp_path, cache,
                                                                         monkeypatch):
    run = enqueue(tiny_config(), tmp_path, cache)
    before = snapshot(run)
    with monkeypatch.context() as patch:
        full_disk_at(patch, "status.json")
        with pytest.raises(WriteError, match="no space left on the device while saving "
                                             f"status.json of run {run.name}"):
            run_training(run, cache)
    assert snapshot(run) == before and read_status(run)["state"] == "queued"


def test_the_sequence_objective_trains_on_short_windows_and_is_measured_on_the_window(
        tmp_path, cache):
    """sequence_window 4 with window 8: training windows of 4 symbols, in whole batches;
    the held-out loss still reads the 8-symbol windows every run is measured on."""
    from core.data.prepare import corpus_for
    from core.nets.windows import batches_per_epoch, build_windows, windows_per_epoch

    config = tiny_config(objective="sequence", sequence_window=4, batch_size=16)
    run = train(config, tmp_path, cache)
    record = json.loads((run / "config.json").read_text())
    vocabs = open_run(run).vocabs
    corpus = corpus_for(config, cache)
    short = build_windows(corpus, config, vocabs, "train", 4)
    held_out = build_windows(corpus, config, vocabs, "validation")
    assert record["train_windows"] == windows_per_epoch(short, "sequence") == len(short) // 4
    assert record["held_out_windows"] == len(held_out) and held_out.window == 8
    assert record["whole_batches"] is True
    assert read_status(run)["batches"] == batches_per_epoch(short, config) \
        == record["train_windows"] // 16
    assert read_history(run)["val_loss"].notna().all()
