"""A generated piece saved as a sample under its first part's run: the parts cut to end
together, where each seed window ends (metrics leave the seed out), the rendered files
(core.rendering.piece) and sample.json last, in the hidden folder the run record publishes
whole (core.runs.samples.publishing). What sample.json holds is core.runs.samples's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from core.data.timeline import PartSymbols, quarter_length, trim
from core.files import folder_stamp, now_iso, write_json
from core.rendering.piece import output_names, piece_score, render_all
from core.rendering.score import RenderError
from core.runs.record import Run
from core.runs.samples import SAMPLE, SAMPLES, publishing
from core.sampling.decoding import Decoding


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
    one (they end together), where each seed window ends, the rendered files when `render`,
    and sample.json last, so a listed sample is complete."""
    first = next(iter(infos.values()))
    end = min(quarter_length(infos[p].config, s) for p, s in symbols.items())
    symbols = {p: trim(infos[p].config, s, end) for p, s in symbols.items()}
    seed_quarters = {p: quarter_length(infos[p].config,
                                       {k: v[:infos[p].config.window] for k, v in s.items()})
                     for p, s in symbols.items()}
    sample_id = f"{folder_stamp(fine=True)}-{decoding.label}-s{seed}"
    with publishing(first.path, sample_id, f"sample {sample_id} of run {first.run_id}") as folder:
        sample = Sample(sample_id, folder, decoding, symbols, seed_quarters,
                        generation_seconds=timing["seconds"], epochs=dict(timing["epochs"]))
        render_error = _render(infos, symbols, sample) if render else ""
        write_json(folder / SAMPLE, {
            "sample_id": sample_id, "created": now_iso(), "seed": seed,
            "seed_source": source, "steps": steps, "decoding": asdict(decoding),
            "runs": {p: i.run_id for p, i in infos.items()},
            "chord_modes": {p: i.config.chord_mode for p, i in infos.items()},
            "models": {p: i.config.model for p, i in infos.items()},
            "seed_quarters": seed_quarters, "symbols": symbols, "files": sample.files,
            "generation_seconds": timing["seconds"], "methods": timing["methods"],
            "epochs": sample.epochs, "render_error": render_error})
    sample.folder = first.path / SAMPLES / sample_id
    return sample


def _render(infos: Mapping[str, Run], symbols: Mapping[str, dict[str, list[str]]],
            sample: Sample) -> str:
    """Score, MIDI, MusicXML, SVG and WAV of a sample; "" or why some could not be made.
    A missing synthesiser costs only the audio: the sample is still saved and listed."""
    score = piece_score({p: PartSymbols(s, infos[p].config.model, infos[p].config.chord_mode)
                         for p, s in symbols.items()})
    try:
        rendered = render_all(score, sample.folder, "piece")
        sample.files = {k: Path(v).name for k, v in rendered.items()}
        return ""
    except RenderError as exc:
        sample.files = {k: name for k, name in output_names("piece").items()
                        if (sample.folder / name).exists()}
        return str(exc)
