"""Time arithmetic of encoded parts: where each symbol starts in quarter lengths.

Model 1 has one symbol per 16th (STEP); Model 2's symbols last their durations. Cutting a part
at a time, counting the symbols of a seed window and locating a symbol all live here, so no
other module multiplies by 0.25 or sums durations itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from core.data.encoding import decode_events
from core.data.notes import notes_from_steps, notes_from_stream
from core.data.symbols import STEP, parse_duration

def seed_symbol_count(symbols: Mapping[str, Sequence[str]], seed_quarters: float) -> int:
    """How many symbols of a part are its seed window, from the seed's length in quarters:
    Model 1 has one symbol per 16th; Model 2 as many events as fill the seed's quarters."""
    if "steps" in symbols:
        return int(round(seed_quarters / 0.25))
    total, count = 0.0, 0
    for d in symbols.get("duration", []):
        if total >= seed_quarters - 1e-9:
            break
        total += float(parse_duration(d))
        count += 1
    return count


def quarter_length(config, symbols: dict[str, list[str]]) -> float:
    if config.model == 1:
        return len(symbols["steps"]) * 0.25
    return float(sum(parse_duration(d) for d in symbols["duration"]))


def trim(config, symbols: dict[str, list[str]], end: float) -> dict[str, list[str]]:
    """Cut a part at `end` quarter lengths so both parts of a piece stop together."""
    if config.model == 1:
        return {"steps": symbols["steps"][:int(round(end / 0.25))]}
    total, count = 0.0, 0
    for d in symbols["duration"]:
        if total >= end:
            break
        total, count = total + float(parse_duration(d)), count + 1
    return {k: v[:count] for k, v in symbols.items()}


@dataclass(frozen=True)
class PartSymbols:
    """One part's symbols in one run's encoding: the note table and symbol metrics read it."""

    symbols: dict[str, list[str]]
    model: int
    chord_mode: str

    @property
    def main(self) -> list[str]:
        """The stream tested for loops and copying: Model 1 steps, Model 2 pitches."""
        return self.symbols[main_stream(self.model)]

    def boundaries(self) -> np.ndarray:
        """Quarter position where each symbol starts, then where the last one ends."""
        if self.model == 1:
            return np.arange(len(self.main) + 1) * STEP
        lengths = [float(parse_duration(d)) for d in self.symbols["duration"]]
        return np.concatenate([[0.0], np.cumsum(lengths)])

    def time_at(self, index: int) -> float:
        """Where symbol `index` starts (the part's end when it has fewer symbols)."""
        bounds = self.boundaries()
        return float(bounds[min(index, len(bounds) - 1)])

    def notes(self, name: str) -> pd.DataFrame:
        if self.model == 1:
            return notes_from_steps(self.symbols["steps"], name, self.chord_mode)
        part = decode_events(self.symbols["pitch"], self.symbols["duration"], self.chord_mode)
        return notes_from_stream(part, name)


def main_stream(model: int) -> str:
    return "steps" if model == 1 else "pitch"
