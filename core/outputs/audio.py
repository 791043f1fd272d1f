"""Audio: MIDI to WAV with FluidSynth's file renderer and a General MIDI sound font; nothing
is synthesised by hand.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from midi2audio import FluidSynth

from core.outputs.score import RenderError

SOUNDFONT_ENV = "MUSIC_SOUNDFONT"
SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
INSTALL_HINT = "install them with `apt-get install fluidsynth fluid-soundfont-gm`"


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
