"""The sample record: each generated piece saved under its run as samples/<id>/ with
sample.json (decoding, seed, symbols, timings, file names), piece.mid, piece.musicxml,
piece.wav, piece.svg and piece_notes.csv.

Generation writes it (`save_sample`); pages, evidence and the report read it only through
`list_samples` (a run's samples), `read_sample` (one folder) and `sample_file` (the path of
one of its files, None when it was not written).

A sample is written in a hidden folder (samples/.tmp-<id>) and renamed to samples/<id> once
every file and sample.json are on the disk: a crash or a full disk never leaves a listed
sample with a 0-byte MIDI or a truncated WAV.
"""
from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from core.data.encoding import decode_part
from core.data.timeline import quarter_length, trim
from core.files import (
    TEMP_PREFIX,
    RunFileError,
    folder_stamp,
    fsync_path,
    now_iso,
    read_json,
    saving,
    write_json,
)
from core.sampling.decoding import Decoding

if TYPE_CHECKING:
    from core.runs.record import Run  # record reads samples through this module

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


@dataclass
class Sample:
    """A sample just saved: what `generate` returns to its caller."""

    sample_id: str
    folder: Path
    decoding: Decoding
    symbols: dict[str, dict[str, list[str]]]
    seed_quarters: dict[str, float]
    generation_seconds: float = 0.0  # choosing the symbols only, not rendering them
    files: dict[str, str] = field(default_factory=dict)
    seed_mapped: int = 0  # seed symbols mapped to the nearest the run knows (core.data.nearest)
    epochs: dict[str, int] = field(default_factory=dict)  # each part's model: its epoch


def save_sample(infos: Mapping[str, Run], symbols: Mapping[str, dict[str, list[str]]],
                decoding: Decoding, seed: int, source: str, steps: int, render: bool,
                timing: Mapping[str, Any]) -> Sample:
    """Save one generated piece under the first part's run: the parts cut to the shorter
    one (they end together), where each seed window ends (metrics leave the seed out), the
    rendered files when `render`, and sample.json last, so a listed sample is complete."""
    first = next(iter(infos.values()))
    end = min(quarter_length(infos[p].config, s) for p, s in symbols.items())
    symbols = {p: trim(infos[p].config, s, end) for p, s in symbols.items()}
    seed_quarters = {p: quarter_length(infos[p].config,
                                       {k: v[:infos[p].config.window] for k, v in s.items()})
                     for p, s in symbols.items()}
    sample_id = f"{folder_stamp(fine=True)}-{decoding.label}-s{seed}"
    final = first.path / SAMPLES / sample_id
    folder = final.with_name(f"{TEMP_PREFIX}{sample_id}")
    sample = Sample(sample_id, folder, decoding, symbols, seed_quarters,
                    generation_seconds=timing["seconds"], epochs=dict(timing["epochs"]))
    try:
        with saving(f"sample {sample_id} of run {first.run_id}"):
            folder.mkdir(parents=True)
            render_error = _render(infos, symbols, sample) if render else ""
            write_json(folder / SAMPLE, {
                "sample_id": sample_id, "created": now_iso(), "seed": seed,
                "seed_source": source, "steps": steps, "decoding": asdict(decoding),
                "runs": {p: i.run_id for p, i in infos.items()},
                "chord_modes": {p: i.config.chord_mode for p, i in infos.items()},
                "models": {p: i.config.model for p, i in infos.items()},
                "seed_quarters": seed_quarters, "symbols": symbols, "files": sample.files,
                "generation_seconds": timing["seconds"], "methods": timing["methods"],
                "epochs": sample.epochs,
                "render_error": render_error})
            _publish(folder, final)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    sample.folder = final
    return sample


def _publish(folder: Path, final: Path) -> None:
    """Flush every file of a finished sample folder, then rename it into the listing."""
    for path in folder.iterdir():
        fsync_path(path)
    folder.rename(final)
    fsync_path(final.parent)


def _render(infos: Mapping[str, Run], symbols: Mapping[str, dict[str, list[str]]],
            sample: Sample) -> str:
    """Score, MIDI, MusicXML, SVG and WAV of a sample; "" or why some could not be made.
    A missing synthesiser costs only the audio: the sample is still saved and listed."""
    from core.outputs.rendering import output_names, render_all
    from core.outputs.score import RenderError, combine_parts

    parts = {p: decode_part(s, infos[p].config.model, infos[p].config.chord_mode)
             for p, s in symbols.items()}
    score = combine_parts(parts.get("lead") or parts["accompaniment"],
                          parts.get("accompaniment") if "lead" in parts else None)
    try:
        sample.files = {k: Path(v).name for k, v in render_all(score, sample.folder, "piece").items()}
        return ""
    except RenderError as exc:
        sample.files = {k: name for k, name in output_names("piece").items()
                        if (sample.folder / name).exists()}
        return str(exc)


def sample_pages(sample: Mapping[str, Any]) -> list[Path]:
    """Every engraved page of a sample (piece.svg, piece-2.svg, ... as
    core.outputs.engraving.render_svg names them), in order; [] without a score."""
    first = sample_file(sample, "svg")
    if first is None:
        return []
    pages = [first]
    while (page := first.with_name(f"{first.stem}-{len(pages) + 1}{first.suffix}")).is_file():
        pages.append(page)
    return pages
