"""Last stage of the data flow: generated parts -> score, MIDI, MusicXML, WAV, SVG, note table.

The thesis plays the separately generated lead and accompaniment together; this module puts
them into one score and writes every form the dashboard shows or offers for download. Audio
is FluidSynth's (through midi2audio) and engraving is Verovio's: nothing is synthesised or
drawn by hand. Plain Python, so scripts and tests use it without the dashboard.
"""
from __future__ import annotations

import copy
import math
import os
import re
import shutil
from importlib.resources import files
from pathlib import Path

import pandas as pd
import verovio
from midi2audio import FluidSynth
from music21 import instrument, meter, note, stream, tempo

LEAD = "Lead"
ACCOMPANIMENT = "Accompaniment"
BAR = 4.0  # quarter lengths in a 4/4 bar
SOUNDFONT_ENV = "MUSIC_SOUNDFONT"
SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
INSTALL_HINT = "install them with `apt-get install fluidsynth fluid-soundfont-gm`"
NOTE_COLUMNS = ("part", "start", "end", "pitch", "name")

verovio.enableLog(verovio.LOG_OFF)  # its warnings about MusicXML details would flood the log


class RenderError(RuntimeError):
    """An output could not be produced; the message says what to install or check."""


# --- score ---------------------------------------------------------------------------------


def _fresh_part(source: stream.Part, name: str, length: float) -> stream.Part:
    """A flat copy of a part's notes and rests, padded with a rest to `length`.

    Copies, so engraving (which splits and ties notes at barlines) never alters the caller's
    part; padding, so both staves end on the same bar and engrave as one system.
    """
    part = stream.Part(id=name)
    piano = instrument.Piano()  # the piano's own name would label later systems "Pno."
    piano.partName, piano.partAbbreviation = name, name[:4] + "."
    part.partName, part.partAbbreviation = name, piano.partAbbreviation
    part.insert(0, piano)
    part.insert(0, meter.TimeSignature("4/4"))
    flat = source.flatten()
    for element in flat.notesAndRests:
        part.insert(element.getOffsetBySite(flat), copy.deepcopy(element))
    end = part.highestTime
    if end < length:
        part.insert(end, note.Rest(quarterLength=length - end))
    return part


def combine_parts(lead: stream.Part, accompaniment: stream.Part | None,
                  tempo_bpm: float = 90) -> stream.Score:
    """One piano score of the two generated parts, both from offset 0, ready to engrave.

    The thesis generates the parts independently, so they are simply laid side by side; the
    tempo is the only timing they share.
    """
    sources = [(lead, LEAD)]
    if accompaniment is not None:
        sources.append((accompaniment, ACCOMPANIMENT))
    longest = max(float(p.flatten().highestTime) for p, _ in sources)
    length = max(BAR, math.ceil(longest / BAR) * BAR)
    score = stream.Score()
    for source, name in sources:
        score.insert(0, _fresh_part(source, name, length))
    score.parts[0].insert(0, tempo.MetronomeMark(number=tempo_bpm))
    return score.makeNotation()


# --- files ---------------------------------------------------------------------------------


def _write(score: stream.Score, fmt: str, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = score.write(fmt, fp=path)
    except Exception as exc:  # music21 raises many exception types for unwritable content
        raise RenderError(f"could not write {fmt} to {path}: {exc}") from exc
    return Path(written)


def write_midi(score: stream.Score, path: Path | str) -> Path:
    return _write(score, "midi", path)


def write_musicxml(score: stream.Score, path: Path | str) -> Path:
    return _write(score, "musicxml", path)


# --- audio ---------------------------------------------------------------------------------


def find_soundfont() -> Path:
    """The General MIDI sound font FluidSynth plays with; a set variable is never ignored."""
    configured = os.environ.get(SOUNDFONT_ENV)
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        raise RenderError(f"{SOUNDFONT_ENV} points to {path}, which is not a file; unset it "
                          f"to use the system sound font, or {INSTALL_HINT}")
    for candidate in SOUNDFONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in SOUNDFONT_CANDIDATES)
    raise RenderError(f"no sound font found (looked at ${SOUNDFONT_ENV} and {looked}); "
                      f"{INSTALL_HINT}")


def _check_soundfont(path: Path) -> Path:
    """FluidSynth renders silence, and exits 0, when the sound font is not one: refuse early."""
    try:
        with path.open("rb") as handle:
            header = handle.read(12)
    except OSError as exc:
        raise RenderError(f"cannot read the sound font {path}: {exc}; {INSTALL_HINT}") from exc
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise RenderError(f"{path} is not a SoundFont 2 file; {INSTALL_HINT}")
    return path


