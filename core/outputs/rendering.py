"""Every output of one piece in one folder: MIDI, MusicXML, SVG, note table, WAV (last, as it
needs system packages that may be missing).
"""
from __future__ import annotations

from pathlib import Path

from music21 import stream

from core.data.notes import note_table
from core.outputs.audio import render_wav
from core.outputs.engraving import render_svg
from core.outputs.score import write_midi, write_musicxml


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
