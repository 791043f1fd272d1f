"""Shared pytest fixtures.

`trained_runs` (session scope) trains real tiny models with core.training.train, once per
test session, into a temporary runs folder, so page and generation tests read run
directories exactly as the dashboard would (config.json, status.json, history.csv,
vocab.json, model.keras, best.keras). It takes about 15 s on 2 CPU cores.

`runs_copy` (function scope) is a private copy of that runs folder for a test that writes
into runs (generated samples, a broken run directory, ...), so tests stay independent.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TINY = dict(units=8, layers=1, dropout_layers=1, epochs=2, window=8, max_pieces=6,
            batch_size=64)


@dataclass(frozen=True)
class TrainedRuns:
    """What `trained_runs` returns. Every run is finished, on the default corpus (six Bach
    chorales, one of them held out), window 8, 8 units, 1 layer, 2 epochs.

    runs:          the runs folder (point MUSIC_RUNS_DIR at it); holds exactly the 4 below
    cache:         the corpus cache folder used to train them (point MUSIC_CACHE_DIR at it)
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
def trained_runs(tmp_path_factory) -> TrainedRuns:
    """Four tiny runs trained for real (see TrainedRuns). Treat as read-only: copy it with
    `runs_copy` before writing into it."""
    from core.nets.config import TrainConfig
    from core.nets.training import train

    root = tmp_path_factory.mktemp("trained")
    runs, cache = root / "runs", root / "cache"

    def one(**settings) -> Path:
        config = TrainConfig(**{**TINY, **settings}).validate()
        return train(config, runs_root=runs, cache_dir=cache)

    return TrainedRuns(
        runs=runs, cache=cache,
        lead_lstm=one(model=1, cell="lstm", part="lead"),
        lead_gru=one(model=1, cell="gru", part="lead"),
        accompaniment=one(model=1, cell="lstm", part="accompaniment"),
        model2=one(model=2, cell="lstm", part="lead"),
    )


@pytest.fixture
def runs_copy(trained_runs: TrainedRuns, tmp_path: Path) -> Path:
    """A private copy of trained_runs.runs (same run folder names) a test may write into."""
    target = tmp_path / "runs"
    shutil.copytree(trained_runs.runs, target)
    return target
