"""Preparing a corpus: list its files, read and encode them (in parallel, streamed into the
cache), hold out whole pieces, and cache the result. `corpus_for` gives the corpus a training
configuration names.

A folder's roles file (`roles.csv`, see core.data.roles) is read with it: its overrides
decide tracks' roles before the automatic rule, and its contents are part of the cache key.

A folder holding a `lead/` and an `accompaniment/` folder is the thesis's layout (thesis
3.1.1: each song split into a lead file and an accompaniment file): files with the same name
(the same path inside each folder; the suffix may differ) are one song, whose lead is every
note of its lead file and whose accompaniment every note of its accompaniment file. A song
missing either half, or a score file outside the two folders, is reported as skipped with
the reason; the roles file does not apply.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from music21 import corpus as m21corpus

from core.data.cache import (
    CorpusWriter,
    DamagedCache,
    cache_path,
    files_key,
    load_corpus,
    report_path,
    set_aside,
    write_report_csv,
)
from core.data.corpus import (
    DEFAULT_CORPUS,
    ENCODING_VERSION,
    LEAD_LINES,
    SUFFIXES,
    Corpus,
    CorpusError,
    FileReport,
    is_default_corpus,
)
from core.data.pieces import read_encoded
from core.data.roles import ROLES_FILE, Overrides, RolesError, load_roles
from core.data.symbols import CHORD_MODES
from core.faults import pause_point
from core.files import WriteError
from core.processes import pool_worker_start

log = logging.getLogger(__name__)  # notes (a damaged cache rebuilt); the CLI prints them


class CorpusSettings(Protocol):
    """The settings that choose a corpus and its held-out pieces: a training configuration's
    (core.nets.config.CORPUS_FIELDS), or anything else with these attributes."""

    corpus: str
    chord_mode: str
    lead_line: str
    max_pieces: int
    val_fraction: float
    split_seed: int


@dataclass(frozen=True)
class Progress:
    """How far a prepare has got: files read so far, of all, and how many were kept."""

    done: int
    total: int
    kept: int
    skipped: int


def default_corpus_files(max_pieces: int = 0) -> list[Path]:
    """The chorales bundled with music21 (MusicXML only; the analyses are not scores)."""
    files = sorted(p for p in m21corpus.getComposer("bach") if p.suffix in (".mxl", ".xml"))
    return files[:max_pieces] if max_pieces else files


def folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CorpusError(f"{folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


LEAD_FOLDER, ACCOMPANIMENT_FOLDER = "lead", "accompaniment"


def is_pairs_folder(folder: Path) -> bool:
    """Whether a folder is in the lead / accompaniment layout (see the module)."""
    return (folder / LEAD_FOLDER).is_dir() and (folder / ACCOMPANIMENT_FOLDER).is_dir()


def song_pairs(folder: Path) -> tuple[list[tuple[str, Path, Path]], list[FileReport]]:
    """(songs as (name, lead file, accompaniment file), the files that make no song, each
    with its reason) of a folder in the lead / accompaniment layout; a song is named by its
    lead file's path inside lead/."""
    halves = {}
    for side in (LEAD_FOLDER, ACCOMPANIMENT_FOLDER):
        root = folder / side
        halves[side] = {f.relative_to(root).with_suffix("").as_posix(): f
                        for f in folder_files(root)}
    songs, unmatched = [], []
    for key, lead in sorted(halves[LEAD_FOLDER].items()):
        partner = halves[ACCOMPANIMENT_FOLDER].get(key)
        if partner is None:
            unmatched.append(FileReport(lead.relative_to(folder).as_posix(), "skipped",
                                        f"no accompaniment file for this song in "
                                        f"{ACCOMPANIMENT_FOLDER}/ (a song needs both halves)"))
        else:
            songs.append((lead.relative_to(folder / LEAD_FOLDER).as_posix(), lead, partner))
    for key, partner in sorted(halves[ACCOMPANIMENT_FOLDER].items()):
        if key not in halves[LEAD_FOLDER]:
            unmatched.append(FileReport(partner.relative_to(folder).as_posix(), "skipped",
                                        f"no lead file for this song in {LEAD_FOLDER}/ (a song "
                                        "needs both halves)"))
    for stray in folder_files(folder):
        if stray.relative_to(folder).parts[0] not in (LEAD_FOLDER, ACCOMPANIMENT_FOLDER):
            unmatched.append(FileReport(stray.relative_to(folder).as_posix(), "skipped",
                                        f"outside {LEAD_FOLDER}/ and {ACCOMPANIMENT_FOLDER}/ "
                                        "(this folder is laid out as lead and accompaniment "
                                        "files)"))
    return songs, unmatched


