"""The corpus records: pieces with a lead and an optional accompaniment part, each part's
Model 1 and Model 2 encodings, the held-out split and the per-file report.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np

from core.data.metre import Metre

LEAD = "lead"
ACCOMPANIMENT = "accompaniment"
PARTS = (LEAD, ACCOMPANIMENT)
DEFAULT_CORPUS = "bach-chorales"
DEFAULT_ALIASES = ("", "default")  # what a setting or a flag may also call it
# 2: MIDI read by symusic with roles for any number of tracks; 3: the lead chosen by
# core.data.melody, the lead line a setting, the lead/accompaniment folder layout; 4: each
# piece's metre
ENCODING_VERSION = 4
# The lead's line (core.data.roles): its top line, or every note of the lead track(s);
# "auto" is the top line for the chorales and band files, the whole lead for a corpus given
# as lead and accompaniment files.
LEAD_LINES = ("auto", "top", "whole")
SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")


def is_default_corpus(source: object) -> bool:
    """Whether a corpus setting names the bundled chorales (by name or an alias)."""
    return str(source) in (DEFAULT_CORPUS, *DEFAULT_ALIASES)


class CorpusError(ValueError):
    """The corpus as a whole cannot be used (no readable piece, unknown setting)."""


@dataclass
class PartData:
    """One part's encodings: Model 1's steps, Model 2's pitch and duration streams."""

    steps: list[str]
    pitch: list[str]
    duration: list[str]

    def stream(self, name: str) -> list[str]:
        return getattr(self, name)


STREAMS = tuple(f.name for f in fields(PartData))


@dataclass
class EncodedPart:
    """A part's Model 1 and Model 2 streams as ids into a table of symbols (shared by the
    parts encoded together): how `core.data.encoding.encode_parts` makes them, each symbol
    made once, and how the cache stores them. `streams` gives them as PartData's lists."""

    symbols: list[str]
    steps: np.ndarray
    pitch: np.ndarray
    duration: np.ndarray

    def streams(self) -> dict[str, list[str]]:
        table = np.array(self.symbols, object)
        return {name: table[getattr(self, name)].tolist() for name in STREAMS}

    @classmethod
    def of_streams(cls, streams: Mapping[str, Sequence[str]]) -> EncodedPart:
        """Streams of symbols (as music21's encoders give them) as ids."""
        table: dict[str, int] = {}
        ids = [np.array([table.setdefault(s, len(table)) for s in streams[name]], np.int32)
               for name in STREAMS]
        return cls(list(table), *ids)


@dataclass
class Piece:
    name: str
    source: str
    split: str
    lead: PartData
    accompaniment: PartData | None
    metre: Metre = field(default_factory=Metre)

    def part(self, name: str) -> PartData | None:
        return self.lead if name == "lead" else self.accompaniment


@dataclass
class FileReport:
    """What became of one file: kept or skipped (and why), which tracks became the lead and
    the accompaniment, the share of its onsets the 16th grid moved by more than a 64th note
    (triplets, swing, a played performance), how many over-long notes were cut, and how sure
    the melody rule was of the lead (0-1; 1 when nothing was left to choose) with why it
    doubts it (empty when sure: `uncertain` is what a report marks)."""

    file: str
    status: str
    reason: str
    lead: str = ""
    accompaniment: str = ""
    moved_onsets: float = 0.0
    capped_notes: int = 0
    confidence: float = 1.0
    doubt: str = ""

    @property
    def uncertain(self) -> bool:
        return self.status == "kept" and bool(self.doubt)


@dataclass
class Corpus:
    corpus_id: str
    key: str
    settings: dict[str, Any]
    pieces: list[Piece]
    report: list[FileReport] = field(default_factory=list)

    def split(self, split: str) -> list[Piece]:
        return [p for p in self.pieces if p.split == split]

    def sequences(self, part: str, stream_name: str, split: str | None = None) -> list[list[str]]:
        """Every piece's symbol list for one part and stream (pieces lacking the part skipped)."""
        pieces = self.pieces if split is None else self.split(split)
        return [p.part(part).stream(stream_name) for p in pieces if p.part(part) is not None]

    def piece(self, name: str) -> Piece:
        for p in self.pieces:
            if p.name == name:
                return p
        raise KeyError(f"no piece named {name!r} in corpus {self.corpus_id}")
