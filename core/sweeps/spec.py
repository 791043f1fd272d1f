"""A sweep's definition: what to search (settings, grid values, ranges, k seeds), how (grid,
random, Optuna's TPE, optional ASHA early stopping), within what budget (trials, minutes) and
on what (concurrent trials, CPUs and GPUs per trial, a Ray cluster's address).

`SweepSpec` is validated in one place, `validate`, before anything starts: every field it
names must be a TrainConfig field, every value and range end must pass TrainConfig's own
checks (BOUNDS, CHOICES), so a bad spec is one SweepError naming where it is wrong. It is
saved as sweeps/<id>/sweep.json, readable and re-runnable: `python -m core sweep --resume
<id>` runs it again and continues its unfinished trials.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from core.files import RunError, folder_stamp, now_iso, read_json, saving, write_json
from core.nets.config import BOUNDS, INT_FIELDS, ConfigError, TrainConfig, thesis_runs

METHODS = ("grid", "random", "optuna")
SCALES = ("linear", "log")
NOT_SEARCHED = ("seed", "label", "extra")  # seeds come from `seeds`; labels are made per trial
SEARCHED = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in NOT_SEARCHED)
MAX_SEEDS = 100
SPEC_FILE = "sweep.json"


class SweepError(ConfigError):
    """A sweep that cannot run, said before anything starts; `field` names where (e.g.
    "grid units"), like a ConfigError, so forms and the CLI show it the same way."""


@dataclass
class SweepSpec:
    """One sweep. Trials are `settings` (explicit TrainConfig overrides, e.g. the thesis's
    runs 1-4) crossed with the `grid`, each with `seeds` seeds from base's seed on; random
    and Optuna also sample `ranges` ({"low", "high", "scale"} per field). `base` holds what
    every trial shares (model, part, objective, corpus, epochs, ...).

    Budget: `max_trials` (0: the whole grid; random and Optuna need one), `max_minutes` of
    wall time over every run of the sweep (0: none). Resources: `concurrent` trials at once
    (1: one training at a time), `cpus_per_trial` (0: the machine's cores / concurrent),
    `gpus_per_trial`; `address` of an existing Ray cluster ("" starts Ray in this process).
    """

    name: str = ""
    base: dict[str, Any] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)
    grid: dict[str, list] = field(default_factory=dict)
    ranges: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: int = 3
    method: str = "grid"
    max_trials: int = 0
    max_minutes: float = 0.0
    asha: bool = False
    asha_grace: int = 1
    asha_reduction: int = 2
    concurrent: int = 1
    cpus_per_trial: float = 0.0
    gpus_per_trial: float = 0.0
    address: str = ""
    sample_seed: int = 0

    @cached_property
    def base_config(self) -> TrainConfig:
        """What every trial shares, validated (seed: the first seed)."""
        return _checked("base", lambda: TrainConfig.from_dict(dict(self.base)))

    def validate(self) -> "SweepSpec":
        """Refuse, naming where, any spec that could not run as asked."""
        _require(self.method in METHODS, "method", f"must be one of {METHODS}, got "
                 f"{self.method!r}")
        _require(isinstance(self.seeds, int) and 1 <= self.seeds <= MAX_SEEDS, "seeds",
                 f"must be a whole number from 1 to {MAX_SEEDS}, got {self.seeds!r}")
        self.base_config  # noqa: B018  validates the base
        self._check_names()
        for name, values in self.grid.items():
            self._check_values(name, values)
        for name, bounds in self.ranges.items():
            self._check_range(name, bounds)
        for i, setting in enumerate(self.settings, start=1):
            _checked(f"setting {i}", lambda: self.config_with(setting))
        self._check_budget()
        self._check_resources()
        return self

    def config_with(self, overrides: dict[str, Any]) -> TrainConfig:
        """The base with `overrides` applied, validated (a ConfigError names the field)."""
        return TrainConfig.from_dict({**self.base_config.to_dict(), **overrides})

    def _check_names(self) -> None:
        named = [*self.grid, *self.ranges, *(k for s in self.settings for k in s)]
        for name in named:
            if name in NOT_SEARCHED and name != "label":
                _require(False, name, "is not searched: seeds come from `seeds` (k seeds "
                         "from the base's seed on)" if name == "seed" else "is not searched")
            _require(name in SEARCHED or name == "label", name,
                     "unknown setting (a sweep searches TrainConfig's fields: "
                     f"{', '.join(SEARCHED)})")
        _require("label" not in self.grid and "label" not in self.ranges, "label",
                 "is not searched: each trial is labelled by its setting and seed")
        both = sorted(set(self.grid) & set(self.ranges))
        _require(not both, both[0] if both else "", "is given both grid values and a range")
        searched = bool(self.grid or self.ranges or len(self.settings) > 1)
        _require(searched or self.seeds > 1, "grid", "the sweep varies nothing: give grid "
                 "values, ranges or settings, or more than one seed")
        _require(self.method != "optuna" or searched, "method", "Optuna needs something to "
                 "search: grid values, ranges or several settings")

    def _check_values(self, name: str, values: list) -> None:
        where = f"grid {name}"
        _require(isinstance(values, list) and len(values) > 0, where, "has no values")
        _require(len({repr(v) for v in values}) == len(values), where,
                 f"repeats a value: {values}")
        for value in values:  # alone here; combined with the rest when the trials are made
            _checked(where, lambda: TrainConfig.check_field(name, value))

    def _check_range(self, name: str, bounds: dict[str, Any]) -> None:
        where = f"range {name}"
        _require(self.method != "grid", where, "a range needs the random or optuna method "
                 "(a grid takes a list of values)")
        _require(name in BOUNDS, where, "only numeric settings take a range")
        _require(isinstance(bounds, dict) and set(bounds) <= {"low", "high", "scale"}
                 and {"low", "high"} <= set(bounds), where,
                 "must be {\"low\": ..., \"high\": ..., \"scale\": \"linear\" or \"log\"}")
        low, high, scale = bounds["low"], bounds["high"], bounds.get("scale", "linear")
        _require(scale in SCALES, where, f"scale must be one of {SCALES}, got {scale!r}")
        _require(isinstance(low, (int, float)) and isinstance(high, (int, float))
                 and not isinstance(low, bool) and low < high, where,
                 f"low must be a number below high, got {low!r} to {high!r}")
        _require(scale == "linear" or low > 0, where, "a log scale needs low > 0")
        if name in INT_FIELDS:
            _require(float(low).is_integer() and float(high).is_integer(), where,
                     f"{name} takes whole numbers, got {low} to {high}")
            low, high = int(low), int(high)
        for end in (low, high):
            _checked(where, lambda: TrainConfig.check_field(name, end))

    def _check_budget(self) -> None:
        _require(_whole(self.max_trials) and self.max_trials >= 0, "max_trials",
                 f"must be a whole number >= 0, got {self.max_trials!r}")
        _require(self.method == "grid" or self.max_trials > 0, "max_trials",
                 f"the {self.method} method needs a number of trials (max trials > 0)")
        _require(self.method != "optuna" or self.max_trials >= self.seeds, "max_trials",
                 f"Optuna tries settings of {self.seeds} seeds each: give at least "
                 f"{self.seeds} trials")
        _require(_number(self.max_minutes) and self.max_minutes >= 0, "max_minutes",
                 f"must be a number of minutes >= 0 (0: no limit), got {self.max_minutes!r}")
        _require(not self.asha or (_whole(self.asha_grace) and self.asha_grace >= 1),
                 "asha_grace", f"must be a whole number of epochs >= 1, got "
                 f"{self.asha_grace!r}")
        _require(not self.asha or (_whole(self.asha_reduction) and self.asha_reduction >= 2),
                 "asha_reduction", f"must be a whole number >= 2, got {self.asha_reduction!r}")
        _require(not self.asha or self.asha_grace < self.base_config.epochs
                 or "epochs" in self.grid or "epochs" in self.ranges, "asha_grace",
                 f"ASHA stops trials after {self.asha_grace} epoch(s) at the earliest, but "
                 f"they train {self.base_config.epochs}: nothing would be stopped")

    def _check_resources(self) -> None:
        _require(_whole(self.concurrent) and self.concurrent >= 1, "concurrent",
                 f"must be a whole number >= 1, got {self.concurrent!r}")
        _require(_number(self.cpus_per_trial) and self.cpus_per_trial >= 0, "cpus_per_trial",
                 f"must be >= 0 (0: the cores divided among the concurrent trials), got "
                 f"{self.cpus_per_trial!r}")
        _require(_number(self.gpus_per_trial) and self.gpus_per_trial >= 0, "gpus_per_trial",
                 f"must be >= 0, got {self.gpus_per_trial!r}")
        _require(isinstance(self.address, str), "address", "must be text (host:port)")
        _require(isinstance(self.name, str) and len(self.name) <= 80, "name",
                 "must be text of at most 80 characters")
        _require(_whole(self.sample_seed) and self.sample_seed >= 0, "sample_seed",
                 f"must be a whole number >= 0, got {self.sample_seed!r}")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SweepSpec":
        """From sweep.json or a form; unknown keys are refused, then everything validated."""
        _require(isinstance(data, dict), "sweep", "must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        _require(not unknown, unknown[0] if unknown else "", "unknown sweep setting "
                 f"(known: {', '.join(sorted(known))})")
        return cls(**data).validate()


THESIS_KEYS = ("cell", "layers", "units", "dropout_layers", "window", "epochs", "batch_size",
               "label")  # what the thesis's runs 1-4 set; the rest is the sweep's base


def thesis_settings(model: int, part: str, scale: str) -> list[dict[str, Any]]:
    """The thesis's runs 1-4 (core.nets.config.thesis_runs) as a sweep's settings: their
    shapes, epochs and labels; model, part, objective and corpus stay the sweep's own."""
    return [{k: v for k, v in config.to_dict().items() if k in THESIS_KEYS}
            for config in thesis_runs(model, part, scale)]


# --------------------------------------------------------------------------- as text

def parse_grid(text: str) -> tuple[str, list]:
    """'units=32,64' -> ('units', [32, 64]), each value of the field's type (the CLI's
    --grid; the dashboard's values boxes give 'units' and '32, 64' to `parse_values`)."""
    name, values = _split(text, "--grid", "FIELD=V1,V2")
    return name, [parse_value(name, v.strip()) for v in values.split(",") if v.strip()]


def parse_range(text: str) -> tuple[str, dict[str, Any]]:
    """'learning_rate=0.001:0.01:log' -> ('learning_rate', {low, high, scale})."""
    name, bounds = _split(text, "--range", "FIELD=LOW:HIGH[:log]")
    parts = bounds.split(":")
    if len(parts) not in (2, 3):
        raise SweepError(f"range {name}", f"write it LOW:HIGH or LOW:HIGH:log, got {bounds!r}")
    low, high = (parse_value(name, p) for p in parts[:2])
    return name, {"low": low, "high": high, "scale": parts[2] if len(parts) == 3 else "linear"}


def _split(text: str, flag: str, form: str) -> tuple[str, str]:
    name, sep, rest = text.partition("=")
    if not sep or not name.strip():
        raise SweepError(flag, f"write it {form}, got {text!r}")
    return name.strip().replace("-", "_"), rest


def parse_value(name: str, text: str) -> Any:
    """A flag's text as the type of TrainConfig field `name` (unknown fields stay text, for
    the spec to refuse by name)."""
    kinds = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}
    kind = kinds.get(name)
    try:
        if name in INT_FIELDS:
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise SweepError(name, f"{text!r} is not a {'whole ' if name in INT_FIELDS else ''}"
                               "number") from None
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise SweepError(name, f"{text!r} is not true or false")
        return text.lower() in ("true", "1", "yes")
    return text


