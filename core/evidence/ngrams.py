"""Novelty and memorisation: how much of a piece's symbol sequence occurs in the training
pieces (n-gram overlap, longest verbatim copy), through an index built once per corpus.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

NOVELTY_ORDERS = (4, 8)
_MOD = (1 << 31) - 1  # two 31-bit polynomial hashes make one 62-bit n-gram key
_BASES = (1_000_003, 998_244_353 % _MOD)


class _HashedText:
    """Pieces of integer ids with prefix hashes: any k-gram's key in O(1), no k-gram crosses
    a piece boundary. Two independent hashes modulo 2^31-1 give collisions of ~2^-62 per
    pair, negligible for corpora of this size."""

    def __init__(self, pieces: Sequence[np.ndarray]) -> None:
        self.ids = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        lengths = [len(p) for p in pieces]
        self.piece_of = np.repeat(np.arange(len(lengths)), lengths)
        self.longest = max(lengths, default=0)
        self.prefixes = [self._prefix(base) for base in _BASES]

    def _prefix(self, base: int) -> np.ndarray:
        prefix = np.zeros(len(self.ids) + 1, np.int64)
        acc = 0
        for i, value in enumerate(self.ids.tolist(), start=1):
            acc = (acc * base + value + 1) % _MOD
            prefix[i] = acc
        return prefix

    def keys(self, k: int) -> np.ndarray:
        """Keys of every k-gram that lies inside one piece."""
        n = len(self.ids)
        if k < 1 or k > n:
            return np.zeros(0, np.int64)
        parts = [(h[k:] - h[:-k] * pow(base, k, _MOD)) % _MOD
                 for h, base in zip(self.prefixes, _BASES)]
        inside = self.piece_of[:n - k + 1] == self.piece_of[k - 1:]
        return ((parts[0] << 31) | parts[1])[inside]


class NgramIndex:
    """The training pieces' n-grams, built once, for novelty and memorisation of many pieces.

    Symbols are mapped to the training vocabulary; a symbol never seen in training can match
    nothing. Key sets for `orders` are built up front, others on first use and cached.
    """

    def __init__(self, training_sequences: Iterable[Sequence[str]],
                 orders: Sequence[int] = NOVELTY_ORDERS) -> None:
        pieces = list(training_sequences)
        if not pieces:
            raise ValueError("no training sequences to compare with")
        if any(isinstance(p, str) for p in pieces):
            raise ValueError("training_sequences must be a list of symbol sequences "
                             "(one per piece), not one sequence of symbols")
        self.vocabulary: dict[str, int] = {}
        encoded = [np.array([self.vocabulary.setdefault(s, len(self.vocabulary)) for s in p],
                            dtype=np.int64) for p in pieces]
        self.n_pieces = len(pieces)
        self._text = _HashedText(encoded)
        self._cache: dict[int, np.ndarray] = {}
        for n in orders:
            self.keys(n)

    def keys(self, n: int) -> np.ndarray:
        """Sorted distinct keys of the training n-grams."""
        if n < 1:
            raise ValueError("n-gram order must be at least 1")
        if n not in self._cache:
            if len(self._cache) >= 16:
                self._cache.pop(next(iter(self._cache)))
            self._cache[n] = np.unique(self._text.keys(n))
        return self._cache[n]

    def _encode(self, symbols: Sequence[str]) -> np.ndarray:
        if isinstance(symbols, str):
            raise ValueError("expected a sequence of symbols, not one string")
        unseen: dict[str, int] = {}
        known = len(self.vocabulary)
        return np.array([self.vocabulary[s] if s in self.vocabulary
                         else unseen.setdefault(s, known + len(unseen)) for s in symbols],
                        dtype=np.int64)

    def novelty(self, symbols: Sequence[str], n: int) -> float:
        """Share of the piece's n-grams (counted with repeats) found in no training piece."""
        if n < 1:
            raise ValueError("n-gram order must be at least 1")
        piece = _HashedText([self._encode(symbols)]).keys(n)
        if not len(piece):
            return math.nan
        return float(1 - np.isin(piece, self.keys(n)).mean())

    def longest_copy(self, symbols: Sequence[str]) -> int:
        """Longest run of the piece found verbatim in one training piece (binary search on
        the length: a common run of k implies one of k-1)."""
        piece = _HashedText([self._encode(symbols)])
        low, high = 0, min(len(piece.ids), self._text.longest)
        while low < high:
            mid = (low + high + 1) // 2
            train = self._cache.get(mid)
            train = train if train is not None else self._text.keys(mid)
            if np.isin(piece.keys(mid), train).any():
                low = mid
            else:
                high = mid - 1
        return low
