"""Audio: MIDI to WAV with FluidSynth's file renderer and a General MIDI sound font; nothing
is synthesised by hand. Every WAV is then peak-normalised to PEAK_DBFS, since FluidSynth's
default gain leaves a piano piece far too quiet to play to a room.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from midi2audio import FluidSynth

from core.rendering.score import RenderError

SOUNDFONT_ENV = "MUSIC_SOUNDFONT"
SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
INSTALL_HINT = "install them with `apt-get install fluidsynth fluid-soundfont-gm`"
PEAK_DBFS = -1.0  # a normalised WAV's loudest sample, in dB below full scale


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


_SILENCING = threading.Lock()  # file descriptors 1 and 2 are the process's, not a thread's


@contextmanager
def _child_output_silenced() -> Iterator[None]:
    """midi2audio starts FluidSynth with this process's stdout and stderr, where it prints
    its banner and "Rendering audio…" into the CLI's output; the child gets /dev/null instead
    (its errors are judged by the file it writes)."""
    with _SILENCING, open(os.devnull, "wb") as null:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)


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
    with _child_output_silenced():
        FluidSynth(str(font), sample_rate).midi_to_audio(str(midi_path), str(wav_path))
    if not wav_path.is_file() or wav_path.stat().st_size <= 44:  # 44 bytes: a bare header
        raise RenderError(f"fluidsynth wrote no audio for {midi_path} (sound font {font})")
    normalise_peak(wav_path)
    return wav_path


def peak_dbfs(samples: np.ndarray) -> float:
    """The loudest sample in dB relative to full scale (-inf for silence); integer PCM is
    read against its type's largest value, float PCM against 1."""
    full = np.iinfo(samples.dtype).max if samples.dtype.kind == "i" else 1.0
    peak = float(np.abs(samples.astype(np.float64)).max(initial=0.0)) / full
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def normalise_peak(wav_path: Path | str, target_dbfs: float = PEAK_DBFS) -> tuple[float, float]:
    """Scale a WAV so its loudest sample sits at `target_dbfs`, in place, keeping its sample
    rate and sample type; silence stays silent. Returns the peak before and after (dBFS)."""
    from scipy.io import wavfile

    rate, samples = wavfile.read(wav_path)
    before = peak_dbfs(samples)
    if not np.isfinite(before):
        return before, before
    gain = 10 ** ((target_dbfs - before) / 20)
    scaled = samples.astype(np.float64) * gain
    if samples.dtype.kind == "i":
        info = np.iinfo(samples.dtype)
        scaled = np.clip(np.rint(scaled), info.min, info.max)
    scaled = scaled.astype(samples.dtype)
    wavfile.write(wav_path, rate, scaled)
    return before, peak_dbfs(scaled)


def match_lengths(*wav_paths: Path | str) -> int:
    """Pad each WAV with silence to the longest one's length, in place, so files played
    side by side cannot be told apart by their duration; returns that length in samples.
    The WAVs must share sample rate and type (FluidSynth renders them alike)."""
    from scipy.io import wavfile

    read = [wavfile.read(p) for p in wav_paths]
    longest = max(len(samples) for _, samples in read)
    for path, (rate, samples) in zip(wav_paths, read):
        if len(samples) < longest:
            pad = [(0, longest - len(samples))] + [(0, 0)] * (samples.ndim - 1)
            wavfile.write(path, rate, np.pad(samples, pad))
    return longest
