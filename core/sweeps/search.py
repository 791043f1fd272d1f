"""A sweep's trials: the search space expanded into settings and seeds.

Grid and random search are expanded here, not by Ray Tune: seeded, so the same spec always
gives the same trials (a re-run finds its unfinished ones by key), "max trials" is a slice,
and every trial's TrainConfig is validated before anything starts. Tune then runs exactly
these (`{"trial": tune.grid_search([...])}`). Optuna's TPE proposes settings while the sweep
runs, so for it this module describes the space (`optuna_space`) and turns what Optuna
proposed back into a trial (`optuna_trial`).

Trials of one setting differ only in their seed (base seed, +1, ...), and are labelled
"<setting>, seed i of k" (core.evidence.experiments.seed_label, as the form's seeds are) so
Compare draws them as one seed group and the verdict pairs them.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evidence.experiments import seed_label
from core.nets.config import BOUNDS, INT_FIELDS, TrainConfig
from core.sweeps.spec import SweepSpec, _checked

SETTING_PARAMETER = "setting"  # Optuna's choice among the spec's explicit settings


@dataclass(frozen=True)
class Trial:
    """One planned trial: `key` names it within its sweep (recorded in its run's config.json,
    so a re-run finds the run again), `setting` numbers its setting, `config` is complete."""

    key: str
    setting: int
    config: TrainConfig
    params: dict[str, Any] | None = None  # what Optuna proposed (None: grid or random)

    def as_tune_value(self) -> dict[str, Any]:
        """What Tune passes to the trial function: plain JSON, no objects."""
        return {"key": self.key, "setting": self.setting, "config": self.config.to_dict(),
                "params": self.params}

    @classmethod
    def from_tune_value(cls, value: dict[str, Any]) -> "Trial":
        return cls(value["key"], int(value["setting"]), TrainConfig.from_dict(value["config"]),
                   value.get("params"))


def plan(spec: SweepSpec) -> list[Trial]:
    """Every trial of a grid or random sweep, in order (all seeds of a setting together, so
    a trial budget cuts whole settings first), each validated; [] for Optuna."""
    spec.validate()
    if spec.method == "optuna":
        return []
    settings = grid_settings(spec) if spec.method == "grid" else random_settings(spec)
    trials = [trial(spec, overrides, i, seed)
              for i, overrides in enumerate(settings) for seed in range(spec.seeds)]
    return trials[:spec.max_trials] if spec.max_trials else trials


def planned_count(spec: SweepSpec) -> int:
    """How many trials the sweep runs in all (Optuna: whole settings within max trials)."""
    if spec.method == "optuna":
        return spec.max_trials - spec.max_trials % spec.seeds
    return len(plan(spec))


def grid_settings(spec: SweepSpec) -> list[dict[str, Any]]:
    """The explicit settings (or the base alone) crossed with every grid combination."""
    names = list(spec.grid)
    combos = [dict(zip(names, values)) for values in
              itertools.product(*(spec.grid[n] for n in names))]
    return [{**setting, **combo} for setting in (spec.settings or [{}]) for combo in combos]


def random_settings(spec: SweepSpec) -> list[dict[str, Any]]:
    """Settings drawn with the spec's sample seed: an explicit setting, a value of each grid
    field and a point of each range (log-uniform on a log scale), each drawn uniformly."""
    rng = np.random.default_rng(spec.sample_seed)
    count = math.ceil(spec.max_trials / spec.seeds)
    drawn = []
    for _ in range(count):
        setting = dict(spec.settings[int(rng.integers(len(spec.settings)))]) \
            if spec.settings else {}
        setting.update({name: values[int(rng.integers(len(values)))]
                        for name, values in spec.grid.items()})
        setting.update({name: sample_range(name, bounds, rng)
                        for name, bounds in spec.ranges.items()})
        drawn.append(setting)
    return drawn


def sample_range(name: str, bounds: dict[str, Any], rng: np.random.Generator) -> int | float:
    """One value of a range; whole-number fields are rounded and kept within their bounds."""
    low, high = float(bounds["low"]), float(bounds["high"])
    if bounds.get("scale", "linear") == "log":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    if name in INT_FIELDS:
        return int(min(max(round(value), low), high))
    return float(value)


def trial(spec: SweepSpec, overrides: dict[str, Any], setting: int, seed_index: int,
          key: str | None = None) -> Trial:
    """The trial of seed `seed_index` of a setting: base + overrides + seed + label."""
    base = spec.base_config
    label = setting_label(spec, overrides, setting)
    values = {**overrides, "seed": base.seed + seed_index,
              "label": seed_label(label, seed_index, spec.seeds)}
    config = _checked(f"setting {setting + 1} ({label})", lambda: spec.config_with(values))
    return Trial(key or f"t{setting:04d}-s{seed_index}", setting, config)


def setting_label(spec: SweepSpec, overrides: dict[str, Any], setting: int) -> str:
    """The setting's own label (the thesis's "thesis run 1 (small)"), else its values; with
    the sweep's name in front."""
    own = overrides.get("label") or ", ".join(
        f"{name.replace('_', ' ')} {_short(value)}" for name, value in overrides.items()) \
        or spec.base_config.label or f"setting {setting + 1}"
    return f"{spec.name}: {own}" if spec.name else own


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- Optuna

def optuna_space(spec: SweepSpec) -> dict[str, tuple]:
    """The space Optuna searches, as plain tuples (the driver makes Optuna's distributions):
    ("choice", values) for explicit settings and grid fields, ("int" | "float", low, high,
    log) for ranges."""
    space: dict[str, tuple] = {}
    if len(spec.settings) > 1:
        space[SETTING_PARAMETER] = ("choice", list(range(len(spec.settings))))
    for name, values in spec.grid.items():
        space[name] = ("choice", list(values))
    for name, bounds in spec.ranges.items():
        kind = "int" if name in INT_FIELDS else "float"
        low, high = bounds["low"], bounds["high"]
        if kind == "int":
            low, high = int(low), int(high)
        space[name] = (kind, low, high, bounds.get("scale", "linear") == "log")
    return space


def optuna_overrides(spec: SweepSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The TrainConfig overrides of what Optuna proposed (its chosen setting first)."""
    chosen = params.get(SETTING_PARAMETER)
    setting = dict(spec.settings[int(chosen)]) if chosen is not None else \
        dict(spec.settings[0]) if spec.settings else {}
    for name in (*spec.grid, *spec.ranges):
        value = params[name]
        setting[name] = int(round(value)) if name in INT_FIELDS and name in BOUNDS else value
    return setting


def optuna_trial(spec: SweepSpec, params: dict[str, Any], seed_index: int, key: str,
                 setting: int) -> Trial:
    """The trial for one of Optuna's proposals and one seed of it."""
    planned = trial(spec, optuna_overrides(spec, params), setting, seed_index, key)
    return Trial(planned.key, planned.setting, planned.config, dict(params))
