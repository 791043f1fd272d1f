"""Preparing a corpus: list its files, read and encode them (in parallel), hold out whole
pieces, and cache the result. `corpus_for` gives the corpus a training configuration names.
"""
from __future__ import annotations

import math
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from music21 import corpus as m21corpus

from core.data.cache import files_key, load_corpus, save_corpus
from core.data.corpus import (
    DEFAULT_CORPUS,
    ENCODING_VERSION,
    SUFFIXES,
    Corpus,
    CorpusError,
    FileReport,
    PartData,
    Piece,
)
from core.data.scores import read_piece
from core.data.symbols import CHORD_MODES

if TYPE_CHECKING:
    from core.nets.config import TrainConfig


def default_corpus_files(max_pieces: int = 0) -> list[Path]:
    """The chorales bundled with music21 (MusicXML only; the analyses are not scores)."""
    files = sorted(p for p in m21corpus.getComposer("bach") if p.suffix in (".mxl", ".xml"))
    return files[:max_pieces] if max_pieces else files


def folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CorpusError(f"{folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _holdout(names: list[str], fraction: float, seed: int) -> set[str]:
    """Whole pieces held out for validation: seeded, at least one when there are two or more."""
    if fraction <= 0 or len(names) < 2:
        return set()
    count = min(len(names) - 1, max(1, math.ceil(fraction * len(names))))
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)
    return set(shuffled[:count])


def _parse_all(files: list[Path], layout: str, chord_mode: str,
               workers: int) -> list[tuple[dict | None, str]]:
    args = [(str(f), layout, chord_mode) for f in files]
    if workers <= 1 or len(files) < 8:
        return [read_piece(*a) for a in args]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_piece, *zip(*args), chunksize=8))


def prepare_corpus(source: str | Path = DEFAULT_CORPUS, *, chord_mode: str = "pitch_class",
                   val_fraction: float = 0.1, seed: int = 0, max_pieces: int = 0,
                   cache_dir: Path | str = "cache", workers: int | None = None) -> Corpus:
    """Read, encode and split a corpus; a second call with the same files and settings reads
    the JSON cache instead of parsing again (the key covers file contents and settings)."""
    if chord_mode not in CHORD_MODES:
        raise CorpusError(f"chord_mode must be one of {CHORD_MODES}, got {chord_mode!r}")
    if not 0 <= val_fraction < 1:
        raise CorpusError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if str(source) == DEFAULT_CORPUS:
        corpus_id, layout, files = DEFAULT_CORPUS, "chorale", default_corpus_files(max_pieces)
    else:
        folder = Path(source)
        corpus_id, layout = folder.resolve().name, "instruments"
        files = folder_files(folder)[: max_pieces or None]
        if not files:
            raise CorpusError(f"no MIDI, MusicXML or ABC files in {folder}")
    settings = {"source": str(source), "chord_mode": chord_mode, "val_fraction": val_fraction,
                "seed": seed, "max_pieces": max_pieces, "encoding_version": ENCODING_VERSION}
    key = files_key(files, settings)
    cache_path = Path(cache_dir) / f"{corpus_id}-{key[:16]}.json"
    if cache_path.exists():
        return load_corpus(cache_path)
    results = _parse_all(files, layout, chord_mode, workers or os.cpu_count() or 1)
    names = [str(f.relative_to(source)) if layout == "instruments" else f.stem for f in files]
    kept = [(n, f, r) for n, f, (r, _) in zip(names, files, results) if r is not None]
    if not kept:
        reasons = "; ".join(f"{n}: {why}" for n, (_, why) in zip(names, results))
        raise CorpusError(f"no usable piece in {source} ({reasons[:500]})")
    held = _holdout([n for n, _, _ in kept], val_fraction, seed)
    pieces = [Piece(n, str(f), "validation" if n in held else "train", PartData(**r["lead"]),
                    PartData(**r["accompaniment"]) if r["accompaniment"] else None)
              for n, f, r in kept]
    report = [FileReport(n, "kept" if r else "skipped", why or "")
              for n, (r, why) in zip(names, results)]
    result = Corpus(corpus_id, key, settings, pieces, report)
    save_corpus(result, cache_path)
    return result


def corpus_for(config: TrainConfig, cache_dir: Path | str = "cache") -> Corpus:
    """The corpus a configuration names, from the cache when it was prepared before."""
    source = DEFAULT_CORPUS if config.corpus in ("", "default") else config.corpus
    return prepare_corpus(source, chord_mode=config.chord_mode, val_fraction=config.val_fraction,
                          seed=config.split_seed, max_pieces=config.max_pieces,
                          cache_dir=cache_dir)
