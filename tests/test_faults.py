"""Fault injection: training children and the worker killed with SIGKILL at chosen instants,
every run file corrupted in turn, a full disk, and processes enqueueing at once.

A process is stopped at a named instant by CORE_PAUSE_AT (core.faults.pause_point),
then killed: no race decides where the kill lands. After every fault the run must read
right ("killed", "failed" with the reason, "broken" with the reason), its files must be
whole, and a resumed run must end with the same history as the uninterrupted one.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.files import TEMP_PREFIX, write_json
from core.runs.history import read_history
from core.runs.listing import list_runs
from core.runs.record import Run
from core.runs.samples import list_samples
from core.runs.status import change_state, read_status
from core.runs.training import enqueue, resume_training, run_training
from core.runs.worker import queue_resume, work, worker_running
from tests.apptest import click, frame_with, open_page, rerun, texts
from tests.tiny import tiny_config

REPO = Path(__file__).resolve().parents[1]
COMPARED = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]  # timings differ


@pytest.fixture(scope="module")
def cache(run_bank) -> Path:
    return run_bank.cache


@pytest.fixture(scope="module")
def reference(run_bank) -> pd.DataFrame:
    """The history of the uninterrupted 3-epoch run (tests/tiny.py "three_epochs")."""
    return read_history(run_bank.path("three_epochs"))[COMPARED]


def core_process(*args: str, pause: str | None = None, **env: str) -> subprocess.Popen:
    """`python -m core ...` in the background, stopped at `pause` (CORE_PAUSE_AT)."""
    extra = {"CORE_PAUSE_AT": pause} if pause else {}
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=REPO,
                            env={**os.environ, **extra, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def process_state(pid: int) -> str:
    """'T' stopped, 'S'/'R' running, 'Z' a zombie, '' gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def wait_until(check, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def stopped(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until `proc` stopped itself at its pause point (fails if it ended instead)."""
    wait_until(lambda: process_state(proc.pid) == "T" or proc.poll() is not None, timeout,
               "the pause point")
    assert proc.poll() is None, f"the process ended (exit {proc.returncode}) before pausing"


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def hidden_files(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if p.name.startswith(".") and p.name != ".lock")


# --------------------------------------------------------------------------- kill -9

@pytest.mark.slow
@pytest.mark.parametrize("point, epochs_kept", [
    ("batch:2", 1),   # during an epoch
    ("model:2", 1),   # while the model checkpoint is written (cut short below)
    ("row:2", 2),     # epoch 2's row written, model.keras not yet renamed into place
    ("best:2", 2),    # while best.keras is written (a half temporary file below)
    ("status:2", 2),  # between epochs, everything of epoch 2 saved
])
def test_a_killed_training_resumes_to_the_same_epochs_with_whole_files(
        tmp_path, cache, reference, point, epochs_kept):
    run = enqueue(tiny_config(epochs=3), tmp_path, cache)
    child = core_process("train-run", str(run), "--cache", str(cache), pause=point)
    stopped(child)
    if point == "model:2":  # the kill lands halfway through Keras writing the file
        pending = run / ".epoch-2.keras"
        pending.write_bytes(pending.read_bytes()[:1000])
    if point == "best:2":
        (run / f"{TEMP_PREFIX}best-{child.pid}-abcdef.keras").write_bytes(b"PK\x03\x04")
    kill(child)

    assert read_status(run)["state"] == "killed"
    assert json.loads((run / "status.json").read_text())["state"] == "killed"  # on disk
    for name in ("model.keras", "best.keras"):
        assert zipfile.is_zipfile(run / name), name  # the previous complete version
    history = read_history(run)
    assert history.attrs["note"] == "" and len(history) == epochs_kept
    row = list_runs(tmp_path).set_index("run_id").loc[run.name]
    assert row["state"] == "killed" and row["epochs_done"] == epochs_kept

    status = resume_training(run, cache)
    assert status["state"] == "finished" and hidden_files(run) == []
    pd.testing.assert_frame_equal(read_history(run)[COMPARED], reference)
    assert read_history(run).attrs["note"] == ""


@pytest.mark.slow
def test_a_killed_worker_takes_its_training_with_it_and_the_run_resumes(
        tmp_path, cache, reference):
    runs = tmp_path / "runs"
    run = enqueue(tiny_config(epochs=3), runs, cache)
    worker = core_process("worker", "--runs", str(runs), "--cache", str(cache),
                          "--idle-exit", "0.5", pause="status:1")
    wait_until(lambda: read_status(run).get("pid"), what="the training child")
    child = read_status(run)["pid"]
    wait_until(lambda: process_state(child) == "T", what="the child's pause point")
    kill(worker)
    wait_until(lambda: process_state(child) in ("", "Z"), 10, "the child to die with it")
    assert not worker_running(runs)
    assert read_status(run)["state"] == "killed" and len(read_history(run)) == 1

    assert queue_resume(run)
    assert work(runs, cache, idle_exit=0.5) == 1
    assert read_status(run)["state"] == "finished"
    pd.testing.assert_frame_equal(read_history(run)[COMPARED], reference)


def test_the_train_page_resumes_a_killed_run(run_bank, app_env, monkeypatch):
    runs = run_bank.folder(app_env.runs, "lead_lstm", "lead_gru")
    killed, finished = sorted(d for d in runs.iterdir())
    write_json(killed / "status.json", {"state": "killed", "error": "killed by a test"})
    started = []
    monkeypatch.setattr("core.runs.worker.ensure_worker", lambda *args: started.append(args))
    at = open_page("train")
    assert [b.key for b in at.button if b.key.startswith("resume_")] == \
        [f"resume_{killed.name}"]  # a finished run has nothing to resume
    assert f"**{killed.name}**: killed at 2/2 epochs — killed by a test" in texts(at)
    click(at, f"resume_{killed.name}")
    status = read_status(killed)
    assert status["state"] == "queued" and status["resume"] and len(started) == 1


# --------------------------------------------------------------------------- prepare

PREPARE = """
import sys
from core.data.prepare import prepare_corpus
prepare_corpus(sys.argv[1], cache_dir=sys.argv[2], workers=2)
"""


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def test_a_killed_prepare_leaves_no_pool_worker_behind(tmp_path):
    """kill -9 of a prepare reading its files on a pool of two: the workers were left
    blocked on a pipe for good; now they die with it, and the cache is not written."""
    from tests.fixtures import midi_bytes

    folder = tmp_path / "songs"
    folder.mkdir()
    for i in range(10):  # eight or more files: the pool reads them
        (folder / f"{i}.mid").write_bytes(midi_bytes([60 + i, 62 + i, 64 + i, 65 + i]))
    prepare = subprocess.Popen([sys.executable, "-c", PREPARE, str(folder),
                                str(tmp_path / "cache")], cwd=REPO,
                               env={**os.environ, "CORE_PAUSE_AT": "prepare:1"})
    stopped(prepare)
    workers = children(prepare.pid)
    assert len(workers) == 2, workers
    kill(prepare)
    wait_until(lambda: all(process_state(w) in ("", "Z") for w in workers), 5,
               "the pool's workers to die with their parent")
    assert not [p for p in (tmp_path / "cache").glob("*") if p.suffix == ".npz"]


# --------------------------------------------------------------------------- the queue

@pytest.mark.slow
def test_a_new_worker_waits_for_a_training_its_dead_worker_left_running(tmp_path, cache):
    runs = tmp_path / "runs"
    orphan = enqueue(tiny_config(epochs=1), runs, cache)
    queued = enqueue(tiny_config(epochs=1, seed=1), runs, cache)
    gone = subprocess.Popen(["true"])
    gone.wait()  # the orphan's worker: a pid that no longer runs
    child = core_process("train-run", str(orphan), "--cache", str(cache), pause="batch:1",
                         CORE_WORKER_PID=str(gone.pid))
    stopped(child)
    worker = core_process("worker", "--runs", str(runs), "--cache", str(cache),
                          "--idle-exit", "0.5")
    time.sleep(3)  # the worker would have started the queued run by now
    assert read_status(queued)["state"] == "queued"
    os.kill(child.pid, signal.SIGCONT)
    assert child.wait(120) == 0
    assert worker.wait(120) == 0
    first, second = read_status(orphan), read_status(queued)
    assert first["state"] == second["state"] == "finished"
    assert first["ended_at"] <= second["started_at"]  # never two at a time


ENQUEUE = """
import sys, time
from pathlib import Path
from core.runs.training import enqueue
from core.runs.worker import ensure_worker
from tests.tiny import tiny_config
runs, cache, go, seed = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
go.with_name(f"ready-{seed}").touch()
while not go.exists():
    time.sleep(0.002)
enqueue(tiny_config(epochs=1, seed=seed), runs, cache)
ensure_worker(runs, cache)
"""


def enqueue_at_once(runs: Path, cache: Path, go: Path, count: int = 4) -> list[Path]:
    """`count` processes that each enqueue a run and make sure a worker runs (as the Train
    page does), released at the same instant once all have imported TensorFlow."""
    procs = [subprocess.Popen([sys.executable, "-c", ENQUEUE, str(runs), str(cache), str(go),
                               str(seed)], cwd=REPO) for seed in range(count)]
    wait_until(lambda: len(list(go.parent.glob("ready-*"))) == count, 120, "the imports")
    go.touch()
    assert [p.wait(120) for p in procs] == [0] * count
    return sorted(d for d in runs.iterdir() if not d.name.startswith("."))


def trained_once_one_at_a_time(statuses: list[dict]) -> None:
    """Every run finished, and no two trained at the same time."""
    assert [s["state"] for s in statuses] == ["finished"] * len(statuses), statuses
    spans = sorted((s["started_at"], s["ended_at"]) for s in statuses)
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])), spans


def test_workers_started_at_once_train_each_queued_run_once(tmp_path, monkeypatch):
    """Four workers (as four pages' Start worker at once): one trains, in queue order."""
    from scripts.synthetic_runs import write_synthetic_run

    runs = tmp_path / "runs"
    queued = [write_synthetic_run(runs, i) for i in range(4)]
    for i, run in enumerate(queued):
        write_json(run / "status.json", {"state": "queued", "queued_at": float(i)})
    trained: list[str] = []

    def train_child(run_dir, cache_dir):  # a training of 0.2 s, recorded
        if change_state(run_dir, "running", ("queued",), started_at=time.time()):
            trained.append(run_dir.name)
            time.sleep(0.2)
            change_state(run_dir, "finished", ("running",), ended_at=time.time())

    monkeypatch.setattr("core.runs.worker._train_child", train_child)
    go, counts = threading.Barrier(4), []

    def worker():
        go.wait()
        counts.append(work(runs, tmp_path, idle_exit=0.3))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(counts) == [0, 0, 0, 4] and trained == [r.name for r in queued]
    trained_once_one_at_a_time([read_status(run) for run in queued])


@pytest.mark.slow
def test_runs_enqueued_while_the_worker_exits_are_not_stranded(tmp_path, cache):
    runs = tmp_path / "runs"
    runs.mkdir()
    worker = core_process("worker", "--runs", str(runs), "--cache", str(cache),
                          "--idle-exit", "0.2", pause="worker-exit:1")
    stopped(worker)  # it decided to exit, and still holds the lock
    assert worker_running(runs)
    queued = enqueue_at_once(runs, cache, tmp_path / "go")  # the lock is held: no new worker
    assert [read_status(run)["state"] for run in queued] == ["queued"] * 4
    os.kill(worker.pid, signal.SIGCONT)
    assert worker.wait(300) == 0  # it looked again after letting the lock go
    trained_once_one_at_a_time([read_status(run) for run in queued])
    assert all(read_history(run)["epoch"].tolist() == [1] for run in queued)


# --------------------------------------------------------------------------- broken files

BREAKAGES = {  # each run file as a crash, a full disk or a hand edit can leave it
    "status.json": b"{half a sta",
    "config.json": b"",
    "history.csv": b"epoch,loss\n1,\x00\xff\n",
    "vocab.json": b"[not, json",
    "model.keras": b"",
    "best.keras": b"PK\x03\x04 cut",
}


@pytest.fixture
def broken_runs(run_bank, tmp_path) -> tuple[Path, dict[str, str]]:
    """The four standard runs plus one copy of lead_lstm per run file, that file broken."""
    runs = run_bank.folder(tmp_path / "runs", "lead_lstm", "lead_gru", "accompaniment",
                           "model2")
    source = run_bank.path("lead_lstm")
    broken = {}
    for name, data in BREAKAGES.items():
        copy = runs / f"{source.name}-broken-{name.replace('.', '-')}"
        shutil.copytree(source, copy)
        (copy / name).write_bytes(data)
        broken[name] = copy.name
    return runs, broken


def test_every_listing_survives_every_broken_run_file(broken_runs, capsys):
    runs, broken = broken_runs
    table = list_runs(runs).set_index("run_id")
    assert len(table) == 4 + len(BREAKAGES)  # nothing hidden
    for name in ("status.json", "config.json", "history.csv"):
        assert table.loc[broken[name], "state"] == "broken"
        assert name in table.loc[broken[name], "error"]
    assert main(["runs", "--runs", str(runs)]) == 0
    out = capsys.readouterr().out
    assert all(run_id in out for run_id in table.index)
    assert f"{broken['status.json']} (broken): status.json is unreadable" in out


def test_the_train_and_compare_pages_list_every_run_broken_or_not(broken_runs, app_env):
    runs, broken = broken_runs
    app_env.use_runs(runs)
    every = {d.name for d in runs.iterdir()}
    train = frame_with(open_page("train"), "run id")  # no exception, or the test fails
    assert set(train["run id"]) == every
    states = dict(zip(train["run id"], train["state"]))
    assert {states[broken[n]] for n in ("status.json", "config.json", "history.csv")} == \
        {"broken"}
    compare = open_page("compare")
    assert "10 of 10 runs (3 broken: see the error column)" in texts(compare)
    assert len(frame_with(compare, "state")) == len(every)


@pytest.mark.parametrize("name, outcome", [("vocab.json", "Cannot generate: run "),
                                           ("best.keras", "")])
def test_the_listen_page_says_what_a_broken_run_lacks(broken_runs, app_env, name, outcome):
    runs, broken = broken_runs
    app_env.use_runs(runs)
    at = open_page("listen")
    lead = at.selectbox(key="listen_lead")
    label = next(o for o in lead.options if broken[name].split("-", 2)[2] in o)
    lead.set_value(label)
    at.number_input(key="listen_steps").set_value(8)
    rerun(at)
    at.button(key="listen_generate").click()
    rerun(at)
    errors = [e.value for e in at.error]
    if outcome:  # one message that names the run and the file
        assert len(errors) == 1 and outcome in errors[0] and name in errors[0], errors
    else:  # best.keras unreadable: generated from model.keras instead
        assert errors == [] and list_samples(runs / broken[name]) != []


def make_best(run: Path, epoch: int) -> None:
    """Give epoch `epoch` the lowest held-out loss in history.csv, so the test, not a tiny
    network's luck, decides which epoch is the best."""
    lines = (run / "history.csv").read_text().splitlines()
    column = lines[0].split(",").index("val_loss")
    for i in range(1, len(lines)):
        cells = lines[i].split(",")
        cells[column] = "0.001" if i == epoch else "9.0"
        lines[i] = ",".join(cells)
    (run / "history.csv").write_text("\n".join(lines) + "\n")


class Killed(BaseException):
    """Stands for a kill -9 between epoch 2's history row and its model's rename."""


def test_generation_uses_the_committed_epoch_after_a_kill_before_the_model_rename(
        tmp_path, cache, monkeypatch, caplog):
    """Killed after epoch 2's history row, before .epoch-2.keras became model.keras:
    history says 2 epochs, model.keras and best.keras hold epoch 1. Generation used to take
    best.keras silently; it now takes epoch 2's model from the pending file and says so."""
    import keras

    from core.runs import checkpoint
    from core.sampling.decoding import Decoding
    from core.sampling.generation import generate, load_best

    def commit(temp, path):
        if temp.name == ".epoch-2.keras":
            raise Killed
        committed(temp, path)

    committed = checkpoint.commit
    monkeypatch.setattr(checkpoint, "commit", commit)
    run = enqueue(tiny_config(epochs=2), tmp_path, cache)
    with pytest.raises(Killed):
        run_training(run, cache)
    monkeypatch.undo()
    make_best(run, 2)
    pending = run / ".epoch-2.keras"
    assert pending.exists() and len(read_history(run)) == 2

    model, epoch = load_best(Run(run))
    assert epoch == 2
    expected = keras.saving.load_model(pending).get_weights()
    stale = keras.saving.load_model(run / "best.keras").get_weights()
    assert all((a == b).all() for a, b in zip(model.get_weights(), expected))
    assert not all((a == b).all() for a, b in zip(model.get_weights(), stale))
    with caplog.at_level(logging.WARNING, logger="core"):
        (sample,) = generate({"lead": run}, 4, [Decoding()], cache_dir=cache, render=False)
    assert sample.epochs == {"lead": 2}
    assert json.loads((sample.folder / "sample.json").read_text())["epochs"] == {"lead": 2}
    assert f"run {run.name}: epoch 2's model was saved but not yet renamed into place" in \
        caplog.text


def test_a_best_model_of_random_bytes_is_reported_damaged_not_missing(run_bank, tmp_path,
                                                                      caplog):
    from core.sampling.decoding import Decoding, GenerationError
    from core.sampling.generation import generate

    run = run_bank.copy(tmp_path, "lead_lstm")
    make_best(run, 1)  # best.keras is the model generation needs
    (run / "best.keras").write_bytes(bytes(range(256)) * 20)
    with caplog.at_level(logging.WARNING, logger="core"):
        (sample,) = generate({"lead": run}, 4, [Decoding()], cache_dir=run_bank.cache,
                             render=False)
    assert sample.epochs == {"lead": 2}  # the latest committed epoch, said in the note
    assert f"run {run.name}: best.keras (damaged: not a Keras model archive) cannot be " \
           "loaded; using model.keras instead" in caplog.text
    (run / "model.keras").write_bytes(b"")
    with pytest.raises(GenerationError) as refused:
        generate({"lead": run}, 4, [Decoding()], cache_dir=run_bank.cache, render=False)
    assert str(refused.value) == (
        f"run {run.name} cannot be loaded: run {run.name}: best.keras (damaged: not a Keras "
        "model archive) and model.keras (damaged: empty) cannot be loaded")
    assert "File not found" not in str(refused.value)


# --------------------------------------------------------------------------- full disk

@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk but `leave` bytes."""
    filler = disk / ".filler"
    stat = os.statvfs(disk)
    filler.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))
    return filler


@pytest.mark.slow
def test_a_full_disk_fails_runs_plainly_and_the_worker_goes_on(small_disk, cache):
    runs = small_disk / "runs"
    queued = [enqueue(tiny_config(epochs=2, seed=s), runs, cache) for s in (0, 1)]
    filler = fill(small_disk, 24 * 1024)  # room for a status, not for a model
    assert work(runs, cache, idle_exit=0.5) == 2  # the worker survived both
    for run in queued:
        status = read_status(run)
        assert status["state"] == "failed", status
        assert status["error"] == ("no space left on the device while saving model.keras "
                                   f"of run {run.name}")
        assert hidden_files(run) == [] and not (run / "model.keras").exists()
    filler.unlink()
    for run in queued:
        assert queue_resume(run)
    assert work(runs, cache, idle_exit=0.5) == 2
    assert [read_status(r)["state"] for r in queued] == ["finished", "finished"]