def parse_values(name: str, text: str) -> tuple[str, Any]:
    """What a dashboard box holds for setting `name`: '32, 64' -> ("grid", [32, 64]);
    '0.001:0.01' or '0.001:0.01:log' -> ("range", {low, high, scale})."""
    if ":" in text:
        return "range", parse_range(f"{name}={text}")[1]
    return "grid", parse_grid(f"{name}={text}")[1]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _require(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise SweepError(where, message)


def _checked(where: str, build):
    """Run `build` (a TrainConfig check); its ConfigError becomes a SweepError saying where."""
    try:
        return build()
    except SweepError:
        raise
    except ConfigError as exc:
        raise SweepError(where, str(exc)) from exc
    except TypeError as exc:  # a value of a type the dataclass cannot even take
        raise SweepError(where, str(exc)) from exc


# --------------------------------------------------------------------------- on disk

def new_sweep_id(name: str) -> str:
    """'20260102-150405-thesis-runs': the time it was made, then its name as a slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    stamp = folder_stamp()
    return f"{stamp}-{slug}" if slug else stamp


def create_sweep(spec: SweepSpec, sweeps_root: Path | str) -> Path:
    """Validate `spec` and save it as <sweeps_root>/<new id>/sweep.json; the folder."""
    spec.validate()
    root = Path(sweeps_root)
    base = new_sweep_id(spec.name)
    for n in range(1000):
        folder = root / (base if n == 0 else f"{base}-{n}")
        with saving(f"the sweep folder {folder}"):
            root.mkdir(parents=True, exist_ok=True)
            try:
                folder.mkdir()
            except FileExistsError:
                continue
        write_json(folder / SPEC_FILE, {"id": folder.name, "created": now_iso(),
                                        "spec": spec.to_dict()},
                   f"{SPEC_FILE} of sweep {folder.name}")
        return folder
    raise RunError(f"could not create a sweep folder under {root}")


def load_spec(sweep_dir: Path | str) -> SweepSpec:
    """The validated spec of a saved sweep; a missing or broken sweep.json is one RunError."""
    path = Path(sweep_dir) / SPEC_FILE
    if not path.exists():
        raise RunError(f"there is no sweep at {Path(sweep_dir)} (no {SPEC_FILE})")
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
        raise RunError(f"{path} holds no sweep")
    return SweepSpec.from_dict(data["spec"])


def sweep_dirs(sweeps_root: Path | str) -> list[Path]:
    """The saved sweeps, oldest first (ids begin with their creation time)."""
    root = Path(sweeps_root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / SPEC_FILE).exists())


def find_sweep(sweep: str, sweeps_root: Path | str) -> Path:
    """A sweep given by id (under sweeps_root) or by its folder."""
    path = Path(sweep)
    if (path / SPEC_FILE).exists():
        return path
    if (Path(sweeps_root) / sweep / SPEC_FILE).exists():
        return Path(sweeps_root) / sweep
    known = ", ".join(p.name for p in sweep_dirs(sweeps_root)[-5:]) or "none yet"
    raise RunError(f"there is no sweep {sweep!r} in {sweeps_root} (latest: {known})")