def lead_line_for(lead_line: str, layout: str) -> str:
    """The lead line a setting means for a layout: "auto" is the whole lead for lead and
    accompaniment files, the top line otherwise."""
    if lead_line != "auto":
        return lead_line
    return "whole" if layout == "pairs" else "top"


def config_lead_line(config: CorpusSettings) -> str:
    """The lead line a run's corpus was prepared with (so a seed file is read alike)."""
    pairs = not is_default_corpus(config.corpus) and is_pairs_folder(Path(config.corpus))
    return lead_line_for(config.lead_line, "pairs" if pairs else "instruments")


def _holdout(names: list[str], fraction: float, seed: int) -> set[str]:
    """Whole pieces held out for validation: seeded, at least one when there are two or more."""
    if fraction <= 0 or len(names) < 2:
        return set()
    count = min(len(names) - 1, max(1, math.ceil(fraction * len(names))))
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)
    return set(shuffled[:count])


def _read_all(jobs: list[tuple], workers: int) -> Iterator[tuple[dict | None, FileReport]]:
    """read_encoded over every job, in order, as each finishes (on `workers` processes,
    which die with this one: core.processes)."""
    if workers <= 1 or len(jobs) < 8:
        yield from (read_encoded(*job) for job in jobs)
        return
    chunk = max(1, min(64, len(jobs) // (workers * 8)))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=pool_worker_start,
                               initargs=(os.getpid(),))
    try:
        for count, result in enumerate(pool.map(read_encoded, *zip(*jobs), chunksize=chunk), 1):
            pause_point("prepare", count)
            yield result
    finally:  # interrupted (Ctrl-C, an error): the files not started yet are not read
        pool.shutdown(wait=True, cancel_futures=True)


def read_roles(folder: Path, roles: Path | str | None) -> Overrides:
    """The overrides of `roles`, else of the folder's own roles file, else none."""
    path = Path(roles) if roles else folder / ROLES_FILE
    if not roles and not path.is_file():
        return {}
    try:
        return load_roles(path)
    except RolesError as exc:
        raise CorpusError(str(exc)) from exc


def prepare_corpus(source: str | Path = DEFAULT_CORPUS, *, chord_mode: str = "pitch_class",
                   val_fraction: float = 0.1, seed: int = 0, max_pieces: int = 0,
                   cache_dir: Path | str = "cache", workers: int | None = None,
                   roles: Path | str | None = None, lead_line: str = "auto",
                   progress: Callable[[Progress], None] | None = None) -> Corpus:
    """Read, encode and split a corpus; a second call with the same files and settings reads
    the cache instead of parsing again (the key covers file contents, settings and roles).

    `roles` is a roles CSV (default: the folder's own roles.csv, if any); `lead_line` the
    lead's line (LEAD_LINES; "auto": `lead_line_for`); `progress` is called after every file
    with the files done, kept and skipped so far.
    """
    if chord_mode not in CHORD_MODES:
        raise CorpusError(f"chord_mode must be one of {CHORD_MODES}, got {chord_mode!r}")
    if lead_line not in LEAD_LINES:
        raise CorpusError(f"lead_line must be one of {LEAD_LINES}, got {lead_line!r}")
    if not 0 <= val_fraction < 1:
        raise CorpusError(f"val_fraction must be in [0, 1), got {val_fraction}")
    overrides: Overrides = {}
    partners: list[str | None] = []
    unmatched: list[FileReport] = []
    if str(source) == DEFAULT_CORPUS:
        corpus_id, layout, files = DEFAULT_CORPUS, "chorale", default_corpus_files(max_pieces)
        names = [f.stem for f in files]
    elif is_pairs_folder(Path(source)):
        folder = Path(source)
        corpus_id, layout = folder.resolve().name, "pairs"
        songs, unmatched = song_pairs(folder)
        songs = songs[: max_pieces or None]
        if not songs:
            raise CorpusError(f"no song in {folder} has both a file in {LEAD_FOLDER}/ and one "
                              f"of the same name in {ACCOMPANIMENT_FOLDER}/")
        names, files, partners = ([song[i] for song in songs] for i in range(3))
    else:
        folder = Path(source)
        corpus_id, layout = folder.resolve().name, "instruments"
        files = folder_files(folder)[: max_pieces or None]
        if not files:
            raise CorpusError(f"no MIDI, MusicXML or ABC files in {folder}")
        names = [f.relative_to(folder).as_posix() for f in files]
        overrides = read_roles(folder, roles)
    resolved = lead_line_for(lead_line, layout)
    settings = {"source": str(source), "chord_mode": chord_mode, "val_fraction": val_fraction,
                "seed": seed, "max_pieces": max_pieces, "encoding_version": ENCODING_VERSION,
                "roles": _roles_digest(overrides), "layout": layout, "lead_line": resolved}
    key = files_key(files + [p for p in partners if p], settings)
    path = cache_path(cache_dir, corpus_id, key)
    if path.exists():
        cached = _from_cache(path, key)
        if cached is not None:
            return cached
    jobs = [(str(f), n, layout, chord_mode, overrides.get(n), resolved,
             str(partners[i]) if partners else None) for i, (f, n) in enumerate(zip(files, names))]
    writer, report, total = CorpusWriter(), list(unmatched), len(files) + len(unmatched)
    for (parts, line), f in zip(_read_all(jobs, workers or os.cpu_count() or 1), files):
        report.append(line)
        if parts is not None:
            writer.add(line.file, str(f), parts, parts["metre"])
        if progress:
            kept = len(writer.pieces)
            progress(Progress(len(report), total, kept, len(report) - kept))
    if not writer.pieces:
        reasons = "; ".join(f"{r.file}: {r.reason}" for r in report)
        raise CorpusError(f"no usable piece in {source} ({reasons[:500]})")
    held = _holdout([p["name"] for p in writer.pieces], val_fraction, seed)
    splits = {p["name"]: "validation" if p["name"] in held else "train" for p in writer.pieces}
    writer.save(path, corpus_id, key, settings, splits, report)
    return load_corpus(path)


def _from_cache(path: Path, key: str) -> Corpus | None:
    """The cached corpus; None when its file is damaged: then it is set aside (said in one
    line) and the caller prepares the corpus again from its files. A missing report CSV
    beside it is written again (it is the cache's own report, also kept inside it)."""
    try:
        corpus = load_corpus(path, key)
    except DamagedCache as exc:
        aside = set_aside(path)
        log.warning("%s: set aside as %s; preparing the corpus again from its files",
                    exc, aside.name)
        return None
    if not report_path(path).exists():
        try:
            write_report_csv(corpus.report, report_path(path))
        except WriteError as exc:  # a read-only cache still serves its corpus
            log.warning("%s", exc)
    return corpus


def _roles_digest(overrides: Overrides) -> str:
    if not overrides:
        return ""
    text = json.dumps({f: {str(t): r for t, r in v.items()} for f, v in overrides.items()},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def corpus_for(config: CorpusSettings, cache_dir: Path | str = "cache",
               **options: Any) -> Corpus:
    """The corpus a configuration names, from the cache when it was prepared before;
    `options` (roles, progress) go to prepare_corpus."""
    source = DEFAULT_CORPUS if is_default_corpus(config.corpus) else config.corpus
    return prepare_corpus(source, chord_mode=config.chord_mode, val_fraction=config.val_fraction,
                          seed=config.split_seed, max_pieces=config.max_pieces,
                          lead_line=config.lead_line, cache_dir=cache_dir, **options)