def render_wav(midi_path: Path | str, wav_path: Path | str, sample_rate: int = 22050,
               soundfont: Path | str | None = None) -> Path:
    """MIDI to WAV with FluidSynth's file renderer (no audio device, no interactive shell).

    midi2audio ignores FluidSynth's exit status, so success is judged by the file itself;
    an old file is removed first so it cannot pass for a new one.
    """
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    if shutil.which("fluidsynth") is None:
        raise RenderError(f"the fluidsynth program is not installed; {INSTALL_HINT}")
    if not midi_path.is_file():
        raise RenderError(f"no MIDI file at {midi_path}")
    font = _check_soundfont(Path(soundfont) if soundfont is not None else find_soundfont())
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    wav_path.unlink(missing_ok=True)
    FluidSynth(str(font), sample_rate).midi_to_audio(str(midi_path), str(wav_path))
    if not wav_path.is_file() or wav_path.stat().st_size <= 44:  # 44 bytes: a bare header
        raise RenderError(f"fluidsynth wrote no audio for {midi_path} (sound font {font})")
    return wav_path


# --- engraving -----------------------------------------------------------------------------


def _page_path(first: Path, page: int) -> Path:
    return first if page == 1 else first.with_name(f"{first.stem}-{page}{first.suffix}")


def _remove_stale_pages(first: Path, pages: int) -> None:
    """A shorter re-render must not leave pages of the previous score beside it."""
    pattern = re.compile(rf"{re.escape(first.stem)}-(\d+){re.escape(first.suffix)}")
    for candidate in first.parent.glob(f"{first.stem}-*{first.suffix}"):
        match = pattern.fullmatch(candidate.name)
        if match and int(match.group(1)) > pages:
            candidate.unlink()


def _toolkit() -> verovio.toolkit:
    """A Verovio toolkit that finds its fonts in any thread.

    verovio sets its default resource path (the fonts) at import, for the importing thread
    only; a toolkit made in another thread (Streamlit runs every page in a script thread)
    falls back to a build-time path, loads no font and reads no file. So the path is given
    to each toolkit explicitly.
    """
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(files("verovio") / "data"))
    return toolkit


def render_svg(musicxml_path: Path | str, svg_path: Path | str,
               page_width: int = 2100) -> list[Path]:
    """Engrave MusicXML with Verovio, one SVG per page (name.svg, name-2.svg, ...).

    Page height follows the content, so a short piece is one short image, not an A4 sheet.
    """
    musicxml_path, svg_path = Path(musicxml_path), Path(svg_path)
    toolkit = _toolkit()
    toolkit.setOptions({"pageWidth": page_width, "adjustPageHeight": True, "scale": 40,
                        "breaks": "auto", "footer": "none", "header": "none"})
    if not musicxml_path.is_file() or not toolkit.loadFile(str(musicxml_path)):
        raise RenderError(f"verovio could not read {musicxml_path}")
    count = toolkit.getPageCount()
    if count < 1:
        raise RenderError(f"verovio engraved no page from {musicxml_path}")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in range(1, count + 1):
        path = _page_path(svg_path, page)
        path.write_text(toolkit.renderToSVG(page), encoding="utf-8")
        paths.append(path)
    _remove_stale_pages(svg_path, count)
    return paths


# --- note table ----------------------------------------------------------------------------


def note_table(score: stream.Score) -> pd.DataFrame:
    """One row per sounding pitch, tied notes merged: what a piano roll or a metric reads.

    Ties are merged because engraving splits notes at barlines, which would otherwise show
    as repeated onsets that were never generated.
    """
    rows = []
    for index, part in enumerate(score.parts):
        name = part.partName or str(part.id) or f"part {index + 1}"
        flat = part.stripTies().flatten()
        for element in flat.notes:
            if element.quarterLength <= 0:
                continue  # grace notes take no time on a piano roll
            start = float(element.getOffsetBySite(flat))
            end = start + float(element.quarterLength)
            for pitch in sorted(getattr(element, "pitches", ()), key=lambda p: p.midi):
                rows.append((name, start, end, int(pitch.midi), pitch.nameWithOctave))
    table = pd.DataFrame(rows, columns=list(NOTE_COLUMNS))
    table = table.astype({"part": str, "start": float, "end": float, "pitch": int,
                          "name": str})
    return table.sort_values(["start", "part", "pitch"], kind="stable").reset_index(drop=True)


# --- everything ----------------------------------------------------------------------------


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
