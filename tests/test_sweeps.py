"""Sweeps without Ray: a bad spec is one clear error before anything starts, the search space
expands into the same trials every time, and the states a sweep reads from its runs.
(Sweeps on Ray Tune: tests/test_sweeps_ray.py.)
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time

import pytest

from core.runs.listing import run_dirs
from core.runs.status import change_state, write_status
from core.runs.training import enqueue
from core.runs.worker import worker_lock
from core.sweeps.progress import read_progress, sweep_progress, trial_state
from core.sweeps.search import optuna_space, optuna_trial, plan, planned_count
from core.sweeps.spec import (
    SweepError,
    SweepSpec,
    create_sweep,
    load_spec,
    parse_values,
    thesis_settings,
)
from tests.ray_helpers import core_command
from tests.test_cli import one_line_error
from tests.tiny import TINY

BASE = dict(TINY)


def spec(**fields) -> SweepSpec:
    return SweepSpec(**{"base": BASE, "seeds": 2, **fields})


@pytest.mark.parametrize("fields, where, message", [
    (dict(grid={"units": []}), "grid units", "has no values"),
    (dict(grid={"unit": [8, 16]}), "unit", "unknown setting"),
    (dict(grid={"units": [8, 0]}), "grid units", "units: must be in [1, 4096], got 0"),
    (dict(grid={"cell": ["lstm", "rnn"]}), "grid cell", "must be one of ('lstm', 'gru')"),
    (dict(grid={"units": [8, 8]}), "grid units", "repeats a value"),
    (dict(grid={"seed": [1, 2]}), "seed", "seeds come from `seeds`"),
    (dict(ranges={"learning_rate": {"low": 0.001, "high": 0.01}}), "range learning_rate",
     "needs the random or optuna method"),
    (dict(method="random", max_trials=4,
          ranges={"learning_rate": {"low": 0.01, "high": 0.001}}), "range learning_rate",
     "low must be a number below high"),
    (dict(method="random", max_trials=4,
          ranges={"learning_rate": {"low": 0.0, "high": 0.1, "scale": "log"}}),
     "range learning_rate", "a log scale needs low > 0"),
    (dict(method="random", ranges={"units": {"low": 4, "high": 16}}), "max_trials",
     "the random method needs a number of trials"),
    (dict(method="annealing", grid={"units": [8]}), "method", "must be one of"),
    (dict(seeds=0, grid={"units": [8]}), "seeds", "must be a whole number from 1"),
    (dict(seeds=1), "grid", "the sweep varies nothing"),
    (dict(grid={"units": [8]}, gpus_per_trial=-1), "gpus_per_trial", "must be >= 0"),
    (dict(grid={"units": [8]}, asha=True, base={**BASE, "epochs": 1}), "asha_grace",
     "nothing would be stopped"),
])
def test_a_bad_spec_is_one_error_naming_where(fields, where, message):
    with pytest.raises(SweepError) as caught:
        spec(**fields).validate()
    assert caught.value.field == where and message in str(caught.value), str(caught.value)


def test_a_setting_impossible_only_in_combination_is_refused_by_the_plan():
    with pytest.raises(SweepError, match=r"setting 4 \(dropout layers 2, layers 1\): "
                                         r"dropout_layers: must be between 0 and layers"):
        plan(spec(grid={"dropout_layers": [1, 2], "layers": [2, 1]}))


def test_the_cli_refuses_a_bad_sweep_in_one_line_and_saves_nothing(capsys, tmp_path,
                                                                    run_bank):
    sweeps = tmp_path / "sweeps"
    common = ["sweep", "--sweeps", str(sweeps), "--runs", str(tmp_path / "runs"),
              "--cache", str(run_bank.cache), "--max-pieces", "6", "--window", "8"]
    for flags, said in [(["--grid", "units=8,x"], "units: 'x' is not a whole number"),
                        (["--grid", "units="], "grid units: has no values"),
                        (["--grid", "colour=red"], "colour: unknown setting"),
                        (["--grid", "cell=lstm,gru", "--range", "units=1:4"],
                         "range units: a range needs the random or optuna method"),
                        (["--method", "random", "--max-trials", "4", "--grid", "units=8",
                          "--range", "units=1:4"], "units: is given both grid values and "
                                                   "a range"),
                        (["--grid", "window=8,5000"], "window 5000")]:
        line = one_line_error(capsys, [*common, *flags])
        assert line.startswith("error: ") and said in line, line
    assert not sweeps.exists() and not (tmp_path / "runs").exists()


def test_a_grid_crosses_settings_and_seeds_in_order_and_max_trials_cuts_it():
    trials = plan(spec(grid={"cell": ["lstm", "gru"], "units": [8, 16]}))
    assert [(t.config.cell, t.config.units, t.config.seed) for t in trials] == [
        ("lstm", 8, 0), ("lstm", 8, 1), ("lstm", 16, 0), ("lstm", 16, 1),
        ("gru", 8, 0), ("gru", 8, 1), ("gru", 16, 0), ("gru", 16, 1)]
    assert trials[3].key == "t0001-s1" and trials[3].setting == 1
    assert trials[3].config.label == "cell lstm, units 16, seed 2 of 2"
    assert len(plan(spec(grid={"cell": ["lstm", "gru"]}, max_trials=3))) == 3


def test_the_thesis_runs_keep_their_labels_and_shapes():
    settings = thesis_settings(1, "lead", "small")
    trials = plan(spec(settings=settings, seeds=3, name="thesis"))
    assert len(trials) == 12 and planned_count(spec(settings=settings, seeds=3)) == 12
    assert trials[11].config.label == "thesis: thesis run 4 (small), seed 3 of 3"
    assert [(t.config.cell, t.config.layers, t.config.units) for t in trials[::3]] == [
        ("lstm", 1, 64), ("lstm", 3, 64), ("lstm", 3, 128), ("gru", 3, 64)]


def test_random_search_is_reproducible_and_stays_in_its_ranges():
    random = spec(method="random", max_trials=10, sample_seed=3, grid={"cell": ["lstm", "gru"]},
                  ranges={"learning_rate": {"low": 1e-4, "high": 1e-2, "scale": "log"},
                          "units": {"low": 4, "high": 32}})
    first, again = plan(random), plan(random)
    assert [t.config for t in first] == [t.config for t in again] and len(first) == 10
    assert all(1e-4 <= t.config.learning_rate <= 1e-2 and 4 <= t.config.units <= 32
               for t in first)
    assert len({t.config.learning_rate for t in first}) == 5  # 5 settings x 2 seeds
    assert plan(SweepSpec(**{**random.to_dict(), "sample_seed": 4}))[0].config != first[0].config


def test_optuna_gets_the_space_and_its_proposals_become_trials():
    optuna = spec(method="optuna", max_trials=7, grid={"cell": ["lstm", "gru"]},
                  ranges={"units": {"low": 4, "high": 32, "scale": "log"}})
    assert optuna_space(optuna) == {"cell": ("choice", ["lstm", "gru"]),
                                    "units": ("int", 4, 32, True)}
    assert plan(optuna) == [] and planned_count(optuna) == 6  # whole settings of 2 seeds
    trial = optuna_trial(optuna, {"cell": "gru", "units": 12}, 1, "o-abc", 0)
    assert (trial.config.cell, trial.config.units, trial.config.seed) == ("gru", 12, 1)
    assert trial.params == {"cell": "gru", "units": 12}


def test_a_sweep_is_saved_readable_and_loads_back(tmp_path):
    made = spec(name="Grid of cells!", grid={"cell": ["lstm", "gru"]})
    folder = create_sweep(made, tmp_path)
    assert folder.name.endswith("-grid-of-cells")
    saved = json.loads((folder / "sweep.json").read_text())
    assert saved["id"] == folder.name and saved["spec"]["grid"] == {"cell": ["lstm", "gru"]}
    assert load_spec(folder) == made


def test_trial_states_read_from_the_runs(tmp_path, run_bank):
    run = enqueue(spec().base_config, tmp_path / "runs", run_bank.cache,
                  record={"sweep": {"id": "s1", "trial": "t0000-s0"}})
    assert trial_state({"state": "queued"}) == "running"
    for state, expected in [("finished", "done"), ("failed", "failed"),
                            ("killed", "interrupted"), ("cancelled", "interrupted")]:
        assert trial_state({"state": state}) == expected
    assert trial_state({"state": "cancelled", "stopped_early": "ASHA"}) == "done"
    (tmp_path / "sweeps" / "s1").mkdir(parents=True)
    progress = sweep_progress(tmp_path / "sweeps" / "s1", tmp_path / "runs")
    assert progress.counts["running"] == 1 and progress.driver == "not started"
    change_state(run, "cancelled", ("queued",))
    write_status(run, stopped_early="stopped by the sweep after epoch 1: ASHA")
    assert sweep_progress(tmp_path / "sweeps" / "s1", tmp_path / "runs").counts["done"] == 1


def test_a_sweep_waits_for_the_queue_and_a_cancel_while_waiting_ends_it(tmp_path, run_bank):
    """One execution path: while the queue's worker holds the machine's training lock, a
    sweep waits (and says so); cancelled then, it ends without starting Ray."""
    runs, sweeps = tmp_path / "runs", tmp_path / "sweeps"
    runs.mkdir()
    folder = create_sweep(spec(grid={"cell": ["lstm", "gru"]}), sweeps)
    with worker_lock(runs) as held:
        assert held
        driver = core_command("sweep", "--resume", folder, "--runs", runs, "--cache",
                              run_bank.cache, env=dict(os.environ), log=tmp_path / "log")
        deadline = time.monotonic() + 60
        while read_progress(folder).get("state") != "waiting":
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.2)
        assert sweep_progress(folder, runs).driver == "waiting"
        from core.sweeps.driver import cancel_sweep

        cancel_sweep(folder, runs)
        assert driver.wait(60) == 0
    assert read_progress(folder)["state"] == "cancelled" and run_dirs(runs) == []
    assert "cancelled" in (tmp_path / "log").read_text()


def test_a_values_box_reads_as_grid_values_or_a_range():
    assert parse_values("units", "16, 32,64") == ("grid", [16, 32, 64])
    assert parse_values("cell", "lstm,gru") == ("grid", ["lstm", "gru"])
    assert parse_values("learning_rate", "0.001:0.01:log") == (
        "range", {"low": 0.001, "high": 0.01, "scale": "log"})
    with pytest.raises(SweepError, match="'sixteen' is not a whole number"):
        parse_values("units", "sixteen")


def test_a_trial_that_no_node_can_hold_is_refused_before_it_waits_for_ever(monkeypatch):
    import ray

    from core.sweeps.runtime import check_fits

    monkeypatch.setattr(ray, "nodes", lambda: [{"Alive": True, "Resources": {"CPU": 2.0}},
                                               {"Alive": False, "Resources": {"GPU": 1.0}}])
    with pytest.raises(SweepError, match=r"a trial needs 2 CPU and 1 GPU on one node, but no "
                                         r"node of the Ray cluster has that much \(its nodes: "
                                         r"2 CPU, 0 GPU\)"):
        check_fits(2, 1)
    check_fits(2, 0)


def test_an_address_where_no_cluster_answers_is_one_error_in_bounded_time(capsys, tmp_path,
                                                                          run_bank,
                                                                          monkeypatch):
    """`sweep --address` hung with Ray's raw warnings for minutes; now a refused port and a
    silent one (a listener that never accepts: its queue is full) are each one `error:`
    line within the timeout --help states, and nothing is saved or started."""
    from core.sweeps import runtime

    monkeypatch.setattr(runtime, "CONNECT_TIMEOUT_S", 1.0)
    sweeps = tmp_path / "sweeps"
    common = ["sweep", "--sweeps", str(sweeps), "--runs", str(tmp_path / "runs"),
              "--cache", str(run_bank.cache), "--max-pieces", "6", "--window", "8",
              "--grid", "cell=lstm,gru", "--seeds", "1"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"127.0.0.1:{closed.getsockname()[1]}"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        queued = socket.create_connection(silent.getsockname())  # fills its accept queue
        for address, reason in [(refused, "connection refused"),
                                (f"127.0.0.1:{silent.getsockname()[1]}",
                                 "nothing answered within 1 s")]:
            started = time.monotonic()
            line = one_line_error(capsys, [*common, "--address", address])
            assert line == f"error: address: no Ray cluster at {address} ({reason}): start " \
                           "one there with `ray start --head`, or check the host and port"
            assert time.monotonic() - started < 5
        queued.close()
    assert not sweeps.exists() and not (tmp_path / "runs").exists()
    ray = sys.modules.get("ray")
    assert ray is None or not ray.is_initialized()  # Ray was never started


def test_ray_messages_are_one_plain_line():
    from core.sweeps.runtime import plain

    killed = ("\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=4242, ip=10.0.0.2)\n"
              "  File \"trial.py\", line 1\nSystemExit: killed")
    assert plain(killed) == "ray::ImplicitFunc.train() (pid=4242, ip=10.0.0.2) File " \
                            "\"trial.py\", line 1 SystemExit: killed"
