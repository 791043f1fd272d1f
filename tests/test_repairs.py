"""Derived files the project can rebuild, found damaged: a corpus cache cut short, emptied,
of random bytes, of another format or holding pickled objects is said in one line (which
file, why), set aside and prepared again from its files, by `prepare`, `generate` and the
dashboard alike; nothing else is touched."""
from __future__ import annotations

import io
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.data.cache import DAMAGED, DamagedCache, cached_corpora, load_corpus
from core.data.prepare import prepare_corpus
from tests.apptest import click, open_page
from tests.fixtures import HIGH, LOW, melody, write_score


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def out_of_range(good: bytes) -> bytes:
    """The cache with one symbol id past the end of its table (an altered file whose
    archive is whole)."""
    with np.load(io.BytesIO(good), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["lead.steps"] = arrays["lead.steps"] + len(arrays["symbols"])
    return npz(**arrays)


DAMAGES = {  # what a crash, a full disk or a stray file can leave, and the reason said
    "cut short": (lambda good: good[: len(good) // 2], "the archive is cut short or altered"),
    "emptied": (lambda good: b"", "it is empty"),
    "random bytes": (lambda good: bytes(range(256)) * 8, "it is not a NumPy .npz archive"),
    "foreign archive": (lambda good: npz(weights=np.arange(4)),
                        "an array it needs is missing"),
    "pickled objects": (lambda good: npz(meta=np.array([{"x": 1}], dtype=object)),
                        "it holds Python objects, which this project never loads"),
    "ids out of range": (out_of_range, "its lead.steps arrays do not agree with its pieces"),
}


@pytest.fixture
def songs(tmp_path) -> Path:
    folder = tmp_path / "songs"
    write_score(folder / "a.mid", [("Keys", melody(LOW)), ("Lead", melody(HIGH))])
    write_score(folder / "b.mid", [("Keys", melody(HIGH[:4]))])
    return folder


def damage(cache: Path, how: str) -> Path:
    (path,) = cached_corpora(cache)
    path.write_bytes(DAMAGES[how][0](path.read_bytes()))
    return path


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_cache_is_said_set_aside_and_prepared_again(songs, tmp_path, caplog, how):
    cache = tmp_path / "cache"
    first = prepare_corpus(songs, cache_dir=cache, workers=1)
    path = damage(cache, how)
    with pytest.raises(DamagedCache) as refused:
        load_corpus(path)
    assert str(refused.value) == f"the corpus cache {path} is damaged ({DAMAGES[how][1]}" \
                                 + (")" if how != "foreign archive" else
                                    ": not a corpus this version prepares)")
    damaged_bytes = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="core"):
        again = prepare_corpus(songs, cache_dir=cache, workers=1)
    assert again == first and load_corpus(path) == first  # rebuilt in place, whole
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == f"{refused.value}: set aside as {path.name}{DAMAGED}; preparing the " \
                   "corpus again from its files"
    assert (cache / f"{path.name}{DAMAGED}").read_bytes() == damaged_bytes  # kept, aside
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [path.name, f"{path.name}{DAMAGED}", path.with_suffix(".report.csv").name])


def test_a_cache_holding_another_corpus_than_its_name_is_refused(songs, tmp_path):
    cache = tmp_path / "cache"
    prepare_corpus(songs, cache_dir=cache, workers=1)
    (path,) = cached_corpora(cache)
    other = path.with_name("songs-0123456789abcdef.npz")
    shutil.copy(path, other)
    with pytest.raises(DamagedCache, match="holds another corpus than its name says"):
        load_corpus(other, "0123456789abcdef" + "0" * 48)


def test_a_cache_write_killed_halfway_leaves_nothing_a_later_prepare_keeps(songs, tmp_path):
    """A kill -9 while the cache is written leaves only a hidden temporary file (written,
    then renamed into place): never listed as a corpus, and deleted by the next prepare
    that writes there; a live writer's temporary file is left alone."""
    import subprocess

    cache = tmp_path / "cache"
    cache.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    orphan = cache / f".tmp-songs-0123-{gone.pid}-abcdef.npz"
    live = cache / f".tmp-songs-4567-{os.getpid()}-abcdef.npz"
    for temp in (orphan, live):
        temp.write_bytes(b"PK\x03\x04 half a cache")
    assert cached_corpora(cache) == []
    prepare_corpus(songs, cache_dir=cache, workers=1)
    assert not orphan.exists() and live.exists() and len(cached_corpora(cache)) == 1


def test_prepare_and_generate_on_the_command_line_rebuild_a_damaged_cache(
        run_bank, tmp_path, capsys):
    """The issue's three commands: `prepare` and `train` ended in a traceback, `generate` in
    numpy's advice to load pickles; now each says one note and carries on."""
    run = run_bank.copy(tmp_path / "runs", "lead_lstm")
    cache = shutil.copytree(run_bank.cache, tmp_path / "cache")
    path = next(p for p in cached_corpora(cache) if p.name.startswith("bach-chorales"))
    path.write_bytes(DAMAGES["random bytes"][0](b""))
    assert main(["generate", "--lead", str(run), "--steps", "4", "--cache", str(cache)]) == 0
    err = capsys.readouterr().err
    assert f"note: the corpus cache {path} is damaged (it is not a NumPy .npz archive)" in err
    assert "pickle" not in err and "Traceback" not in err
    path.write_bytes(b"")
    assert main(["prepare", "--max-pieces", "6", "--cache", str(cache)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"note: the corpus cache {path} is damaged (it is empty)")
    assert "bach-chorales: 6 kept" in out and load_corpus(path).corpus_id == "bach-chorales"


def test_the_corpus_page_prepares_again_over_a_damaged_cache(app_env, songs, tmp_path):
    cache = app_env.use_cache(tmp_path / "page-cache")
    prepare_corpus(songs, cache_dir=cache, workers=1)
    path = damage(cache, "cut short")
    at = open_page("corpus", corpus_source=str(songs), corpus_source_kind="previous")
    click(at, "corpus_prepare")
    assert not at.exception and not at.error
    assert load_corpus(path).key and (cache / f"{path.name}{DAMAGED}").exists()


# --------------------------------------------------------------------------- other derived files

@pytest.mark.parametrize("content", [b"", b"\x00\xff{", b"[1, 2]", b'{"corpus": 3}'])
def test_a_damaged_corpus_choice_starts_on_the_chorales_and_is_written_again(app_env, content):
    """uploads/.corpus-choice.json, the corpus a new session starts on."""
    choice = app_env.uploads / ".corpus-choice.json"
    choice.parent.mkdir(parents=True)
    choice.write_bytes(content)
    at = open_page("app")
    assert not at.exception and "corpus_source" not in at.session_state
    click(open_page("corpus", corpus_max_pieces=6), "corpus_prepare")
    assert json.loads(choice.read_text())["corpus"] == "bach-chorales"


def test_a_damaged_evaluation_is_left_out_so_it_is_made_again(tmp_path):
    """An evaluation folder whose settings.json does not read counts as none: the Compare
    page's "evaluate the runs that have no evaluation yet" and the report redo it."""
    import pandas as pd

    from core.evidence.evaluation import list_evaluations, write_evaluation

    run = tmp_path / "run"
    kept, damaged = (run / "evaluation" / name for name in ("20260101-1", "20260102-1"))
    for folder in (kept, damaged):
        write_evaluation(folder, {"n_pieces": 1}, comparison=pd.DataFrame({"metric": ["x"]}))
    (damaged / "settings.json").write_bytes(b'{"n_pieces": 1')  # cut short
    assert list_evaluations(run) == [kept]
    assert not [p for p in kept.iterdir() if p.name.startswith(".")]  # written atomically


def test_a_damaged_sweep_progress_reads_as_not_started_and_is_written_again(tmp_path):
    from core.sweeps.progress import read_progress, sweep_progress, write_progress

    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "progress.json").write_bytes(b"\x00\x01 not json")
    assert read_progress(sweep) == {} and sweep_progress(sweep, tmp_path).driver == \
        "not started"
    write_progress(sweep, state="finished")
    assert read_progress(sweep)["state"] == "finished"
