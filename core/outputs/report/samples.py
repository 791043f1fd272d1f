"""The report's samples: the latest of each run (or the ones named), each copied with its
score pages, audio, MIDI and MusicXML under report_files/, and shown as a card that links
them relatively, so the folder still works zipped or moved.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from core.outputs.report.html import esc, href, note
from core.runs.record import RunError
from core.runs.samples import list_samples, sample_file, sample_pages
from core.sampling.decoding import Decoding

FILES_DIR = "report_files"
SAMPLE_KINDS = ("svg", "wav", "midi", "musicxml")


def pick_samples(run_dirs: Sequence[Path], per_run: int = 2,
                 sample_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The latest `per_run` samples of each run (core.runs.samples.list_samples), or exactly
    the samples named in `sample_ids` (in that order) when given."""
    found = {s["sample_id"]: s for d in run_dirs for s in list_samples(d) if "sample_id" in s}
    if sample_ids is not None:
        missing = [s for s in sample_ids if s not in found]
        if missing:
            raise RunError(f"no sample {missing[0]!r} under the selected runs")
        return [found[s] for s in dict.fromkeys(sample_ids)]
    return [s for d in run_dirs for s in list_samples(d)[:max(per_run, 0)]]


def copy_sample(sample: Mapping[str, Any], files_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Copy a sample's score pages, audio, MIDI and MusicXML under `files_dir`; returns
    {kind: path relative to out_dir}, the SVG as a list of pages (name.svg, name-2.svg, ...)."""
    folder = Path(sample["folder"])
    target = files_dir / folder.parent.parent.name / folder.name
    target.mkdir(parents=True, exist_ok=True)
    copied: dict[str, Any] = {}
    for kind in SAMPLE_KINDS:
        source = sample_file(sample, kind)
        if source is None:
            continue
        sources = sample_pages(sample) if kind == "svg" else [source]
        paths = []
        for path in sources:
            shutil.copy2(path, target / path.name)
            paths.append((target / path.name).relative_to(out_dir).as_posix())
        copied[kind] = paths if kind == "svg" else paths[0]
    return copied


def sample_card(number: int, sample: Mapping[str, Any], copied: Mapping[str, Any],
                labels: Mapping[str, str]) -> str:
    runs = ", ".join(f"{part}: {labels.get(run_id, run_id)}"
                     for part, run_id in (sample.get("runs") or {}).items())
    caption = (f"S{number}: {Decoding.from_dict(sample.get('decoding')).title}, "
               f"{sample.get('steps')} steps, "
               f"seeded from {sample.get('seed_source')} (seed {sample.get('seed')})")
    score = "".join(f'<img class="score" src="{href(p)}" alt="score page {i} of S{number}">'
                    for i, p in enumerate(copied.get("svg", []), 1)) \
        or note("No engraved score was written for this sample.")
    audio = (f'<audio controls preload="none" src="{href(copied["wav"])}"></audio>'
             if "wav" in copied else note("No audio (no synthesiser when it was made)."))
    links = " · ".join(f'<a href="{href(copied[k])}">{esc(name)}</a>'
                       for k, name in (("wav", "WAV"), ("midi", "MIDI"),
                                       ("musicxml", "MusicXML")) if k in copied)
    return (f'<figure class="sample"><figcaption><b>{esc(caption)}</b><br>'
            f'<span class="runs">{esc(runs)} · {esc(sample.get("sample_id"))}</span>'
            f"</figcaption>{score}<div class=\"listen\">{audio}"
            f'<span class="links">{links}</span></div></figure>')


def samples_section(samples: Sequence[Mapping[str, Any]], out_dir: Path,
                    labels: Mapping[str, str]) -> str:
    if not samples:
        return note("The selected runs have no generated samples (Listen page or "
                     "python -m core generate).")
    files_dir = out_dir / FILES_DIR
    return "".join(sample_card(n, s, copy_sample(s, files_dir, out_dir), labels)
                   for n, s in enumerate(samples, 1))

