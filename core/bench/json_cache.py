"""The prepared corpus as version 1's JSON cache wrote and read it, against today's .npz
cache: time in this process, memory of a fresh process that loads it (for comparison only;
the project never reads a JSON cache)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core.bench.figure import Figure
from core.bench.memory import measured
from core.data.corpus import Corpus


def _plain(part) -> dict | None:
    return None if part is None else {"steps": part.steps, "pitch": part.pitch,
                                      "duration": part.duration}


def save_json_corpus(corpus: Corpus, path: Path) -> None:
    """The corpus as version 1's JSON cache wrote it (for comparison only)."""
    pieces = [{"name": p.name, "source": p.source, "split": p.split, "lead": _plain(p.lead),
               "accompaniment": _plain(p.accompaniment)} for p in corpus.pieces]
    path.write_text(json.dumps({"corpus_id": corpus.corpus_id, "key": corpus.key,
                                "settings": corpus.settings, "pieces": pieces,
                                "report": [vars(r) for r in corpus.report]}))


def load_json_corpus(path: Path | str) -> Corpus:
    """Version 1's JSON cache read back, as its load_corpus did (for comparison only)."""
    from core.data.corpus import FileReport, PartData, Piece

    data = json.loads(Path(path).read_text())
    return Corpus(data["corpus_id"], data["key"], data["settings"],
                  [Piece(p["name"], p["source"], p["split"], PartData(**p["lead"]),
                         PartData(**p["accompaniment"]) if p["accompaniment"] else None)
                   for p in data["pieces"]], [FileReport(**r) for r in data["report"]])


def _timed(run, *args) -> float:
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def bench_cache_formats(corpus: Corpus, root: Path) -> list[Figure]:
    """The prepared corpus saved and loaded as the .npz cache and as version 1's JSON: time
    in this process, memory of a fresh process that loads it."""
    from core.data.cache import CorpusWriter, load_corpus
    from core.data.corpus import PARTS, EncodedPart

    npz, as_json = root / "formats.npz", root / "formats.json"

    def save_npz() -> None:
        writer = CorpusWriter()
        for piece in corpus.pieces:
            writer.add(piece.name, piece.source,
                       {part: EncodedPart.of_streams(_plain(piece.part(part)))
                        if piece.part(part) else None for part in PARTS})
        writer.save(npz, corpus.corpus_id, corpus.key, corpus.settings,
                    {p.name: p.split for p in corpus.pieces}, corpus.report)

    npz_save, json_save = _timed(save_npz), _timed(save_json_corpus, corpus, as_json)
    npz_load, json_load = _timed(load_corpus, npz), _timed(load_json_corpus, as_json)
    loader = "from pathlib import Path; from {} import {} as load; load(Path({!r}))"
    _, npz_mb = measured([sys.executable, "-c", loader.format("core.data.cache",
                                                                 "load_corpus", str(npz))])
    _, json_mb = measured([sys.executable, "-c", loader.format("core.bench.json_cache",
                                                                  "load_json_corpus",
                                                                  str(as_json))])
    mb = 2**20
    return [Figure("cache load, .npz (symbol ids)", npz_load, "s", "", json_load / npz_load),
            Figure("cache load, JSON (version 1)", json_load, "s"),
            Figure("cache save, .npz", npz_save, "s", "", json_save / npz_save),
            Figure("cache save, JSON (version 1)", json_save, "s"),
            Figure("cache size, .npz", npz.stat().st_size / mb, "MB", "",
                   as_json.stat().st_size / npz.stat().st_size),
            Figure("cache size, JSON (version 1)", as_json.stat().st_size / mb, "MB"),
            Figure("peak memory of a process loading the .npz cache", npz_mb, "MB", "",
                   json_mb / npz_mb),
            Figure("peak memory of a process loading the JSON cache", json_mb, "MB")]
