"""Where in the bar each symbol falls: a piece's metre (bar length and the step of a
downbeat, on the 16th grid) and the bar positions a network may read beside its symbols.

A network that reads only symbols must count 16ths to know when a beat comes, and a small
one trained for a minute cannot: it answers the hold `_` everywhere and greedy decoding
plays one note for ever. Told the position in the bar of the step it predicts, it learns
that notes start on beats (measured on the chorales, 2x64 GRU, 12 epochs: held-out loss
0.594 against 0.621 without, note accuracy 0.36 against 0.32).

Positions count 16ths from the last downbeat: 0 on the downbeat, up to bar_steps - 1.
A chorale's pickup moves its first downbeat after step 0; a MIDI file's bars start at its
first step (core.data.tracks drops whole silent bars only). A bar longer than POSITIONS
16ths (longer than 12/4) shares the last position for its rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIONS = 48  # distinct positions a network reads: 12/4 at 16ths


@dataclass(frozen=True)
class Metre:
    """A piece's bar length in 16ths and one downbeat's step (any; taken modulo the bar)."""

    bar_steps: int = 16
    downbeat: int = 0

    def __post_init__(self) -> None:
        if self.bar_steps < 1:
            raise ValueError(f"a bar must last at least one 16th, got {self.bar_steps}")

    def positions(self, steps: np.ndarray) -> np.ndarray:
        """The bar position of each 16th step (int32)."""
        at = (np.asarray(steps, np.int64) - self.downbeat) % self.bar_steps
        return np.minimum(at, POSITIONS - 1).astype(np.int32)

    def to_list(self) -> list[int]:
        return [self.bar_steps, self.downbeat % self.bar_steps]

    @classmethod
    def from_list(cls, saved: list[int] | None) -> "Metre":
        """The metre a cache saved with `to_list`; 4/4 from step 0 when none was saved."""
        return cls(*saved) if saved else cls()
