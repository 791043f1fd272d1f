"""Training configuration: one dataclass, validated in one place, saved with every run.

Every hyperparameter of the thesis's Table 1 is a field, plus what the thesis left implicit
(learning rate, embedding size, seed, part) and the extensions (objective, conditioning).
BOUNDS and CHOICES are the one table of allowed values: `validate`, the CLI's flags and the
dashboard's forms all read it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from core.data.corpus import LEAD_LINES, PARTS
from core.data.symbols import CHORD_MODES

CELLS = ("lstm", "gru")
OBJECTIVES = ("window", "sequence")
# How the learning rate moves over a run (core.nets.schedule): the thesis's constant rate,
# halved when the held-out loss stops falling, or a warm-up then a cosine decay.
LR_SCHEDULES = ("constant", "plateau", "cosine")
# How Model 1 feeds a symbol to its first layer (core.nets.models.resolved_encoding): the
# same network either way; "auto" takes the faster one where the run is created.
INPUT_ENCODINGS = ("auto", "lookup", "onehot")
MODELS = (1, 2)
SCALES = ("small", "full")  # thesis_runs: units / 8 and 5 epochs, or the thesis's own
SEED_LIMIT = 2**32 - 1  # numpy's and Keras' seeds are unsigned 32-bit numbers


@dataclass(frozen=True)
class Bounds:
    """The allowed values of a numeric setting, low..high, either end open; forms and the
    CLI read them from here so they can never allow what `validate` refuses."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"{left}{_number(self.low)}, {_number(self.high)}{right}"


def _number(value: float) -> str:
    """4294967295 as itself, not 4.29497e+09; 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


BOUNDS: dict[str, Bounds] = {
    "units": Bounds(1, 4096), "layers": Bounds(1, 8), "dropout_layers": Bounds(0, 8),
    "dropout_rate": Bounds(0.0, 1.0, high_open=True), "window": Bounds(1, 100_000),
    "batch_size": Bounds(1, 4096), "epochs": Bounds(1, 1000),
    "learning_rate": Bounds(0.0, 1.0, low_open=True), "embedding_dim": Bounds(1, 1024),
    "dense_units": Bounds(1, 4096), "seed": Bounds(0, SEED_LIMIT),
    "val_fraction": Bounds(0.0, 1.0, high_open=True), "split_seed": Bounds(0, SEED_LIMIT),
    "max_pieces": Bounds(0, 10**9), "sequence_window": Bounds(0, 100_000),
    "early_stopping": Bounds(0, 1000), "clip_norm": Bounds(0.0, 1000.0),
    "transpose_augment": Bounds(0, 6),
}
CHOICES: dict[str, tuple] = {"model": MODELS, "cell": CELLS, "part": PARTS,
                             "objective": OBJECTIVES, "input_encoding": INPUT_ENCODINGS,
                             "chord_mode": CHORD_MODES, "lr_schedule": LR_SCHEDULES,
                             "lead_line": LEAD_LINES}


class ConfigError(ValueError):
    """An impossible setting; the message names the field so a form can point at it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass
class TrainConfig:
    """What one training run needs to be reproduced.

    Defaults are a model that learns something audible in a few minutes on 2 CPU cores; the
    thesis's settings are in `thesis_runs`. Numeric fields must lie in BOUNDS and text fields
    be one of CHOICES: the one table every form and command-line flag reads.
    """

    model: int = 1
    cell: str = "lstm"
    units: int = 128
    layers: int = 1
    dropout_layers: int = 1
    dropout_rate: float = 0.2
    window: int = 32
    batch_size: int = 64
    epochs: int = 20
    learning_rate: float = 0.02
    embedding_dim: int = 32
    dense_units: int = 128
    seed: int = 0
    part: str = "lead"
    objective: str = "sequence"
    sequence_window: int = 0  # the sequence objective's training windows; 0: `window`
    input_encoding: str = "auto"  # a run records the form it was built with
    lr_schedule: str = "plateau"
    early_stopping: int = 4  # epochs without a better held-out loss before stopping; 0: never
    clip_norm: float = 1.0  # the gradients' global norm is cut to this; 0: not clipped
    key_normalisation: bool = True  # train in C major / A minor (core.data.keys)
    transpose_augment: int = 0  # each training window moved by up to +-k semitones
    bar_position: bool = True  # the network reads where in the bar it predicts
    conditioned: bool = False
    corpus: str = "bach-chorales"
    chord_mode: str = "pitch_class"
    lead_line: str = "auto"  # the lead's top line or whole tracks (core.data.roles)
    val_fraction: float = 0.1
    split_seed: int = 0
    max_pieces: int = 0
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> "TrainConfig":
        """Refuse settings that cannot train, naming the field, before any work starts."""
        for f in dataclasses.fields(self):
            self.check_field(f.name, getattr(self, f.name))
        _check(self.dropout_layers <= self.layers, "dropout_layers",
               f"must be between 0 and layers ({self.layers}), got {self.dropout_layers}")
        _check(self.sequence_window == 0 or self.objective == "sequence", "sequence_window",
               "only the sequence objective trains on windows of another length (0: the "
               "window)")
        _check(not (self.conditioned and self.part != "accompaniment"), "conditioned",
               "only an accompaniment model can be conditioned on the lead")
        _check(not (self.conditioned and self.model != 1), "conditioned",
               "conditioning on the lead needs Model 1 (its steps align in time)")
        return self

    @classmethod
    def check_field(cls, name: str, value: Any) -> None:
        """One setting on its own: its type (values from JSON or a form may have any), its
        CHOICES or BOUNDS. `validate` checks every field so, then how they combine; a sweep
        checks each grid value and range end so before its combinations are validated."""
        kind = _FIELD_TYPES.get(name)
        if kind is None:
            raise ConfigError(name, "unknown setting")
        kinds = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}.get(kind)
        if kinds and (not isinstance(value, kinds) or
                      (isinstance(value, bool) and bool not in kinds)):
            raise ConfigError(name, f"must be of type {kind}, got {value!r}")
        if name in CHOICES:
            _check(value in CHOICES[name], name,
                   f"must be one of {CHOICES[name]}, got {value!r}")
        if name in BOUNDS:
            _check(value in BOUNDS[name], name, f"must be in {BOUNDS[name]}, got {value!r}")

    @property
    def train_window(self) -> int:
        """Symbols per training window. The sequence objective may train on shorter windows
        than `window` (measured: n = 16 reaches n = 32's held-out loss in fewer epochs);
        the held-out measure and generation always read `window` symbols."""
        return self.sequence_window or self.window

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from saved JSON; unknown keys are refused so typos do not pass silently.
        A setting the JSON lacks because it was saved before the setting existed takes the
        value that reproduces what such a run did (ADDED_LATER), not today's default."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(unknown[0], "unknown setting")
        return cls(**{**ADDED_LATER, **data}).validate()


