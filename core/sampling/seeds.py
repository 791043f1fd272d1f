"""Seeds: the first window of a corpus piece or of a user's MIDI/MusicXML file, encoded in a
run's vocabulary; the held-out pieces that can seed every run of an evaluation.

A user's file is read as a corpus file is (`core.data.pieces.read_piece`: the same lead
rule), and `fit_seed` maps every symbol a run never saw to the nearest one it knows
(`core.data.nearest` says how), counting them so the caller can say how many were mapped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from core.data.corpus import LEAD, Corpus, PartData, Piece
from core.data.nearest import fit_to_vocabulary
from core.data.pieces import read_piece
from core.data.symbols import EncodingError
from core.nets.windows import target_names
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


def seed_streams(part_data, config) -> dict[str, list[str]]:
    return {name: part_data.stream(name) for name in target_names(config)}


def seed_from_corpus(run: Run, piece_name: str | None = None, cache_dir: Path | str = "cache"):
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
    return {"lead": piece.lead, "accompaniment": piece.accompaniment}, f"piece:{piece.name}"


def seed_from_file(path: Path | str, chord_mode: str = "pitch_class", lead_line: str = "top"):
    """A user's MIDI/MusicXML file read the way a corpus file is (its lead's top line or
    whole tracks, as the run's corpus kept them); bad files say why."""
    data, report = read_piece(path, Path(path).name, chord_mode=chord_mode,
                              lead_line=lead_line)
    if data is None:
        raise GenerationError(f"{Path(path).name} cannot seed generation: {report.reason}")
    parts = {"lead": PartData(**data["lead"]),
             "accompaniment": PartData(**data["accompaniment"]) if data["accompaniment"] else None}
    return parts, f"file:{Path(path).name}"


def fit_seed(parts: Mapping[str, PartData | None], infos: Mapping[str, Run],
             steps: int) -> tuple[dict[str, PartData | None], int]:
    """The seed's parts with every symbol a run reads mapped into that run's vocabulary, and
    how many symbols were mapped: each run's window of its own part, and the lead a
    conditioned accompaniment follows when no lead run generates one."""
    fitted, mapped = dict(parts), 0
    for part, info in infos.items():
        config, data = info.config, parts.get(part)
        if data is not None:
            streams = {}
            for name in target_names(config):
                streams[name], count = fit_to_vocabulary(
                    data.stream(name)[:config.window], info.vocabs[name].symbols, name,
                    config.chord_mode)
                mapped += count
            fitted[part] = PartData(**{**vars(data), **streams})
        if config.conditioned and LEAD not in infos and parts.get(LEAD) is not None:
            lead, count = fit_to_vocabulary(parts[LEAD].steps[:config.window + steps],
                                            info.vocabs[LEAD].symbols, LEAD, config.chord_mode)
            fitted[LEAD] = PartData(**{**vars(parts[LEAD]), "steps": lead})
            mapped += count
    return fitted, mapped


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


def encode_seed(run: Run, symbols: dict[str, list[str]], length: int) -> dict[str, np.ndarray]:
    for name, seq in symbols.items():
        if len(seq) < length:
            raise GenerationError(f"the seed has {len(seq)} {name} symbols but run {run.run_id} "
                                  f"needs a window of {length}")
    return {name: encode_seeds(run, name, [seq], length) for name, seq in symbols.items()}
