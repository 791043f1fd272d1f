"""One generated piece as music: its parts' symbols as one piano score (`piece_score`, the
only place that knows the accompaniment stands in for a missing lead), and every output of
it in one folder (MIDI, MusicXML, SVG, note table, WAV last, as it needs system packages
that may be missing).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from music21 import stream

from core.data.corpus import ACCOMPANIMENT, LEAD
from core.data.encoding import decode_part
from core.data.notes import note_table
from core.data.timeline import PartSymbols
from core.rendering.audio import render_wav
from core.rendering.engraving import render_svg
from core.rendering.score import TEMPO_BPM, combine_parts, write_midi, write_musicxml


def piece_score(parts: Mapping[str, PartSymbols], tempo_bpm: float = TEMPO_BPM) -> stream.Score:
    """The generated parts as one piano score: the lead on the upper staff over the
    accompaniment, or the accompaniment alone when no lead was generated. Each part is
    decoded in its own model and chord mode (core.data.encoding.decode_part)."""
    music = {name: decode_part(p.symbols, p.model, p.chord_mode) for name, p in parts.items()}
    return combine_parts(music.get(LEAD) or music[ACCOMPANIMENT],
                         music.get(ACCOMPANIMENT) if LEAD in music else None, tempo_bpm)


def render_all(score: stream.Score, folder: Path | str, stem: str) -> dict[str, Path]:
    """Every output of one piece in one folder, the WAV last.

    The WAV needs system packages that may be missing; the other files are written first so
    a missing synthesiser costs only the audio, and the RenderError still says so.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = output_names(stem)
    paths = {"midi": write_midi(score, folder / names["midi"]),
             "musicxml": write_musicxml(score, folder / names["musicxml"])}
    paths["svg"] = render_svg(paths["musicxml"], folder / names["svg"])[0]
    paths["notes"] = folder / names["notes"]
    note_table(score).to_csv(paths["notes"], index=False)
    paths["wav"] = render_wav(paths["midi"], folder / names["wav"])
    return paths


def output_names(stem: str) -> dict[str, str]:
    """The file name of each output of `render_all`, by kind."""
    return {"midi": f"{stem}.mid", "musicxml": f"{stem}.musicxml", "svg": f"{stem}.svg",
            "notes": f"{stem}_notes.csv", "wav": f"{stem}.wav"}
