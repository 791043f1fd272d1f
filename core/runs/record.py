"""Run directories: the on-disk record of one training run, readable while it trains.

runs/<run_id>/
  config.json   every setting, corpus id/hash, held-out pieces, seed, library versions
  status.json   queued / running / finished / failed / cancelled / killed (+ progress, error)
  history.csv   a row per finished epoch, appended whole and fsynced as it ends
  vocab.json    the vocabularies, symbols in order of first appearance
  model.keras   the latest complete epoch (weights and optimizer: a run resumes from it);
                best.keras the best held-out (or training) loss
  samples/      generated pieces
  .lock         held while the status changes (compare-and-set, below)

Every file is replaced atomically (written to a temporary file, flushed, renamed into place)
or appended whole, and a new run appears complete, so a crash or kill leaves every
finished epoch readable and never touches another run. `Run` is the one way to read a run
directory: pages, tables, evidence, generation and the report all read through it.

Its state (status.json, the lock, cancelling) is core.runs.status's; a run's samples are
listed by core.runs.samples.
"""
from __future__ import annotations

import copy
import errno
import logging
import os
import platform
import shutil
import time
import zipfile
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.data.vocabulary import Vocabulary, load_vocabularies, save_vocabularies
from core.files import (
    TEMP_PREFIX,
    RunError,
    RunFileError,
    folder_stamp,
    fsync_path,
    now_iso,
    read_json,
    saving,
    write_json,
)
from core.nets.config import TrainConfig
from core.runs.history import history_frame, read_history_columns
from core.runs.status import STATUS, read_status

CONFIG, VOCAB = "config.json", "vocab.json"
MODEL, BEST = "model.keras", "best.keras"

log = logging.getLogger(__name__)  # notes (a fallback taken); the CLI prints them


def new_run_id(config: TrainConfig) -> str:
    return f"{folder_stamp()}-m{config.model}-{config.part[:4]}-{config.cell}-{config.layers}x{config.units}-s{config.seed}"


def create_run(root: Path, config: TrainConfig, record: dict[str, Any],
               vocabs: dict[str, Vocabulary]) -> Path:
    """A fresh run directory holding config.json, vocab.json and status.json ("queued"):
    written in a hidden folder and renamed into place complete, so neither the worker nor
    a listing ever sees half a run, and a full disk leaves nothing behind. Never reuses an
    existing directory."""
    root.mkdir(parents=True, exist_ok=True)
    base = new_run_id(config)
    temp = root / f"{TEMP_PREFIX}{base}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        with saving(f"the new run {base} in {root}"):
            temp.mkdir()
            write_json(temp / CONFIG, {"run_id": base, "created": now_iso(),
                                       "config": config.to_dict(), **record})
            save_vocabularies(vocabs, temp / VOCAB)
            fsync_path(temp / VOCAB)
            write_json(temp / STATUS, {"state": "queued", "queued_at": time.time(),
                                       "updated": now_iso()})  # queued_at: the queue's order
            return _publish_run(temp, root, base)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _publish_run(temp: Path, root: Path, base: str) -> Path:
    """Rename a complete new run into place under the first free name base, base-1, ...
    (a rename never replaces a run: run folders are never empty)."""
    for n in range(1000):
        run_dir = root / (base if n == 0 else f"{base}-{n}")
        if n:
            record = read_json(temp / CONFIG)
            write_json(temp / CONFIG, {**record, "run_id": run_dir.name})
        try:
            os.rename(temp, run_dir)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        fsync_path(root)
        return run_dir
    raise RunError(f"could not create a run directory under {root}")


def library_versions() -> dict[str, str]:
    import keras
    import music21
    import numpy
    import tensorflow as tf
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "music21": music21.__version__,
            "numpy": numpy.__version__, "pandas": pd.__version__}


