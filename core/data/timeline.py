"""Time arithmetic: where each symbol of an encoded part starts, in quarter lengths, and the
16th-note grid (STEP) that Model 1 and the piano roll share.

Model 1 has one symbol per 16th (STEP); Model 2's symbols last their durations. Locating a
symbol, cutting a part at a time, counting the symbols of a seed window and putting times on
the 16th grid all live here, so no other module multiplies by STEP or sums durations itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from typing import Mapping, Sequence

import numpy as np

from core.data.symbols import STEP, parse_duration

_EPS = 1e-9  # a symbol that starts this close before a time starts at it


def boundaries(model: int, symbols: Mapping[str, Sequence[str]]) -> np.ndarray:
    """Quarter position where each symbol starts, then where the last one ends; Model 2's
    durations are summed exactly (as fractions), so triplets add up to whole beats."""
    if model == 1:
        return np.arange(len(symbols["steps"]) + 1) * STEP
    ends = accumulate((Fraction(parse_duration(d)) for d in symbols["duration"]),
                      initial=Fraction(0))
    return np.array([float(t) for t in ends])


def _starting_before(bounds: np.ndarray, quarters: Sequence[float]) -> list[int]:
    """How many symbols start before each time, given `boundaries`."""
    return [int(i) for i in np.searchsorted(bounds[:-1], np.asarray(quarters) - _EPS)]


def symbols_before(model: int, symbols: Mapping[str, Sequence[str]], quarters: float) -> int:
    """How many symbols of a part start before `quarters`."""
    return _starting_before(boundaries(model, symbols), [quarters])[0]


def model_of(symbols: Mapping[str, Sequence[str]]) -> int:
    """Which model's symbols these are (a saved sample names its streams, not its model):
    Model 1 parts have a "steps" stream."""
    return 1 if "steps" in symbols else 2


def quarter_length(config, symbols: Mapping[str, Sequence[str]]) -> float:
    """How long a part of `config`'s model lasts, in quarters."""
    return float(boundaries(config.model, symbols)[-1])


def trim(config, symbols: Mapping[str, Sequence[str]], end: float) -> dict[str, list[str]]:
    """Cut a part at `end` quarter lengths so both parts of a piece stop together: the
    symbols that start before `end` are kept."""
    count = symbols_before(config.model, symbols, end)
    return {k: list(v[:count]) for k, v in symbols.items()}


def to_steps(quarters) -> np.ndarray:
    """The nearest 16th-grid step of each time (quarters)."""
    return np.rint(np.asarray(quarters, dtype=float) / STEP).astype(np.int64)


def steps_spanned(quarters: float) -> int:
    """How many 16th steps a length of `quarters` covers (a step begun counts)."""
    return math.ceil(round(quarters / STEP, 6))


def to_quarters(steps: int) -> float:
    """The length of `steps` 16th steps, in quarters."""
    return steps * STEP


@dataclass(frozen=True)
class PartSymbols:
    """One part's symbols in one run's encoding (Model 1 "steps"; Model 2 "pitch" and
    "duration"): the note table and symbol metrics read it."""

    symbols: dict[str, list[str]]
    model: int
    chord_mode: str

    @property
    def main(self) -> list[str]:
        """The stream that carries the notes, tested for loops and copying: Model 1 steps,
        Model 2 pitches."""
        return self.symbols["steps" if self.model == 1 else "pitch"]

    def between(self, start: float, end: float = math.inf) -> list[str]:
        """The main stream's symbols that start in [start, end) quarters."""
        first, last = _starting_before(self.boundaries(), [start, end])
        return self.main[first:last]

    def boundaries(self) -> np.ndarray:
        """Quarter position where each symbol starts, then where the last one ends."""
        return boundaries(self.model, self.symbols)

    def time_at(self, index: int) -> float:
        """Where symbol `index` starts (the part's end when it has fewer symbols)."""
        bounds = self.boundaries()
        return float(bounds[min(index, len(bounds) - 1)])