def _check(ok: bool, field_name: str, message: str) -> None:
    if not ok:
        raise ConfigError(field_name, message)


# The thesis's method where later settings could change it: one fixed learning rate, every
# epoch trained, raw gradients, pieces in their own keys, symbols alone as input. Runs saved
# before these settings existed trained so; the thesis presets train so.
ADDED_LATER: dict[str, Any] = dict(lr_schedule="constant", early_stopping=0, clip_norm=0.0,
                                   key_normalisation=False, transpose_augment=0,
                                   bar_position=False)
# The thesis's rate is Keras' implicit Adam default; this lab's window-objective runs used
# 0.002 before the demo recipe, and the presets keep it.
THESIS_METHOD: dict[str, Any] = dict(objective="window", learning_rate=0.002, **ADDED_LATER)
# Named settings the Train page and the CLI (--recipe) start from. "demo" is TrainConfig's
# own defaults: the recipe the defense script trains (README). "thesis" trains the same
# network the thesis's way (window objective, none of the recipe's additions).
RECIPES: dict[str, dict[str, Any]] = {"demo": {}, "thesis": THESIS_METHOD}
# Model 2 predicts events, about a quarter as many as Model 1's 16ths, so an epoch of the
# same batches makes a quarter of the updates: its demo trains on smaller batches (chorale
# leads, 20 epochs: batch 16 at rate 0.01 reached held-out pitch accuracy 0.59, duration
# 0.77; batch 32 at 0.02: 0.54, 0.74).
MODEL_RECIPES: dict[tuple[str, int], dict[str, Any]] = {
    ("demo", 2): {"batch_size": 16, "learning_rate": 0.01}}


def recipe(name: str, model: int = 1) -> dict[str, Any]:
    """The settings recipe `name` gives a run of `model` beyond TrainConfig's defaults."""
    return {**RECIPES[name], **MODEL_RECIPES.get((name, model), {})}


def thesis_runs(model: int, part: str, scale: str = "full") -> list[TrainConfig]:
    """The four runs of Tables 2 and 3 (window 32, 50 epochs), optionally shrunk.

    "small" keeps the architecture's shape (1 vs 3 layers, LSTM vs GRU, the 1024 run twice as
    wide) but divides units by 8 and trains 5 epochs, so all four finish in minutes on 2 cores.
    """
    if scale not in SCALES:
        raise ConfigError("scale", f"must be one of {SCALES}, got {scale!r}")
    shapes = [("lstm", 1, 512), ("lstm", 3, 512), ("lstm", 3, 1024), ("gru", 3, 512)]
    divisor, epochs = (1, 50) if scale == "full" else (8, 5)
    return [
        TrainConfig(model=model, part=part, cell=cell, layers=layers, units=units // divisor,
                    dropout_layers=layers, window=32, epochs=epochs, batch_size=64,
                    label=f"thesis run {i} ({scale})", **THESIS_METHOD).validate()
        for i, (cell, layers, units) in enumerate(shapes, start=1)
    ]


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}
# The settings that choose a run's corpus and its held-out pieces (core.data.prepare.
# corpus_for reads them): prepared, not trained.
CORPUS_FIELDS = ("corpus", "chord_mode", "lead_line", "max_pieces", "val_fraction",
                 "split_seed")
SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig)
                       if f.name not in ("seed", "label"))
INT_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if str(f.type) == "int")
