"""Decoding strategies: greedy (argmax), temperature (p = softmax(log p / t)), top-k, top-p
(nucleus) and beam search (appendix C of the thesis). `choose` picks one symbol per row.

Temperature 0 is greedy decoding, the limit of softmax(log p / t) as t falls to 0: every
sampling strategy at t = 0 picks the most likely symbol. Model 2 samples two streams; its
duration stream may have a temperature of its own (`duration_temperature`), since a wild
rhythm and wild pitches are different faults.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

import numpy as np

STRATEGIES = ("greedy", "temperature", "top_k", "top_p", "beam")


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
    top_p: float = 0.9
    beam_width: int = 4
    duration_temperature: float | None = None  # Model 2's duration stream; None: temperature

    def validate(self) -> "Decoding":
        """Refuse an impossible decoding, naming the setting and the value given (a person
        reads this, so never the dataclass's repr)."""
        checks = [(self.strategy in STRATEGIES,
                   f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy}"),
                  (self.temperature >= 0,
                   f"temperature must be >= 0 (0 is greedy), got {self.temperature:g}"),
                  (self.duration_temperature is None or self.duration_temperature >= 0,
                   f"the duration temperature must be >= 0 (0 is greedy), got "
                   f"{self.duration_temperature}"),
                  (self.top_k >= 1, f"top_k must be >= 1, got {self.top_k}"),
                  (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p:g}"),
                  (self.beam_width >= 1, f"beam_width must be >= 1, got {self.beam_width}")]
        for ok, message in checks:
            if not ok:
                raise GenerationError(message)
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

    @classmethod
    def from_dict(cls, saved: Mapping[str, Any] | None) -> "Decoding":
        """The decoding a sample.json or evaluation settings recorded (`asdict` of one);
        fields it lacks take their defaults, keys it does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (saved or {}).items() if k in known})

    @classmethod
    def parse(cls, text: str) -> "Decoding":
        """'greedy', 'temperature:0.65', 'top_k:8', 'top_p:0.9', 'beam:4' (CLI and forms)."""
        name, _, value = text.partition(":")
        fields = {"greedy": None, "temperature": ("temperature", float),
                  "top_k": ("top_k", int), "top_p": ("top_p", float), "beam": ("beam_width", int)}
        try:
            spec = fields[name]
            extra = {spec[0]: spec[1](value)} if spec and value else {}
        except (KeyError, ValueError) as exc:
            raise GenerationError(f"unknown decoding {text!r}; use one of {STRATEGIES} "
                                  "with an optional ':value'") from exc
        return cls(name, **extra).validate()


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


def choose(probs: np.ndarray, decoding: Decoding, rng: np.random.Generator) -> np.ndarray:
    """One symbol id per row of `probs` (batch, vocab); the most likely one for greedy
    decoding, beam search's single steps and sampling at temperature 0."""
    if not decoding.samples or decoding.temperature == 0:
        return probs.argmax(axis=-1)
    p = reshape(probs, decoding)
    cumulative = np.cumsum(p, axis=-1)
    draws = rng.random((p.shape[0], 1))
    return np.minimum((cumulative < draws).sum(axis=-1), p.shape[-1] - 1)
