"""What a network reads beside its own symbols while it generates: the lead a conditioned
accompaniment follows, and the bar position of each symbol it predicts (core.data.metre).

Both are aligned as in training (core.nets.windows): the input symbol at history index j is
read with the context of the symbol it predicts, j + 1. The lead is given in full before
generation starts; bar positions follow from each seed piece's metre, and for Model 2 from
the durations generated so far (an event starts where the ones before it end).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.data.metre import Metre
from core.data.symbols import parse_duration
from core.data.timeline import to_steps
from core.nets.windows import POSITION


@dataclass
class Context:
    """The context inputs of one batch of generated pieces (one row each)."""

    model: int
    lead: np.ndarray | None = None  # (batch, >= n + steps + 1) lead ids
    metres: Sequence[Metre] | None = None  # per row; None: no bar position is read
    durations: np.ndarray | None = None  # Model 2: each duration id's length in quarters
    hold: int | None = None  # Model 1: the hold's id (greedy decides onsets apart: decoding)

    def hold_of(self, stream: str) -> int | None:
        """The hold id greedy decoding weighs for a stream (Model 1's steps only)."""
        return self.hold if stream == "steps" else None

    def inputs(self, history: dict[str, np.ndarray], start: int,
               stop: int) -> dict[str, np.ndarray]:
        """The context read with history[:, start:stop] (each row of the batch), i.e. the
        context of the symbols at start + 1 .. stop. History must reach index stop - 1."""
        found: dict[str, np.ndarray] = {}
        if self.lead is not None:
            found["lead"] = self.lead[:, start + 1:stop + 1]
        if self.metres is not None:
            found[POSITION] = self._positions(history, start + 1, stop + 1)
        return found

    def _positions(self, history: dict[str, np.ndarray], start: int,
                   stop: int) -> np.ndarray:
        """Bar positions of the symbols at start..stop-1 of each row."""
        if self.model == 1:
            steps = np.broadcast_to(np.arange(start, stop), (len(self.metres), stop - start))
        else:
            lengths = self.durations[history["duration"][:, :stop - 1]]
            onsets = np.concatenate([np.zeros((len(lengths), 1)), np.cumsum(lengths, axis=1)],
                                    axis=1)
            steps = to_steps(onsets[:, start:stop])
        return np.stack([metre.positions(row) for metre, row in zip(self.metres, steps)])

    def row(self, i: int, repeat: int = 1) -> "Context":
        """The context of row i alone, repeated `repeat` times (beam search's beams)."""
        lead = None if self.lead is None else np.repeat(self.lead[i:i + 1], repeat, axis=0)
        metres = None if self.metres is None else [self.metres[i]] * repeat
        return Context(self.model, lead, metres, self.durations, self.hold)


def duration_quarters(symbols: Sequence[str]) -> np.ndarray:
    """Each duration symbol's length in quarters (a Model 2 duration vocabulary's)."""
    return np.array([float(parse_duration(s)) for s in symbols], float)
