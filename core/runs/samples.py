"""The sample record: each generated piece saved under its run as samples/<id>/ with
sample.json (decoding, seed, symbols, timings, file names), piece.mid, piece.musicxml,
piece.wav, piece.svg and piece_notes.csv.

Generation writes it (core.sampling.saving) into the folder `publishing` gives; pages,
evidence and the report read it only through `list_samples` (a run's samples),
`read_sample` (one folder) and `sample_file` (the path of one of its files, None when it
was not written).

A sample is written in a hidden folder (samples/.tmp-<id>) and renamed to samples/<id> once
every file and sample.json are on the disk: a crash or a full disk never leaves a listed
sample with a 0-byte MIDI or a truncated WAV.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from core.files import TEMP_PREFIX, RunFileError, fsync_path, read_json, saving

SAMPLES, SAMPLE = "samples", "sample.json"


def read_sample(folder: Path | str) -> dict[str, Any]:
    """A generated sample's sample.json plus `folder`; RunFileError when unreadable."""
    folder = Path(folder)
    try:
        data = read_json(folder / SAMPLE)
    except (OSError, ValueError) as exc:
        raise RunFileError(f"sample {folder.name} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise RunFileError(f"sample {folder.name}: {SAMPLE} holds no sample")
    return {**data, "folder": str(folder)}


def list_samples(run_dir: Path | str) -> list[dict[str, Any]]:
    """A run's samples, newest first (`read_sample` of each); one being written or broken
    is left out, never fatal."""
    folder = Path(run_dir) / SAMPLES
    found = []
    for path in sorted(folder.glob(f"[!.]*/{SAMPLE}"), reverse=True) if folder.is_dir() else []:
        try:
            found.append(read_sample(path.parent))
        except RunFileError:
            continue
    return found


def sample_file(sample: Mapping[str, Any], kind: str) -> Path | None:
    """The path of one of a sample's files ('midi', 'musicxml', 'wav', 'svg', 'notes'),
    None when it was not written (e.g. no synthesiser for the WAV)."""
    name = (sample.get("files") or {}).get(kind)
    if not name:
        return None
    path = Path(sample["folder"]) / name
    return path if path.is_file() else None


@contextmanager
def publishing(run_dir: Path, sample_id: str, what: str) -> Iterator[Path]:
    """A hidden folder to write a new sample into (samples/.tmp-<id>): when the block ends,
    every file in it is flushed and it is renamed to samples/<id>, into the listing whole;
    on any error (a full disk: a WriteError naming `what`) it is removed."""
    final = Path(run_dir) / SAMPLES / sample_id
    folder = final.with_name(f"{TEMP_PREFIX}{sample_id}")
    try:
        with saving(what):
            folder.mkdir(parents=True)
            yield folder
            for path in folder.iterdir():
                fsync_path(path)
            folder.rename(final)
            fsync_path(final.parent)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def sample_pages(sample: Mapping[str, Any]) -> list[Path]:
    """Every engraved page of a sample (piece.svg, piece-2.svg, ... as
    core.rendering.engraving.render_svg names them), in order; [] without a score."""
    first = sample_file(sample, "svg")
    if first is None:
        return []
    pages = [first]
    while (page := first.with_name(f"{first.stem}-{len(pages) + 1}{first.suffix}")).is_file():
        pages.append(page)
    return pages


def sample_ref(folder: Path | str) -> str:
    """'<run id>/<sample id>': a sample named by its run, as a page's address keeps it."""
    folder = Path(folder)
    return f"{folder.parent.parent.name}/{folder.name}"


def find_sample(ref: str, runs_root: Path | str) -> Path | None:
    """The folder of the sample `sample_ref` named, None unless it is a listed sample. A ref
    comes from an address bar, so it is never trusted as a path: two plain names, neither
    hidden nor '..'."""
    names = str(ref).split("/")
    if len(names) != 2 or any(not n or n.startswith(".") or "\\" in n for n in names):
        return None
    folder = Path(runs_root) / names[0] / SAMPLES / names[1]
    return folder if (folder / SAMPLE).is_file() else None
