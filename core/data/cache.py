"""The prepared corpus on disk: one NumPy .npz file keyed by file contents and settings,
written atomically, with the per-file report beside it as CSV.

Every symbol is stored once in a table and each part's streams as int32 ids, one array per
stream for all pieces plus offsets: at 10,000 files this reads in a fraction of the time the
JSON cache of version 1 took and loads every symbol as one shared string. It stays a safe
format: arrays of numbers and text only, read with allow_pickle=False; the settings, piece
names and report ride along as JSON text. `CorpusWriter` collects the pieces as ids while the
files are read, so no parsed score and no piece's list of strings is held until the end.

A cache is only ever derived from its files, so a damaged one costs a prepare, never a
failed command: `load_corpus` checks what it reads (the archive, its arrays, the settings,
that the ids and offsets agree) and raises `DamagedCache` with one plain reason; the caller
(core.data.prepare) sets the file aside and prepares the corpus again, as MLflow's and Ray
Tune's stores rebuild or refuse a damaged artefact rather than crash on it. Both files are
written atomically (core.files), so a kill or a full disk leaves the previous version
or none, never half of one.
"""
from __future__ import annotations

import contextlib
import csv
import functools
import gc
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from core.data.corpus import (
    PARTS,
    STREAMS,
    Corpus,
    CorpusError,
    EncodedPart,
    FileReport,
    PartData,
    Piece,
)
from core.data.metre import Metre
from core.files import atomic_path, remove_orphan_temp_files, write_bytes

SUFFIX = ".npz"
DAMAGED = ".damaged"  # a damaged cache file set aside: <name>.npz.damaged
ZIP_MAGIC = b"PK\x03\x04"  # every .npz starts so (a zip archive of .npy files)


class DamagedCache(CorpusError):
    """A cache file that cannot be read back as the corpus it should hold; the message is
    one line naming the file and why."""


def files_key(files: list[Path], settings: dict[str, Any]) -> str:
    """The corpus's identity: its settings, and each file's path and contents."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        digest.update(path.as_posix().encode())  # the whole path: piece names include sub-folders
        digest.update(file_digest(path))
    return digest.hexdigest()


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes, hashed once per process for each version of the file (its
    inode, size, modification and change times): every training, generation, evaluation and
    listening test asks for its corpus, and each ask used to read every byte of every file
    again (10,000 MIDI files: the whole folder from the disk)."""
    found = Path(path).stat()
    return _digest(str(path), found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


@functools.lru_cache(maxsize=1 << 16)
def _digest(path: str, *version: int) -> bytes:
    return hashlib.sha256(Path(path).read_bytes()).digest()


def cache_path(cache_dir: Path | str, corpus_id: str, key: str) -> Path:
    return Path(cache_dir) / f"{corpus_id}-{key[:16]}{SUFFIX}"


def cached_corpora(cache_dir: Path | str) -> list[Path]:
    """Every prepared corpus in a cache folder (any corpus, any settings)."""
    folder = Path(cache_dir)
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")) \
        if folder.is_dir() else []  # hidden: a file being written (core.files)


def report_path(path: Path) -> Path:
    return path.with_suffix(".report.csv")


class CorpusWriter:
    """Kept pieces collected as symbol ids, in the order they are added."""

    def __init__(self) -> None:
        self.symbols: dict[str, int] = {}
        self.ids: dict[tuple[str, str], list[np.ndarray]] = {
            (p, s): [] for p in PARTS for s in STREAMS}
        self.offsets = {(p, s): [0] for p in PARTS for s in STREAMS}
        self.pieces: list[dict[str, Any]] = []

    def add(self, name: str, source: str, parts: dict[str, EncodedPart | None],
            metre: Metre | None = None) -> None:
        """One kept piece: its parts as ids into their own symbols (None for a missing part),
        renumbered into the corpus's one table of symbols, and its metre."""
        table, renumbered = self.symbols, {}
        for part in PARTS:
            encoded = parts[part] or EncodedPart.of_streams({s: [] for s in STREAMS})
            symbols = encoded.symbols
            if id(symbols) not in renumbered:  # parts encoded together share their symbols
                renumbered[id(symbols)] = np.array(
                    [table.setdefault(s, len(table)) for s in symbols], np.int32)
            renumber = renumbered[id(symbols)]
            for stream in STREAMS:
                ids = renumber[getattr(encoded, stream)]
                self.ids[part, stream].append(ids)
                self.offsets[part, stream].append(self.offsets[part, stream][-1] + len(ids))
        self.pieces.append({"name": name, "source": source,
                            "accompaniment": parts["accompaniment"] is not None,
                            "metre": (metre or Metre()).to_list()})

    def save(self, path: Path, corpus_id: str, key: str, settings: dict[str, Any],
             splits: dict[str, str], report: list[FileReport]) -> None:
        """The .npz beside its CSV report; written to a temporary name first so a kill leaves
        no half-written cache that a later prepare would trust."""
        meta = {"corpus_id": corpus_id, "key": key, "settings": settings,
                "pieces": [{**p, "split": splits[p["name"]]} for p in self.pieces],
                "report": [asdict(r) for r in report]}
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8),
                  "symbols": np.array(list(self.symbols) or [""], dtype=str)}
        for (part, stream), ids in self.ids.items():
            arrays[f"{part}.{stream}"] = np.concatenate(ids or [np.zeros(0, np.int32)])
            arrays[f"{part}.{stream}.offsets"] = np.asarray(self.offsets[part, stream], np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphan_temp_files(path.parent)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_bytes(path, buffer.getvalue(), f"the corpus cache {path}")
        write_report_csv(report, report_path(path))


def write_report_csv(report: Iterable[FileReport], path: Path) -> None:
    with atomic_path(path, f"the prepare report {path}") as temp, \
            temp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(FileReport)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in report)


