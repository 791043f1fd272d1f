"""Prepared corpora kept in memory, the most recently used last: the dashboard asks for the
selected corpus on every rerun of its pages, and every session sees what one of them
prepared (a corpus is read-only once prepared; treat it so).

A corpus is kept under its settings, the cache folder and its folder's files (each file's
path, modification time and size, the roles file's too), so a changed file or a changed
role prepares again. Reading it back from the disk cache takes a fraction of a second for
the chorales; from here it takes nothing.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Callable

from core.data.corpus import DEFAULT_CORPUS, Corpus, is_default_corpus
from core.data.prepare import CorpusSettings, Progress, corpus_for

KEPT = 4  # corpora held in memory: the selected one and a few the pages went back to
_kept: OrderedDict[tuple, Corpus] = OrderedDict()


def folder_signature(source: str) -> tuple:
    """(path, modification time, size) of every file of a corpus folder; () for the
    bundled chorales, ("missing",) for a folder that is not there."""
    if is_default_corpus(source):
        return ()
    folder = Path(source)
    if not folder.is_dir():
        return ("missing",)
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in folder.rglob("*") if p.is_file()))


def recent_corpus(settings: CorpusSettings, cache_dir: Path | str,
                  progress: Callable[[Progress], None] | None = None) -> Corpus:
    """core.data.prepare.corpus_for, kept in memory (see the module); `progress` hears
    every file read when the corpus has to be prepared. Raises CorpusError as it does."""
    source = DEFAULT_CORPUS if is_default_corpus(settings.corpus) else str(settings.corpus)
    key = (source, settings.chord_mode, settings.lead_line, settings.max_pieces,
           settings.val_fraction, settings.split_seed, str(cache_dir),
           folder_signature(source))
    corpus = _kept.pop(key, None) or corpus_for(settings, cache_dir, progress=progress)
    _kept[key] = corpus
    while len(_kept) > KEPT:
        _kept.popitem(last=False)
    return corpus
