"""Decoding strategies: greedy (argmax), temperature (p = softmax(log p / t)), top-k, top-p
(nucleus) and beam search (appendix C of the thesis). `choose` picks one symbol per row.

Temperature 0 is greedy decoding, the limit of softmax(log p / t) as t falls to 0: every
sampling strategy at t = 0 picks the most likely symbol. Model 2 samples two streams; its
duration stream may have a temperature of its own (`duration_temperature`), since a wild
rhythm and wild pitches are different faults.

BOUNDS is the one table of each parameter's allowed values (as core.nets.config.BOUNDS is
for training): `validate`, the CLI's --decoding help and the Listen and Listening test
forms all read it. Temperature is at most 2: the range the pages always offered and the
common convention of sampling interfaces; above it the distribution over these
vocabularies is close to uniform noise, and inf or nan would make no distribution at all.
top_k is at most 4096, above the largest vocabulary a part of the chorales has (about 2,000
chords in voicing mode, 289 in pitch-class mode; a k at or above the vocabulary's size
samples as plain temperature does) and costs nothing more for being large. beam_width is
at most 16: each step re-runs the window for every beam, so beam:1000 ran past two minutes
and beam:100000 took 2.5 GB.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

import numpy as np

from core.nets.config import Bounds

STRATEGIES = ("greedy", "temperature", "top_k", "top_p", "beam")
BOUNDS: dict[str, Bounds] = {
    "temperature": Bounds(0.0, 2.0), "duration_temperature": Bounds(0.0, 2.0),
    "top_k": Bounds(1, 4096), "top_p": Bounds(0.0, 1.0, low_open=True),
    "beam_width": Bounds(1, 16),
}
# The parameter each strategy takes in 'strategy:value' (greedy takes none).
PARAMETER: dict[str, str | None] = {"greedy": None, "temperature": "temperature",
                                    "top_k": "top_k", "top_p": "top_p", "beam": "beam_width"}


class GenerationError(ValueError):
    """A generation request that cannot be met (bad seed, bad decoding, missing run files)."""


@dataclass(frozen=True)
class Decoding:
    """One decoding strategy and its parameters (those the strategy does not use are kept at
    their defaults). Saved as a dict in sample.json and evaluation settings; named by `label`
    in folder names and CSVs and by `title` on screen."""

    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int = 8
    top_p: float = 0.95  # MEASURED_BEST's
    beam_width: int = 4
    duration_temperature: float | None = None  # Model 2's duration stream; None: temperature

    def validate(self) -> "Decoding":
        """Refuse an impossible decoding, naming the setting, its bounds and the value given
        (a person reads this, so never the dataclass's repr)."""
        if self.strategy not in STRATEGIES:
            raise GenerationError(f"strategy must be one of {', '.join(STRATEGIES)}, got "
                                  f"{self.strategy}")
        for name, bounds in BOUNDS.items():
            value = getattr(self, name)
            if value is None and name == "duration_temperature":
                continue
            if not _is_number(value, integer=name in ("top_k", "beam_width")) \
                    or value not in bounds:
                said = "the duration temperature" if name == "duration_temperature" else name
                cold = " (0 is greedy)" if name.endswith("temperature") else ""
                raise GenerationError(f"{said} must be in {bounds}{cold}, got {value}")
        return self

    @property
    def samples(self) -> bool:
        """Whether the strategy draws at random (temperature, top-k, top-p)."""
        return self.strategy not in ("greedy", "beam")

    def for_stream(self, stream: str) -> "Decoding":
        """The decoding of one stream: Model 2's duration stream at its own temperature."""
        if stream == "duration" and self.duration_temperature is not None:
            return replace(self, temperature=self.duration_temperature,
                           duration_temperature=None)
        return self

    def _parameters(self) -> list[tuple[str, str, str]]:
        """(short name, long name, value) of each parameter the strategy uses, in order."""
        t = ("t", "t", f"{self.temperature:g}")
        sampled = [t] if self.duration_temperature is None else \
            [t, ("dt", "duration t", f"{self.duration_temperature:g}")]
        return {"greedy": [], "temperature": sampled,
                "top_k": [("k", "k", f"{self.top_k}"), *sampled],
                "top_p": [("p", "p", f"{self.top_p:g}"), *sampled],
                "beam": [("w", "width", f"{self.beam_width}")]}[self.strategy]

    @property
    def label(self) -> str:
        """Id-safe name, part of sample folder names and evaluation CSVs: 'temperature-t0.65'."""
        return self.strategy + "".join(f"-{short}{v}" for short, _, v in self._parameters())

    @property
    def title(self) -> str:
        """Name for people, in pages and the report: 'temperature t=0.65', and
        'temperature t=0 (greedy)' where sampling at temperature 0 is greedy decoding."""
        title = self.strategy + "".join(f" {name}={v}" for _, name, v in self._parameters())
        cold = self.samples and self.temperature == 0 and not self.duration_temperature
        return f"{title} (greedy)" if cold else title

    @property
    def spec(self) -> str:
        """The decoding as `parse` reads it back: 'top_p:0.95' (its one parameter)."""
        field = PARAMETER[self.strategy]
        return self.strategy if field is None else f"{self.strategy}:{getattr(self, field):g}"

    @classmethod
    def from_dict(cls, saved: Mapping[str, Any] | None) -> "Decoding":
        """The decoding a sample.json or evaluation settings recorded (`asdict` of one);
        fields it lacks take their defaults, keys it does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (saved or {}).items() if k in known})

    @classmethod
    def parse(cls, text: str) -> "Decoding":
        """'greedy', 'temperature:0.65', 'top_k:8', 'top_p:0.9', 'beam:4' (CLI and forms);
        a strategy without ':' takes its default. A value a strategy does not take
        ('greedy:3'), an empty one ('temperature:') or one out of BOUNDS is refused."""
        name, colon, value = text.partition(":")
        if name not in PARAMETER:
            raise GenerationError(f"unknown decoding {text!r}; use one of "
                                  f"{', '.join(STRATEGIES)} with an optional ':value'")
        field = PARAMETER[name]
        if not colon:
            return cls(name).validate()
        if field is None:
            raise GenerationError(f"{name} takes no value, got {text!r}")
        kind = int if field in ("top_k", "beam_width") else float
        try:
            number = kind(value)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise GenerationError(f"{name} takes {what} in {BOUNDS[field]} after ':', got "
                                  f"{text!r}") from None
        return cls(name, **{field: number}).validate()


# What the pages preselect, chosen by measurement (python -m core bench --only quality: the
# demo recipe's lead and accompaniment that reads it, 41 held-out chorales continued for 128
# 16ths, each judged metric's overlap with the other 41 held-out chorales as a share of the
# Bach-against-Bach ceiling): top-p 0.95 at temperature 1 came closest (mean 0.99, worst
# metric 0.79), the best plain temperature was 0.9 (0.93 and 0.71; 1.0: 0.90 and 0.62; the
# thesis's 0.65 is colder still), and greedy decoding loops (0.2-0.4). Model 2's lead: top-p
# 0.95 1.04 and 0.76, temperature 0.9 1.05 and 0.86.
MEASURED_BEST = Decoding("top_p", top_p=0.95)
MEASURED_TEMPERATURE = 0.9


def parse_help() -> str:
    """What `--decoding` (and the pages' typed decodings) take, with each value's bounds:
    'greedy | temperature:T (T in [0, 2]) | ...'."""
    values = [f"{name}:{letter} ({letter} in {BOUNDS[PARAMETER[name]]})"
              for name, letter in (("temperature", "T"), ("top_k", "K"), ("top_p", "P"),
                                   ("beam", "W"))]
    return " | ".join(["greedy", *values])


def _is_number(value: Any, integer: bool) -> bool:
    """A real number (a whole one when `integer`), never a bool or a string."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, np.integer)) if integer else \
        isinstance(value, (int, float, np.integer, np.floating))


def reshape(probs: np.ndarray, decoding: Decoding) -> np.ndarray:
    """The distribution a sampling strategy draws from (rows sum to 1); at temperature 0,
    all of it on the most likely symbol."""
    if decoding.temperature == 0:
        return np.eye(probs.shape[-1])[probs.argmax(axis=-1)]
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / decoding.temperature
    if decoding.strategy == "top_k":
        kth = np.sort(logits, axis=-1)[..., -min(decoding.top_k, logits.shape[-1]), None]
        logits = np.where(logits < kth, -np.inf, logits)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    if decoding.strategy == "top_p":
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, axis=-1)
        keep_sorted = np.cumsum(sorted_p, axis=-1) - sorted_p < decoding.top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(axis=-1, keepdims=True)
    return p


def most_likely(probs: np.ndarray, hold: int | None = None) -> np.ndarray:
    """Greedy decoding's symbol per row of `probs` (batch, vocab): the argmax; for Model 1's
    steps (`hold`: the hold's id) in two decisions, as onset accuracy scores them: whether
    something new starts (the new symbols' probability together against the hold's), then
    the most likely new symbol. The plain argmax holds a note for ever wherever the hold
    alone outweighs each single new symbol, though together they outweigh it: measured on
    the demo recipe, 17 of 82 held-out chorales' greedy continuations held one note for all
    of their 128 16ths."""
    best = probs.argmax(axis=-1)
    if hold is None:
        return best
    new = np.where(np.arange(probs.shape[-1]) == hold, -np.inf, probs).argmax(axis=-1)
    return np.where(probs[:, hold] < 0.5, new, hold)


def choose(probs: np.ndarray, decoding: Decoding, rng: np.random.Generator,
           hold: int | None = None) -> np.ndarray:
    """One symbol id per row of `probs` (batch, vocab); for greedy decoding and sampling at
    temperature 0 the most likely one (`most_likely`, which takes Model 1's hold id)."""
    if not decoding.samples or decoding.temperature == 0:
        return most_likely(probs, hold)
    p = reshape(probs, decoding)
    cumulative = np.cumsum(p, axis=-1)
    draws = rng.random((p.shape[0], 1))
    return np.minimum((cumulative < draws).sum(axis=-1), p.shape[-1] - 1)
