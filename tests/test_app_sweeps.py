"""The Train page's Sweeps section (views/train_sweep.py), driven with AppTest: a bad sweep is
refused naming its field and saves nothing; a good one is saved and its driver started; a
sweep's trials show their progress, parallel coordinates and the verdict over their seeds;
Cancel stops it. The driver itself is replaced here (tests/test_sweeps_ray.py runs it).
"""
from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from core.sweeps import driver
from core.sweeps.progress import write_progress
from core.sweeps.spec import SweepSpec, create_sweep, load_spec, sweep_dirs
from core.sweeps.trial import sweep_cancelled
from tests.apptest import charts, click, open_page, texts
from tests.tiny import TINY


@pytest.fixture
def started(monkeypatch) -> list[Path]:
    """The sweeps the page started (the driver is not run)."""
    calls: list[Path] = []
    monkeypatch.setattr(driver, "start_sweep", lambda folder, runs, cache: calls.append(folder))
    return calls


def test_a_bad_sweep_is_refused_naming_its_field_and_nothing_is_saved(app_env, started):
    at = open_page("train", corpus_max_pieces=6)
    at.multiselect(key="sw_varied_base").set_value(["cell", "units"]).run()
    at.text_input(key="sw_values_units").set_value("8, 0")
    at = click(at, "sw_start")
    assert "Sweep not started — **grid units**: units: must be in [1, 4096], got 0" in \
        texts(at, "error")
    at.text_input(key="sw_values_units").set_value("8, x")
    at = click(at, "sw_start")
    assert "**units**: 'x' is not a whole number" in texts(at, "error")
    assert sweep_dirs(app_env.sweeps) == [] and started == []


def test_the_thesis_runs_with_seeds_are_saved_and_started(app_env, started):
    at = open_page("train", corpus_max_pieces=6)
    at.selectbox(key="sw_settings").set_value("small")
    at.text_input(key="sw_name").set_value("thesis")
    at.number_input(key="sw_seeds").set_value(3).run()  # the thesis runs vary no field
    at = click(at, "sw_start")
    assert "started: 12 trial(s)" in texts(at, "success"), texts(at)
    (folder,) = sweep_dirs(app_env.sweeps)
    assert started == [folder]
    spec = load_spec(folder)
    assert [s["label"] for s in spec.settings] == [f"thesis run {i} (small)" for i in range(1, 5)]
    assert spec.seeds == 3 and spec.base["max_pieces"] == 6 and spec.concurrent == 1


def sweep_of_bank_runs(app_env, run_bank) -> Path:
    """A finished sweep made of the bank's 2 LSTM and 2 GRU seeds (their config.json given
    the sweep's entry, as a trial's run has it)."""
    spec = SweepSpec(base=dict(TINY), grid={"cell": ["lstm", "gru"]}, seeds=2)
    folder = create_sweep(spec, app_env.sweeps)
    runs = run_bank.folder(app_env.runs, "lstm_seed_0", "lstm_seed_1", "gru_seed_0",
                           "gru_seed_1")
    for i, run_dir in enumerate(sorted(p for p in runs.iterdir() if p.is_dir())):
        record = json.loads((run_dir / "config.json").read_text())
        record["sweep"] = {"id": folder.name, "trial": f"t{i}", "setting": i // 2}
        (run_dir / "config.json").write_text(json.dumps(record))
    write_progress(folder, state="finished", planned=4, message="")
    return folder


def test_a_sweep_shows_progress_parallel_coordinates_and_its_verdict(app_env, run_bank):
    folder = sweep_of_bank_runs(app_env, run_bank)
    at = open_page("train", corpus_max_pieces=6)
    shown = texts(at)
    assert f"**{folder.name}** · finished" in shown
    bars = [bar.proto.text for bar in at.get("progress")]
    assert any(b.startswith("4 of 4 trials done, 0 running, 0 pending · best held-out loss "
                            "so far") for b in bars), bars
    assert "Verdict over the sweep's seeds" in shown and "2 LSTM vs 2 GRU seeds" in shown
    (parallel,) = [c for key, c in charts(at).items() if "sweep_parallel" in key]
    assert parallel["data"][0]["type"] == "parcoords"
    trials = [d.value for d in at.dataframe if "label" in d.value][0]
    assert len(trials) == 4 and set(trials["state"]) == {"finished"}
    assert list(trials.columns) == ["label", "state", "epochs", "best held-out loss (nats)",
                                    "error", "run"]                 # no snake_case headers
    # a finished sweep offers neither Cancel nor Continue: its slot says how long it took
    assert not [b for b in at.button if b.key and b.key.startswith("sweep_")]
    assert " in all" in texts(at, "caption")


def test_a_sweep_just_started_counts_its_planned_trials(app_env):
    """Before its driver has written progress.json's plan, the card counts the trials of
    sweep.json: '0 of 2', never '0 of 0'; the queue's banner repeats no count of its own
    (counts live in the card alone, so the two never disagree)."""
    spec = SweepSpec(base=dict(TINY), grid={"cell": ["lstm", "gru"]}, seeds=1)
    folder = create_sweep(spec, app_env.sweeps)
    stand_in = subprocess.Popen(["sleep", "60"])  # the driver, starting
    try:
        write_progress(folder, state="starting", pid=stand_in.pid,
                       host=socket.gethostname(), process=None)
        at = open_page("train", corpus_max_pieces=6)
        bars = [bar.proto.text for bar in at.get("progress")]
        assert "0 of 2 trials done, 0 running, 2 pending" in bars, bars
        (banner,) = [i for i in texts(at, "info").splitlines() if folder.name in i]
        assert "is starting" in banner and "trials done" not in banner
        assert at.button(key=f"sweep_cancel_{folder.name}")
    finally:
        stand_in.kill()


def test_cancel_stops_a_running_sweep(app_env, run_bank):
    folder = sweep_of_bank_runs(app_env, run_bank)
    stand_in = subprocess.Popen(["sleep", "60"])  # the driver: SIGINT ends it
    try:
        write_progress(folder, state="running", pid=stand_in.pid, host=socket.gethostname(),
                       process=None)
        at = open_page("train", corpus_max_pieces=6)
        assert f"Sweep **{folder.name}** is running" in texts(at, "info")
        at = click(at, f"sweep_cancel_{folder.name}")
        assert sweep_cancelled(folder) and stand_in.wait(10) != 0
    finally:
        stand_in.kill()
