"""Shared pytest fixtures: one bank of really trained tiny runs, and page environments.

`run_bank` (session scope) trains each named run of `RUN_SPECS` at most once per test
session, on demand, with core.runs.training.train and the tiny settings of tests/tiny.py, so
page, generation, evaluation and report tests read run directories exactly as the dashboard
would (config.json, status.json, history.csv, vocab.json, model.keras, best.keras). A test
gets its own folder holding copies of exactly the runs it names (`run_bank.folder`), so
tests stay independent and may write into it.

`trained_runs` is the folder most page tests use: the four standard runs (lead LSTM, lead
GRU, accompaniment, Model 2), read-only; `runs_copy` is a private copy of it.
`app_env` points the dashboard's folders (MUSIC_* variables) at temporary ones.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.tiny import RUN_SPECS, STANDARD, tiny_config

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunBank:
    """Tiny runs trained once per session, copied into per-test folders on request."""

    root: Path
    cache: Path
    trained: dict[str, Path] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The bank's own (read-only) directory of run `name`, trained on first use."""
        if name not in self.trained:
            from core.runs.training import train

            config = tiny_config(**RUN_SPECS[name])
            self.trained[name] = train(config, runs_root=self.root / name, cache_dir=self.cache)
        return self.trained[name]

    def folder(self, dest: Path, *names: str) -> Path:
        """`dest` holding a copy of each named run (same run ids); returns `dest`."""
        dest.mkdir(parents=True, exist_ok=True)
        for name in names:
            source = self.path(name)
            shutil.copytree(source, dest / source.name)
        return dest

    def copy(self, dest: Path, name: str) -> Path:
        """One named run copied into `dest`; returns the copy's directory."""
        return self.folder(dest, name) / self.path(name).name


@pytest.fixture(scope="session")
def run_bank(tmp_path_factory) -> RunBank:
    root = tmp_path_factory.mktemp("bank")
    return RunBank(root / "runs", root / "cache")


@dataclass(frozen=True)
class TrainedRuns:
    """What `trained_runs` returns: the four STANDARD runs, finished, on the default corpus
    (six Bach chorales, one held out), window 8, 8 units, 1 layer, 2 epochs.

    runs:          the runs folder (point MUSIC_RUNS_DIR at it); holds exactly the 4 below
    cache:         the corpus cache folder they were trained with (MUSIC_CACHE_DIR)
    lead_lstm:     Model 1, lead, LSTM
    lead_gru:      Model 1, lead, GRU
    accompaniment: Model 1, accompaniment, LSTM
    model2:        Model 2 (pitch + duration heads), lead, LSTM
    """

    runs: Path
    cache: Path
    lead_lstm: Path
    lead_gru: Path
    accompaniment: Path
    model2: Path

    @property
    def all(self) -> list[Path]:
        return [self.lead_lstm, self.lead_gru, self.accompaniment, self.model2]


@pytest.fixture(scope="session")
def trained_runs(run_bank: RunBank, tmp_path_factory) -> TrainedRuns:
    """The four standard runs in one folder. Read-only: copy it with `runs_copy` first."""
    runs = run_bank.folder(tmp_path_factory.mktemp("trained") / "runs", *STANDARD)
    paths = {name: runs / run_bank.path(name).name for name in STANDARD}
    return TrainedRuns(runs=runs, cache=run_bank.cache, **paths)


@pytest.fixture
def runs_copy(trained_runs: TrainedRuns, tmp_path: Path) -> Path:
    """A private copy of trained_runs.runs (same run folder names) a test may write into."""
    target = tmp_path / "runs"
    shutil.copytree(trained_runs.runs, target)
    return target


@dataclass
class AppEnv:
    """The dashboard's folders for one test (all under tmp_path unless `use_runs` says so)."""

    runs: Path
    cache: Path
    uploads: Path
    reports: Path
    monkeypatch: pytest.MonkeyPatch
    sweeps: Path | None = None

    def use_runs(self, folder: Path) -> Path:
        """Point the pages at another runs folder."""
        self.runs = Path(folder)
        self.monkeypatch.setenv("MUSIC_RUNS_DIR", str(self.runs))
        return self.runs

    def use_cache(self, folder: Path) -> Path:
        """Point the pages at another corpus cache (an empty one makes them prepare)."""
        self.cache = Path(folder)
        self.monkeypatch.setenv("MUSIC_CACHE_DIR", str(self.cache))
        return self.cache


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_bank: RunBank) -> AppEnv:
    """MUSIC_RUNS_DIR / UPLOADS / REPORTS / SWEEPS in tmp_path, the bank's corpus cache (already
    prepared once the bank has trained anything), and the repository as working directory
    (the worker runs `python -m core` there)."""
    env = AppEnv(tmp_path / "runs", run_bank.cache, tmp_path / "uploads", tmp_path / "reports",
                 monkeypatch, tmp_path / "sweeps")
    monkeypatch.chdir(REPO)
    for variable, path in (("MUSIC_RUNS_DIR", env.runs), ("MUSIC_CACHE_DIR", env.cache),
                           ("MUSIC_UPLOADS_DIR", env.uploads),
                           ("MUSIC_REPORTS_DIR", env.reports),
                           ("MUSIC_SWEEPS_DIR", env.sweeps)):
        monkeypatch.setenv(variable, str(path))
    return env