def load_corpus(path: Path, key: str | None = None) -> Corpus:
    """A corpus saved by CorpusWriter; every occurrence of a symbol is one shared string.
    A file that is not such a corpus (or, given `key`, holds another one) is DamagedCache."""
    try:
        return _load(Path(path), key)
    except DamagedCache:
        raise
    except Exception as exc:  # noqa: BLE001  zipfile, zlib, numpy and json each raise their own
        raise DamagedCache(f"the corpus cache {path} is damaged ({_reason(exc)})") from exc


def _load(path: Path, key: str | None) -> Corpus:
    meta, streams = _read_checked(path, key)

    def part(name: str, i: int) -> PartData:
        return PartData(*(streams[name, s][0][streams[name, s][1][i]:
                                                streams[name, s][1][i + 1]].tolist()
                          for s in STREAMS))

    with _collector_paused():
        pieces = [Piece(p["name"], p["source"], p["split"], part("lead", i),
                        part("accompaniment", i) if p["accompaniment"] else None,
                        Metre.from_list(p.get("metre")))
                  for i, p in enumerate(meta["pieces"])]
    return Corpus(meta["corpus_id"], meta["key"], meta["settings"], pieces,
                  [FileReport(**r) for r in meta["report"]])


def _read_checked(path: Path, key: str | None) -> tuple[dict, dict]:
    """The settings and each stream's (symbols, offsets) of a cache file,
    each checked: an empty or foreign file, a cut or altered archive, a missing array, ids
    or offsets that disagree are refused here, so nothing downstream meets them."""
    with path.open("rb") as fh:
        start = fh.read(len(ZIP_MAGIC))
    if start != ZIP_MAGIC:
        what = "it is empty" if not start else "it is not a NumPy .npz archive"
        raise DamagedCache(f"the corpus cache {path} is damaged ({what})")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
        if key is not None and meta.get("key") != key:
            raise DamagedCache(f"the corpus cache {path} holds another corpus than its name "
                               "says")
        table = np.array(data["symbols"].tolist(), dtype=object)
        streams = {}
        for p in PARTS:
            for s in STREAMS:
                ids, offsets = data[f"{p}.{s}"], data[f"{p}.{s}.offsets"]
                _check_stream(path, f"{p}.{s}", ids, offsets, len(table), len(meta["pieces"]))
                streams[p, s] = (table[ids], offsets)
    return meta, streams


def _check_stream(path: Path, name: str, ids: np.ndarray, offsets: np.ndarray, symbols: int,
                  pieces: int) -> None:
    """One stream's ids point into the symbol table and its offsets cut it into `pieces`."""
    agree = (ids.dtype.kind in "iu" and offsets.dtype.kind in "iu"
             and ids.ndim == offsets.ndim == 1 and len(offsets) == pieces + 1
             and offsets[0] == 0 and offsets[-1] == len(ids)
             and bool(np.all(np.diff(offsets) >= 0))
             and (not len(ids) or (ids.min() >= 0 and ids.max() < symbols)))
    if not agree:
        raise DamagedCache(f"the corpus cache {path} is damaged (its {name} arrays do not "
                           "agree with its pieces)")


def _reason(exc: BaseException) -> str:
    """Why a cache file could not be read, in words (never numpy's advice on pickles)."""
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
        return "the archive is cut short or altered"
    if isinstance(exc, KeyError):
        return "an array it needs is missing: not a corpus this version prepares"
    if isinstance(exc, ValueError) and "pickle" in str(exc).lower():
        return "it holds Python objects, which this project never loads"
    if isinstance(exc, ValueError):  # json's and numpy's: the contents are not what was saved
        return "its contents are unreadable"
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"


def set_aside(path: Path) -> Path:
    """Move a damaged cache file (and its report) out of the cache's way: <name>.damaged
    beside it, replacing an earlier one of the same name; returns where it went."""
    aside = path.with_name(path.name + DAMAGED)
    try:
        path.replace(aside)
    except FileNotFoundError:  # another process set it aside first
        pass
    report_path(path).unlink(missing_ok=True)
    return aside


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while tens of thousands of symbol lists are built
    (none can hold a cycle): at 10,000 pieces it would otherwise run over and over and
    more than double the load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
