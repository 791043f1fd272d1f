"""Seeds: the first window of a corpus piece or of a user's MIDI/MusicXML file, as a run
reads it; the held-out pieces that can seed every run of an evaluation.

A seed is a corpus Piece (a user's file is read as a corpus file is:
`core.data.pieces.read_piece`, the same lead rule, its metre). `run_seed` gives what one run
reads of it: moved to the run's common key when it normalises keys, with every symbol the
run never saw mapped to the nearest one it knows (`core.data.nearest` says how), counted so
the caller can say how many were mapped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from core.data.corpus import LEAD, Corpus, PartData, Piece
from core.data.nearest import fit_to_vocabulary
from core.data.pieces import read_piece
from core.data.symbols import EncodingError
from core.nets.windows import moved, piece_shift, target_names
from core.runs.record import Run
from core.sampling.decoding import GenerationError


def _fits(piece: Piece, infos: Mapping[str, Run]) -> bool:
    """Whether a piece can seed every run: each part present and at least a window long
    (a conditioned accompaniment with no lead run follows the piece's own lead)."""
    for part, info in infos.items():
        data = piece.part(part)
        n = info.config.window
        if data is None or any(len(data.stream(s)) < n for s in target_names(info.config)):
            return False
        if info.config.conditioned and LEAD not in infos and len(piece.lead.steps) <= n:
            return False
    return True


def seed_pieces(corpus: Corpus, infos: Mapping[str, Run], n_pieces: int) -> list[Piece]:
    """`n_pieces` seeds taken from the held-out pieces in turn (all pieces when none is held
    out, as generate() does); only pieces long enough for every run's window are used."""
    candidates = [p for p in corpus.split("validation") or corpus.pieces if _fits(p, infos)]
    if not candidates:
        windows = {part: info.config.window for part, info in infos.items()}
        raise GenerationError(f"no piece of corpus {corpus.corpus_id} can seed windows {windows}")
    return [candidates[i % len(candidates)] for i in range(n_pieces)]


def seed_from_corpus(run: Run, piece_name: str | None = None,
                     cache_dir: Path | str = "cache") -> tuple[Piece, str]:
    """The named piece (default: the first held-out piece) of the run's corpus."""
    from core.data.prepare import corpus_for

    corpus = corpus_for(run.config, cache_dir)
    held = corpus.split("validation") or corpus.pieces
    if piece_name and piece_name not in {p.name for p in corpus.pieces}:
        names = [p.name for p in held]
        raise GenerationError(f"no piece {piece_name!r} in corpus {corpus.corpus_id}; its "
                              f"held-out pieces are {', '.join(names[:8])}"
                              + (f" and {len(names) - 8} more" if len(names) > 8 else ""))
    piece = corpus.piece(piece_name) if piece_name else held[0]
    return piece, f"piece:{piece.name}"


def seed_from_file(path: Path | str, chord_mode: str = "pitch_class",
                   lead_line: str = "top") -> tuple[Piece, str]:
    """A user's MIDI/MusicXML file read the way a corpus file is (its lead's top line or
    whole tracks, as the run's corpus kept them); bad files say why."""
    name = Path(path).name
    data, report = read_piece(path, name, chord_mode=chord_mode, lead_line=lead_line)
    if data is None:
        raise GenerationError(f"{name} cannot seed generation: {report.reason}")
    accompaniment = data["accompaniment"]
    return (Piece(name, str(path), "seed", PartData(**data["lead"]),
                  PartData(**accompaniment) if accompaniment else None, data["metre"]),
            f"file:{name}")


@dataclass
class RunSeed:
    """What one run reads of one seed piece, in the run's own frame: its window of symbols
    (moved by the run's key shift, unknown symbols mapped to the nearest known), the lead
    a conditioned accompaniment follows when no lead run generates one, the shift to undo
    on what is generated, and how many symbols were mapped."""

    window: dict[str, list[str]]
    lead: list[str] | None
    shift: int
    mapped: int


def run_seed(run: Run, piece: Piece, steps: int, own_lead: bool = True) -> RunSeed:
    """`piece` as `run` reads it (core.nets.windows.piece_streams); GenerationError for a
    piece without the run's part or shorter than its window. `own_lead`: a conditioned
    accompaniment follows the piece's own lead (no lead run generates one)."""
    config = run.config
    if piece.part(config.part) is None:
        raise GenerationError(f"the seed piece has no {config.part} part")
    shift = piece_shift(piece, config)
    part = piece.part(config.part)
    streams = moved({name: part.stream(name) for name in target_names(config)}, shift,
                    config.chord_mode)
    window, mapped = {}, 0
    for name, symbols in streams.items():
        if len(symbols) < config.window:
            raise GenerationError(f"the seed has {len(symbols)} {name} symbols but run "
                                  f"{run.run_id} needs a window of {config.window}")
        window[name], count = fit_to_vocabulary(symbols[:config.window],
                                                run.vocabs[name].symbols, name,
                                                config.chord_mode)
        mapped += count
    lead = None
    if config.conditioned and own_lead:
        own = moved({"lead": piece.lead.steps[:config.window + steps]}, shift,
                    config.chord_mode)["lead"]
        lead, count = fit_to_vocabulary(own, run.vocabs[LEAD].symbols, LEAD, config.chord_mode)
        mapped += count
    return RunSeed(window, lead, shift, mapped)


def seed_mapped(piece: Piece, infos: Mapping[str, Run], steps: int) -> int:
    """How many symbols of a seed the runs had to map to ones they know."""
    return sum(run_seed(info, piece, steps, LEAD not in infos).mapped
               for info in infos.values())


def encode_seeds(run: Run, name: str, sequences: Iterable[Sequence[str]],
                 length: int) -> np.ndarray:
    """(batch, length) ids of the first `length` symbols of each sequence of one stream;
    a symbol the run never saw is a GenerationError naming it."""
    try:
        return np.asarray([run.vocabs[name].encode(list(s[:length])) for s in sequences],
                          dtype=np.int64)
    except EncodingError as exc:
        raise GenerationError(f"the seed does not fit run {run.run_id}'s vocabulary "
                              f"({name}): {exc}") from exc
