"""Sweeps on Ray Tune, end to end, as the CLI and the dashboard run them (`python -m core
sweep` in its own process): a tiny grid on embedded Ray with a queued single run waiting
for it; trials killed with SIGKILL resuming; a cancelled sweep continuing on a re-run; a
two-node cluster of local processes. Each test uses its own short Ray temp dir and ends
every Ray process it started (tests/ray_helpers.py).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from core.evidence.verdict import verdict_table
from core.runs import worker
from core.runs.history import read_history
from core.runs.listing import list_runs, runs_table
from core.runs.record import Run
from core.runs.status import read_status, wait_for
from core.runs.training import enqueue
from core.sweeps.driver import cancel_sweep
from core.sweeps.progress import failures, read_progress, trial_runs
from core.sweeps.spec import sweep_dirs
from tests.apptest import open_page, rerun
from tests.ray_helpers import (
    RAY,
    core_command,
    end_ray,
    process_state,
    ray_environment,
    short_temp,
    wait_gone,
)
from tests.tiny import TINY, tiny_config

pytestmark = pytest.mark.slow
TINY_FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "epochs"]


@pytest.fixture
def ray_temp():
    temp = short_temp()
    yield temp
    end_ray(temp)


def sweep_flags(tmp_path: Path, cache: Path, *flags: str) -> list[str]:
    return ["sweep", *TINY_FLAGS, "--runs", tmp_path / "runs", "--sweeps", tmp_path / "sweeps",
            "--cache", cache, *flags]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert proc is None or proc.poll() is None, f"the driver ended before {what}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def the_sweep(tmp_path: Path) -> Path:
    return wait_until(lambda: (sweep_dirs(tmp_path / "sweeps") or [None])[0], 60, "the sweep")


def epochs(run_dir: Path) -> list[int]:
    return read_history(run_dir)["epoch"].tolist()


def test_a_tiny_grid_on_embedded_ray_gives_runs_compare_and_the_verdict_read(
        tmp_path, run_bank, ray_temp, app_env):
    """2 cells x 2 seeds on embedded Ray: 4 complete run directories grouped by sweep; a
    single run queued meanwhile waits for the sweep (one training at a time), then the
    sweep hands the queue a worker; Compare filters by sweep; the verdict pairs the seeds."""
    runs = tmp_path / "runs"
    env = ray_environment(ray_temp)
    driver = core_command(*sweep_flags(tmp_path, run_bank.cache, "--epochs=2", "--grid",
                                       "cell=lstm,gru", "--seeds=2", "--name=grid"),
                          env=env, log=tmp_path / "driver.log")
    sweep = the_sweep(tmp_path)
    wait_until(lambda: trial_runs(runs, sweep.name), 120, "a trial's run", driver)
    single = enqueue(tiny_config(label="single"), runs, run_bank.cache)
    worker.ensure_worker(runs, run_bank.cache)  # as the Train page does: the lock is held
    assert worker.worker_running(runs) and worker.work(runs, run_bank.cache, 0.1) == 0
    assert driver.wait(240) == 0, (tmp_path / "driver.log").read_text()
    log = (tmp_path / "driver.log").read_text()
    assert "4 of 4 trials done" in log and f"sweep {sweep.name}: finished" in log
    wait_for(single, timeout=180)
    assert wait_gone(ray_temp, 30) == [], "Ray processes outlived the sweep"

    trials = trial_runs(runs, sweep.name)
    assert sorted(trials) == ["t0000-s0", "t0000-s1", "t0001-s0", "t0001-s1"]
    for run_dir in trials.values():
        assert read_status(run_dir)["state"] == "finished" and epochs(run_dir) == [1, 2]
    table = list_runs(runs)
    assert (table["sweep"] == sweep.name).sum() == 4
    assert table.set_index("run_id").loc[single.name, "state"] == "finished"
    spans = sorted((Run(d).status["started_at"], Run(d).status["ended_at"])
                   for d in [*trials.values(), single])
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"trainings overlap: {spans}"

    verdict = verdict_table(runs_table(runs).query("sweep == @sweep.name"))
    assert len(verdict) == 1 and verdict.iloc[0][["lstm_n", "gru_n"]].tolist() == [2, 2]
    app_env.use_runs(runs)
    at = open_page("compare")
    at.multiselect(key="compare_filter_sweep").select(sweep.name)
    assert any("4 of 5 runs" in c.value for c in rerun(at).caption)


def paused_trials(runs: Path, sweep: str) -> list[tuple[Path, int]]:
    """Trials whose process stopped itself at the pause point (CORE_PAUSE_AT)."""
    found = []
    for run_dir in trial_runs(runs, sweep).values():
        status = json.loads((run_dir / "status.json").read_text())
        pid = int(status.get("pid") or 0)
        if status.get("state") == "running" and pid and process_state(pid) == "T":
            found.append((run_dir, pid))
    return found


def test_killed_trials_resume_and_a_cancelled_sweep_continues_on_a_rerun(
        tmp_path, run_bank, ray_temp):
    """Each trial stops itself after committing epoch 2. The first is killed with SIGKILL:
    Ray Tune restarts it and it resumes from epoch 2. While the second is stopped, the sweep
    is cancelled: that trial ends "cancelled" at 2 epochs, and re-running the sweep
    continues it. Every epoch is in each history once, and each run says it resumed."""
    runs = tmp_path / "runs"
    env = ray_environment(ray_temp)
    driver = core_command(*sweep_flags(tmp_path, run_bank.cache, "--epochs=4", "--grid",
                                       "cell=lstm,gru", "--seeds=1"),
                          env={**env, "CORE_PAUSE_AT": "status:2"}, log=tmp_path / "run1.log")
    sweep = the_sweep(tmp_path)
    killed, pid = wait_until(lambda: paused_trials(runs, sweep.name), 180, "a paused trial",
                             driver)[0]
    os.kill(pid, signal.SIGKILL)
    other, pid = wait_until(lambda: [p for p in paused_trials(runs, sweep.name)
                                     if p[0] != killed], 180, "the second trial", driver)[0]
    cancel_sweep(sweep, runs)
    os.kill(pid, signal.SIGCONT)
    assert driver.wait(120) == 0
    first_log = (tmp_path / "run1.log").read_text()
    assert "cancelled" in first_log and "continue it with" in first_log
    assert "A worker died or was killed" in first_log and "\x1b[" not in first_log  # plain
    assert read_progress(sweep)["state"] == "cancelled"
    assert read_status(killed)["state"] == "finished" and epochs(killed) == [1, 2, 3, 4]
    assert "restarted this trial after its process died" in read_status(killed)["sweep_note"]
    assert read_status(other)["state"] == "cancelled" and epochs(other) == [1, 2]
    assert wait_gone(ray_temp, 30) == []

    rerun_driver = core_command("sweep", "--resume", sweep.name, "--runs", runs, "--sweeps",
                                tmp_path / "sweeps", "--cache", run_bank.cache, env=env,
                                log=tmp_path / "run2.log")
    assert rerun_driver.wait(180) == 0, (tmp_path / "run2.log").read_text()
    assert "2 of 2 trials done" in (tmp_path / "run2.log").read_text()
    assert read_status(other)["state"] == "finished" and epochs(other) == [1, 2, 3, 4]
    for run_dir in (killed, other):
        assert [r["epoch"] for r in Run(run_dir).record["resumes"]] == [3]
    assert np.isfinite(read_history(other)["val_loss"]).all()
    assert "resumed at epoch 3" in list_runs(runs).set_index("run_id").loc[other.name, "note"]
    print(f"\nkilled trial {killed.name}: epochs {epochs(killed)}, "
          f"{read_status(killed)['sweep_note']}")
    print(f"cancelled trial {other.name}: epochs {epochs(other)} after the re-run, "
          f"{list_runs(runs).set_index('run_id').loc[other.name, 'note']}")


def test_an_impossible_combination_fails_its_trial_alone(tmp_path, run_bank, ray_temp):
    """Optuna proposes combinations as it runs, so one can be impossible (1 layer with 2
    dropout layers) although every value was checked alone: that trial fails with the reason
    and the sweep goes on to its other trials."""
    driver = core_command(*sweep_flags(tmp_path, run_bank.cache, "--layers=2",
                                       "--dropout-layers=0", "--epochs=1", "--seeds=1",
                                       "--method=optuna", "--grid", "layers=1,2", "--range",
                                       "dropout_layers=0:2", "--max-trials=6"),
                          env=ray_environment(ray_temp), log=tmp_path / "driver.log")
    assert driver.wait(300) == 0, (tmp_path / "driver.log").read_text()
    sweep, log = the_sweep(tmp_path), (tmp_path / "driver.log").read_text()
    failed = failures(sweep)
    finished = [d for d in trial_runs(tmp_path / "runs", sweep.name).values()
                if read_status(d)["state"] == "finished"]
    assert failed and finished and len(failed) + len(finished) == 6, log
    for failure in failed:
        assert "dropout_layers: must be between 0 and layers (1)" in failure["error"]
        assert f"trial {failure['trial']} could not start: setting" in log
    assert f"{len(finished)} of 6 trials done" in log and f"{len(failed)} failed" in log
    print(f"\n{len(failed)} impossible trial(s) failed alone, {len(finished)} finished")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_node(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """`ray start --block ...`: a node that lives as long as this process does."""
    with open(log, "w") as out:
        node = subprocess.Popen([str(RAY), "start", "--block", "--num-cpus=1",
                                 "--object-store-memory=100000000", "--disable-usage-stats",
                                 *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    wait_until(lambda: "Ray runtime started" in log.read_text(), 90, f"the node of {log.name}",
               node)
    return node


def test_a_sweep_on_a_two_node_cluster_places_trials_on_both(tmp_path, run_bank, ray_temp):
    """A head and a second node, each a separate local process with its own ports, temp dir
    and one CPU; a sweep submitted to the head with --address runs trials on both. The
    second node declares one (pretend) GPU: a sweep with --gpus-per-trial 1 is refused,
    since that node's TensorFlow (the CPU build) cannot see a GPU and its trials would
    train on the CPU without a word."""
    runs = tmp_path / "runs"
    env = {**ray_environment(ray_temp), "RAY_AUTH_MODE": "token"}
    port = free_port()
    nodes = []
    try:
        nodes.append(ray_node(["--head", f"--port={port}", "--include-dashboard=false",
                               f"--dashboard-port={free_port()}",
                               f"--ray-client-server-port={free_port()}",
                               f"--temp-dir={ray_temp}/h"], env, tmp_path / "head.log"))
        nodes.append(ray_node([f"--address=127.0.0.1:{port}", f"--temp-dir={ray_temp}/n",
                               "--num-gpus=1"], env, tmp_path / "node.log"))
        driver = core_command(*sweep_flags(tmp_path, run_bank.cache, "--epochs=2", "--grid",
                                           "cell=lstm,gru", "--seeds=2", "--concurrent=2",
                                           f"--address=127.0.0.1:{port}"),
                              env=env, log=tmp_path / "driver.log")
        assert driver.wait(300) == 0, (tmp_path / "driver.log").read_text()
        sweep = the_sweep(tmp_path)
        trials = trial_runs(runs, sweep.name)
        assert len(trials) == 4 and "4 of 4 trials done" in (tmp_path / "driver.log").read_text()
        for run_dir in trials.values():
            assert read_status(run_dir)["state"] == "finished" and epochs(run_dir) == [1, 2]
        placed = {read_status(d)["ray_node"] for d in trials.values()}
        assert len(placed) == 2, f"all trials ran on {placed}"
        print(f"\ncluster: 4 trials finished on nodes {sorted(placed)}")

        gpu = core_command(*sweep_flags(tmp_path, run_bank.cache, "--epochs=1", "--seeds=2",
                                        "--gpus-per-trial=1", "--name=gpu",
                                        f"--address=127.0.0.1:{port}"),
                           env=env, log=tmp_path / "gpu.log")
        assert gpu.wait(300) == 2, (tmp_path / "gpu.log").read_text()
        said = (tmp_path / "gpu.log").read_text().splitlines()[-1]
        assert said.startswith("error: gpus_per_trial: Ray would give trials a GPU that "
                               "TensorFlow cannot use, on node ") and \
            "is the CPU build (tensorflow-cpu): install the GPU build there with `make " \
            "setup GPU=1`" in said, said
        gpu_sweep = [d for d in sweep_dirs(tmp_path / "sweeps") if d.name.endswith("-gpu")][0]
        assert trial_runs(runs, gpu_sweep.name) == {}
        assert read_progress(gpu_sweep)["state"] == "failed"
        print(f"cluster: --gpus-per-trial 1 on the pretend GPU node refused: {said}")
    finally:
        for node in nodes:
            node.send_signal(signal.SIGTERM)  # `ray start --block` stops its own processes
        for node in nodes:
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                node.kill()
