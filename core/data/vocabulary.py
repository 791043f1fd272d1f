"""Vocabularies: symbols numbered from 0 in order of first appearance, as the thesis stores
them, saved as one readable JSON file per run ({stream name: [symbols]}).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from core.data.symbols import EncodingError


@dataclass(frozen=True)
class Vocabulary:
    """Symbols numbered from 0 in order of first appearance, as the thesis stores them."""

    symbols: tuple[str, ...]

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]]) -> "Vocabulary":
        seen: dict[str, None] = {}
        for sequence in sequences:
            for symbol in sequence:
                seen.setdefault(symbol, None)
        return cls(tuple(seen))

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, sequence: Sequence[str]) -> list[int]:
        index = self.index
        missing = sorted({s for s in sequence if s not in index})
        if missing:
            raise EncodingError(f"symbols not in the vocabulary: {', '.join(missing[:10])}")
        return [index[s] for s in sequence]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[int(i)] for i in ids]

    def to_json(self) -> list[str]:
        return list(self.symbols)

    @classmethod
    def from_json(cls, data: list[str]) -> "Vocabulary":
        return cls(tuple(data))


def save_vocabularies(vocabs: dict[str, Vocabulary], path: Path) -> None:
    """All of a run's vocabularies in one readable JSON file ({stream name: [symbols]})."""
    path.write_text(json.dumps({k: v.to_json() for k, v in vocabs.items()}, indent=1))


def load_vocabularies(path: Path) -> dict[str, Vocabulary]:
    return {k: Vocabulary.from_json(v) for k, v in json.loads(path.read_text()).items()}
