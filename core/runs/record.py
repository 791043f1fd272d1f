"""Run directories: the on-disk record of one training run, readable while it trains.

runs/<run_id>/
  config.json   every setting, corpus id/hash, held-out pieces, seed, library versions
  status.json   queued / running / finished / failed / cancelled (+ progress, error)
  history.csv   a row per finished epoch, appended and flushed as it ends
  vocab.json    the vocabularies, symbols in order of first appearance
  model.keras   the latest weights; best.keras the best held-out (or training) loss
  samples/      generated pieces

Every file is replaced atomically or appended line by line, so a crash or kill leaves every
finished epoch readable and never touches another run.
"""
from __future__ import annotations

import os
import platform
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.data.vocabulary import Vocabulary, load_vocabularies
from core.nets.config import TrainConfig
from core.runs.files import now_iso, read_json, write_json

CANCEL_FILE = "cancel"


class RunError(RuntimeError):
    """A run directory that cannot be used for what was asked (files missing or broken)."""


def new_run_id(config: TrainConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-m{config.model}-{config.part[:4]}-{config.cell}-{config.layers}x{config.units}-s{config.seed}"


def create_run(root: Path, config: TrainConfig, record: dict[str, Any]) -> Path:
    """A fresh directory with config.json; never reuses an existing one."""
    root.mkdir(parents=True, exist_ok=True)
    base = new_run_id(config)
    for n in range(1000):
        run_dir = root / (base if n == 0 else f"{base}-{n}")
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    else:
        raise RunError(f"could not create a run directory under {root}")
    write_json(run_dir / "config.json", {"run_id": run_dir.name, "created": now_iso(),
                                         "config": config.to_dict(), **record})
    write_status(run_dir, state="queued", queued_at=time.time())  # the queue's order
    return run_dir


def library_versions() -> dict[str, str]:
    import keras
    import music21
    import numpy
    import tensorflow as tf
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "music21": music21.__version__,
            "numpy": numpy.__version__, "pandas": pd.__version__}


def write_status(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into status.json (state changes keep the progress fields)."""
    path = run_dir / "status.json"
    status = read_json(path) if path.exists() else {}
    status.update(fields, updated=now_iso())
    if fields.get("state") == "running":
        status.update(pid=os.getpid(), host=socket.gethostname())
    write_json(path, status)
    return status


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(run_dir: Path) -> dict[str, Any]:
    """status.json, with a run whose process died while running reported as "killed"."""
    path = run_dir / "status.json"
    if not path.exists():
        return {"state": "broken", "error": "status.json is missing"}
    status = read_json(path)
    if (status.get("state") == "running" and status.get("host") == socket.gethostname()
            and not _process_alive(int(status.get("pid", 0)))):
        status.update(state="killed", error="the training process ended without a final status")
    return status


def request_cancel(run_dir: Path) -> None:
    """Ask a running (or queued) run to stop after its current batch; history is kept."""
    (run_dir / CANCEL_FILE).touch()


def cancel_requested(run_dir: Path) -> bool:
    return (run_dir / CANCEL_FILE).exists()


@dataclass
class RunInfo:
    """What a caller needs to use a finished (or partly finished) run."""

    path: Path
    config: TrainConfig
    record: dict[str, Any]
    vocabs: dict[str, Vocabulary]

    @property
    def run_id(self) -> str:
        return self.path.name

    def model_path(self, which: str = "best") -> Path:
        for name in ([f"{which}.keras", "model.keras"] if which == "best" else ["model.keras"]):
            if (self.path / name).exists():
                return self.path / name
        raise RunError(f"run {self.run_id} has no saved model (no finished epoch?)")

    def load_model(self, which: str = "best"):
        """Keras' native format with safe_mode on: no pickled code is ever executed."""
        import keras

        from core.nets import models  # noqa: F401  registers the custom layers

        return keras.saving.load_model(self.model_path(which), safe_mode=True)


def open_run(run_dir: Path | str) -> RunInfo:
    run_dir = Path(run_dir)
    try:
        record = read_json(run_dir / "config.json")
        config = TrainConfig.from_dict(record["config"])
        vocabs = load_vocabularies(run_dir / "vocab.json")
    except FileNotFoundError as exc:
        raise RunError(f"run {run_dir.name} is missing {Path(exc.filename).name}") from exc
    except (ValueError, KeyError) as exc:
        raise RunError(f"run {run_dir.name} has a broken config or vocabulary: {exc}") from exc
    return RunInfo(run_dir, config, record, vocabs)


def wait_for(run_dir: Path, states: tuple[str, ...] = ("finished", "failed", "cancelled",
                                                      "killed"), timeout: float = 600) -> dict:
    """Block until a run reaches one of `states` (used by the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(run_dir)
        if status.get("state") in states:
            return status
        time.sleep(0.5)
    raise TimeoutError(f"run {run_dir.name} still {read_status(run_dir).get('state')}")
