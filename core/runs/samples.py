"""Generated samples saved under a run: samples/<id>/ with sample.json, piece.mid,
piece.musicxml, piece.wav, piece.svg and piece_notes.csv.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from core.data.encoding import part_stream
from core.data.timeline import quarter_length, trim
from core.runs.files import now_iso, write_json
from core.runs.history import ComparisonError
from core.sampling.decoding import Decoding


def read_sample(folder: Path | str) -> dict[str, Any]:
    """A generated sample's sample.json plus `folder`; ComparisonError when unreadable."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "sample.json").read_text())
    except (OSError, ValueError) as exc:
        raise ComparisonError(f"sample {folder.name} is unreadable: {exc}") from exc
    return {**data, "folder": str(folder)}


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
    sample_id: str
    folder: Path
    decoding: Decoding
    symbols: dict[str, dict[str, list[str]]]
    seed_quarters: dict[str, float]
    generation_seconds: float = 0.0  # choosing the symbols only, not rendering them
    methods: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    seed_mapped: int = 0  # seed symbols mapped to the nearest the run knows (core.data.nearest)


def save_sample(infos, symbols, decoding, seed, source, steps, render, timing) -> Sample:
    first = next(iter(infos.values()))
    end = min(quarter_length(infos[p].config, s) for p, s in symbols.items())
    symbols = {p: trim(infos[p].config, s, end) for p, s in symbols.items()}
    seed_quarters = {p: quarter_length(infos[p].config,
                                       {k: v[:infos[p].config.window] for k, v in s.items()})
                     for p, s in symbols.items()}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    sample_id = f"{stamp}-{decoding.label}-s{seed}"
    folder = first.path / "samples" / sample_id
    folder.mkdir(parents=True)
    sample = Sample(sample_id, folder, decoding, symbols, seed_quarters,
                    generation_seconds=timing["seconds"], methods=timing["methods"])
    render_error = ""
    if render:
        render_error = _render(infos, symbols, sample)
    write_json(folder / "sample.json", {
        "sample_id": sample_id, "created": now_iso(), "seed": seed, "seed_source": source,
        "steps": steps, "decoding": asdict(decoding),
        "runs": {p: i.run_id for p, i in infos.items()},
        "chord_modes": {p: i.config.chord_mode for p, i in infos.items()},
        "models": {p: i.config.model for p, i in infos.items()},
        "seed_quarters": seed_quarters, "symbols": symbols, "files": sample.files,
        "generation_seconds": timing["seconds"], "methods": timing["methods"],
        "render_error": render_error})
    return sample


def _render(infos, symbols, sample: Sample) -> str:
    """Score, MIDI, MusicXML, SVG and WAV of a sample; "" or why some could not be made.
    A missing synthesiser costs only the audio: the sample is still saved and listed."""
    from core.outputs.rendering import output_names, render_all
    from core.outputs.score import RenderError, combine_parts

    parts = {p: part_stream(infos[p].config, s) for p, s in symbols.items()}
    score = combine_parts(parts.get("lead") or parts["accompaniment"],
                          parts.get("accompaniment") if "lead" in parts else None)
    try:
        sample.files = {k: Path(v).name for k, v in render_all(score, sample.folder, "piece").items()}
        return ""
    except RenderError as exc:
        sample.files = {k: name for k, name in output_names("piece").items()
                        if (sample.folder / name).exists()}
        return str(exc)


def list_samples(run_dir: Path | str) -> list[dict[str, Any]]:
    """Earlier samples of a run, newest first (sample.json contents plus the folder)."""
    folder = Path(run_dir) / "samples"
    found = []
    for path in sorted(folder.glob("*/sample.json"), reverse=True) if folder.exists() else []:
        try:
            found.append({**json.loads(path.read_text()), "folder": str(path.parent)})
        except (OSError, ValueError):
            continue  # a half-written sample is left out, never fatal
    return found