class Run:
    """One run directory, each of its files read the first time it is asked for and then
    kept: a listing that needs the status, settings and history reads those three files
    once, generation that needs the settings and vocabularies reads those two.

    A Run is a snapshot of the files as first read; make a new one to see later epochs.
    Missing files raise RunError, files that exist but cannot be read RunFileError.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @cached_property
    def status(self) -> dict[str, Any]:
        """status.json (see `read_status`); state "broken" when it is missing."""
        return read_status(self.path)

    @cached_property
    def record(self) -> dict[str, Any]:
        """config.json: the settings, plus what was recorded when the run was queued (corpus,
        held-out pieces, vocabulary sizes, library versions) and when training began
        (parameters, window counts)."""
        record = self._json(CONFIG)
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            raise RunFileError(f"run {self.run_id}: {CONFIG} holds no settings")
        return record

    @cached_property
    def settings(self) -> dict[str, Any]:
        """Every TrainConfig field as recorded, not validated, for tables: a field the run
        was recorded without gets its default (the run used it), and a run that a later
        version's bounds would refuse is still listed as what it was."""
        recorded = self.record["config"]
        return {name: recorded.get(name, copy.copy(default))
                for name, default in _defaults().items()}

    @cached_property
    def config(self) -> TrainConfig:
        """The validated settings, as training and generation use them."""
        try:
            return TrainConfig.from_dict(self.record["config"])
        except (ValueError, TypeError) as exc:
            raise RunFileError(f"run {self.run_id} has a broken {CONFIG}: {exc}") from exc

    @cached_property
    def vocabs(self) -> dict[str, Vocabulary]:
        try:
            return load_vocabularies(self.path / VOCAB)
        except FileNotFoundError as exc:
            raise RunError(f"run {self.run_id} is missing {VOCAB}") from exc
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RunFileError(f"run {self.run_id} has a broken {VOCAB}: {exc}") from exc

    @cached_property
    def history_columns(self) -> dict[str, np.ndarray]:
        """history.csv as {column: values} (core.runs.history.read_history_columns)."""
        return read_history_columns(self.path)

    @cached_property
    def history(self) -> pd.DataFrame:
        """history.csv as a table, one row per finished epoch (core.runs.history)."""
        return history_frame(self.history_columns)

    @property
    def sweep(self) -> dict[str, Any]:
        """The sweep this run is a trial of, as config.json records it ({"id", "trial",
        "setting", ...}; core.sweeps), {} for a run of its own or an unreadable record."""
        try:
            entry = self.record.get("sweep")
        except RunError:
            return {}
        return entry if isinstance(entry, dict) else {}

    @property
    def held_out_pieces(self) -> list[str]:
        """The corpus pieces held out from training, as recorded when the run was queued."""
        corpus = self.record.get("corpus")
        return list(corpus.get("held_out") or []) if isinstance(corpus, dict) else []

    def add_to_record(self, **fields: Any) -> None:
        """Merge `fields` into config.json (what training learns once it starts)."""
        self.record.update(fields)
        write_json(self.path / CONFIG, self.record, f"{CONFIG} of run {self.run_id}")

    @property
    def has_model(self) -> bool:
        """Whether a finished epoch left weights to generate from."""
        return any((self.path / name).exists() for name in (BEST, MODEL))

    def load_model(self, which: str = "best"):
        """Keras' native format with safe_mode on: no pickled code is ever executed.

        A best.keras that cannot be loaded (emptied by a crash of an earlier version, or
        damaged) falls back to model.keras, the latest epoch, with a note in the log:
        the run still generates rather than refusing over its second file. Generation
        chooses the file by the run's committed epochs (core.runs.checkpoint.best_model)."""
        return self.load_model_file(*((BEST, MODEL) if which == "best" else (MODEL,)))[0]

    def load_model_file(self, *names: str) -> tuple[Any, str]:
        """The first of the run's model files `names` that loads, and its name; one that
        is not a Keras archive at all (random bytes, an emptied file) is said to be
        damaged rather than, as Keras puts it, not found."""
        import keras

        from core.nets import models  # noqa: F401  registers the custom layers

        failed: list[str] = []
        for name in names:
            path = self.path / name
            if not path.exists():
                continue
            try:
                if not zipfile.is_zipfile(path):
                    raise ValueError("damaged: " + ("empty" if not path.stat().st_size else
                                                    "not a Keras model archive"))
                model = keras.saving.load_model(path, safe_mode=True)
            except Exception as exc:  # keras raises many types for a damaged file
                failed.append(f"{name} ({_first_line(exc)})")
                continue
            if failed:
                log.warning("run %s: %s cannot be loaded; using %s instead", self.run_id,
                            failed[0], name)
            return model, name
        if failed:
            raise RunFileError(f"run {self.run_id}: {' and '.join(failed)} cannot be loaded")
        raise RunError(f"run {self.run_id} has no saved model (no finished epoch?)")

    def _json(self, name: str) -> Any:
        try:
            return read_json(self.path / name)
        except FileNotFoundError as exc:
            raise RunError(f"run {self.run_id} is missing {name}") from exc
        except (OSError, ValueError) as exc:
            raise RunFileError(f"run {self.run_id} has an unreadable {name}: {exc}") from exc


def _first_line(exc: BaseException) -> str:
    """An exception's first line, short: Keras' messages run to paragraphs."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]


@cache
def _defaults() -> dict[str, Any]:
    """TrainConfig's defaults, built once (a listing asks for them once per run)."""
    return TrainConfig().to_dict()


def open_run(run_dir: Path | str) -> Run:
    """A run that can generate: its settings and vocabularies are read now, so a missing or
    broken file is a RunError here rather than halfway through."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunError(f"{path} is a file, not a run folder: give a run's folder (runs/<run id>)"
                       if path.exists() else f"there is no run folder {path}")
    run = Run(path)
    run.config, run.vocabs  # noqa: B018  read (and cached) now
    return run
