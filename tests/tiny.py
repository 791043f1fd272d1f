"""The one source of tiny training settings for tests.

Six Bach chorales (one held out), window 8, one recurrent layer of 8 units, 2 epochs: a real
run that trains in a few seconds on 2 CPU cores. Tests that need another shape override
single fields (`tiny_config(cell="gru")`), never write their own settings dict.
"""
from __future__ import annotations

from typing import Any

from core.nets.config import TrainConfig

TINY: dict[str, Any] = dict(units=8, layers=1, dropout_layers=1, epochs=2, window=8,
                            max_pieces=6, batch_size=64)


def tiny_config(**overrides: Any) -> TrainConfig:
    """A validated TrainConfig of the tiny settings with `overrides` applied."""
    return TrainConfig(**{**TINY, **overrides}).validate()


# Named runs the bank can train: TrainConfig overrides of the tiny settings. "<cell>_seed_<i>"
# are the seeds of one setting as core.evidence.experiments.seed_configs labels them.
RUN_SPECS: dict[str, dict[str, Any]] = {
    "lead_lstm": dict(model=1, cell="lstm", part="lead"),
    "lead_gru": dict(model=1, cell="gru", part="lead"),
    "accompaniment": dict(model=1, cell="lstm", part="accompaniment"),
    "model2": dict(model=2, cell="lstm", part="lead"),
    "conditioned": dict(model=1, cell="lstm", part="accompaniment", conditioned=True),
    "three_epochs": dict(epochs=3),  # what a run killed and resumed must equal
    "lead_window": dict(objective="window"),  # the thesis's objective (the default: sequence)
    **{f"{cell}_seed_{i}": dict(cell=cell, seed=i, label=f"seed {i + 1} of 2")
       for cell in ("lstm", "gru") for i in range(2)},
}
STANDARD = ("lead_lstm", "lead_gru", "accompaniment", "model2")
