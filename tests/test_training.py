"""A tiny real training fills a complete run directory; errors, kills and a full disk lose
nothing, and a stopped run resumes to what the uninterrupted run would have been."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.nets.config import ConfigError
from core.nets.training import enqueue, run_training, train
from core.runs.history import read_history
from core.runs.listing import list_runs
from core.runs.record import read_status, request_cancel
from core.runs.worker import cancel
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
