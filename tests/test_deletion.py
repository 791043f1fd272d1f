"""Deleting runs, samples and uploads (core.runs.deletion), cancelling first, and never
anything outside the runs and uploads folders; the queue's time estimate and Cancel all."""
from __future__ import annotations

import json
import os
import threading
import time

import pandas as pd
import pytest

from core.runs import worker
from core.runs.deletion import DeletionError, delete_run, delete_sample, delete_upload
from core.runs.estimates import epoch_seconds, queue_estimate
from core.runs.samples import SAMPLE
from core.runs.status import cancel_requested, change_state, read_status, write_status


def fake_run(root, name, state="finished"):
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"run_id": name, "config": {}}))
    # a status as another host's trainer would leave it: no pid of this machine to check
    (run / "status.json").write_text(json.dumps({"state": state, "queued_at": time.time()}))
    return run


def test_delete_run_removes_only_that_run(tmp_path):
    root = tmp_path / "runs"
    keep, gone = fake_run(root, "keep"), fake_run(root, "gone")
    outside = tmp_path / "precious"
    outside.mkdir()
    delete_run(gone, root)
    assert not gone.exists() and keep.exists() and outside.exists()


@pytest.mark.parametrize("target", ["../precious", "precious-link", ".worker-dir", "nope",
                                    "keep/samples"])
def test_delete_run_refuses_anything_but_a_run_folder(tmp_path, target):
    root = tmp_path / "runs"
    fake_run(root, "keep")
    (root / "keep" / "samples").mkdir()
    (root / ".worker-dir").mkdir()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "config.json").write_text("{}")
    os.symlink(precious, root / "precious-link")
    with pytest.raises(DeletionError, match="nothing was deleted|not a run"):
        delete_run(root / target, root)
    assert precious.exists() and (root / "keep").exists() and (root / ".worker-dir").exists()


def test_deleting_a_queued_run_cancels_it_first(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = fake_run(root, "waiting", "queued")
    states = []
    monkeypatch.setattr("core.runs.deletion.shutil.rmtree",
                        lambda path: states.append(read_status(path)["state"]))
    delete_run(run, root)
    assert states == ["cancelled"]


def test_deleting_a_training_run_waits_until_it_stopped(tmp_path):
    root = tmp_path / "runs"
    run = fake_run(root, "training", "running")

    def trainer():  # what core.runs.training does when it sees the cancel file
        while not cancel_requested(run):
            time.sleep(0.05)
        change_state(run, "cancelled", ("running",))

    thread = threading.Thread(target=trainer)
    thread.start()
    delete_run(run, root, timeout=10)
    thread.join()
    assert not run.exists()


def test_a_run_that_does_not_stop_is_not_deleted(tmp_path):
    root = tmp_path / "runs"
    run = fake_run(root, "stuck", "running")
    with pytest.raises(DeletionError, match="still training"):
        delete_run(run, root, timeout=0.3)
    assert run.exists() and cancel_requested(run)


def test_delete_sample_and_upload(tmp_path):
    root = fake_run(tmp_path / "runs", "r").parent
    sample = root / "r" / "samples" / "s1"
    sample.mkdir(parents=True)
    (sample / SAMPLE).write_text("{}")
    with pytest.raises(DeletionError):
        delete_sample(root / "r", root)                       # a run is not a sample
    delete_sample(sample, root)
    assert not sample.exists() and (root / "r").exists()
    uploads = tmp_path / "uploads"
    folder = uploads / "20260101-000000-mine"
    folder.mkdir(parents=True)
    (folder / "a.mid").write_bytes(b"MThd")
    with pytest.raises(DeletionError):
        delete_upload(tmp_path / "runs", uploads)            # not under the uploads folder
    delete_upload(folder, uploads)
    assert not folder.exists() and uploads.exists() and (tmp_path / "runs").exists()


def test_cancel_all_cancels_queued_runs_and_stops_the_running_one(tmp_path):
    root = tmp_path / "runs"
    done = fake_run(root, "a-done")
    running = fake_run(root, "b-running", "running")
    write_status(running, pid=os.getpid())
    queued = [fake_run(root, f"c-queued-{i}", "queued") for i in range(2)]
    assert worker.cancel_all(root) == 3
    assert all(read_status(q)["state"] == "cancelled" for q in queued)
    assert cancel_requested(running) and not cancel_requested(done)
    assert read_status(done)["state"] == "finished"


def test_queue_estimate_from_finished_runs_of_the_same_shape():
    shape = dict(model=1, part="lead", cell="lstm", units=16, layers=1, window=16,
                 batch_size=64, objective="window", corpus="bach-chorales", max_pieces=40)
    runs = pd.DataFrame([
        dict(run_id="f1", state="finished", epochs=8, epochs_done=8, seconds=16.0, **shape),
        dict(run_id="f2", state="finished", epochs=4, epochs_done=4, seconds=12.0, **shape),
        dict(run_id="run", state="running", epochs=8, epochs_done=2, seconds=5.0, **shape),
        dict(run_id="q1", state="queued", epochs=10, epochs_done=0, seconds=0.0, **shape),
        dict(run_id="q2", state="queued", epochs=5, epochs_done=0, seconds=0.0,
             **{**shape, "units": 512}),
    ])
    assert epoch_seconds(runs)[tuple(str(shape.get(c)) for c in
                                     [c for c in runs.columns if c in shape])] == 2.5
    statuses = {"run": {"state": "running", "epoch": 2, "epochs": 8, "eta_seconds": 30.0},
                "q1": {"state": "queued"}, "q2": {"state": "queued"}}
    estimate = queue_estimate(runs, statuses)
    assert estimate.seconds == pytest.approx(30.0 + 10 * 2.5)  # q2's shape never trained
    assert (estimate.known, estimate.unknown) == (2, 1)
    assert queue_estimate(runs, {}).seconds == 0
