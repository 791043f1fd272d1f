"""Corpora: read pieces, split each into lead and accompaniment, encode, hold out, cache.

The default corpus is the Bach chorales that ship inside music21 (soprano = lead, the lower
voices merged into chords = accompaniment), so the tool works offline with no download. Any
folder of MIDI / MusicXML / ABC files is read the thesis's way: drums dropped, pieces with one
or two instruments kept, lead = the higher-sounding part unless a part's name says otherwise.
Every file gets a line in the report: kept, or skipped with the reason.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from music21 import converter, corpus as m21corpus, instrument, note, stream

from .encoding import CHORD_MODES, encode_events, encode_steps

DEFAULT_CORPUS = "bach-chorales"
ENCODING_VERSION = 1
SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")
LEAD_WORDS = ("lead", "melody", "melodia", "soprano", "vocal", "voice", "voz", "solo")
CHORALE_VOICES = ("soprano", "alto", "tenor", "bass")  # instrumental doublings are left out


class CorpusError(ValueError):
    """The corpus as a whole cannot be used (no readable piece, unknown setting)."""


@dataclass
class PartData:
    """One part's encodings: Model 1's steps, Model 2's pitch and duration streams."""

    steps: list[str]
    pitch: list[str]
    duration: list[str]

    def stream(self, name: str) -> list[str]:
        return getattr(self, name)


@dataclass
class Piece:
    name: str
    source: str
    split: str
    lead: PartData
    accompaniment: PartData | None

    def part(self, name: str) -> PartData | None:
        return self.lead if name == "lead" else self.accompaniment


@dataclass
class FileReport:
    file: str
    status: str
    reason: str


@dataclass
class Corpus:
    corpus_id: str
    key: str
    settings: dict[str, Any]
    pieces: list[Piece]
    report: list[FileReport] = field(default_factory=list)

    def split(self, split: str) -> list[Piece]:
        return [p for p in self.pieces if p.split == split]

    def sequences(self, part: str, stream_name: str, split: str | None = None) -> list[list[str]]:
        """Every piece's symbol list for one part and stream (pieces lacking the part skipped)."""
        pieces = self.pieces if split is None else self.split(split)
        return [p.part(part).stream(stream_name) for p in pieces if p.part(part) is not None]

    def piece(self, name: str) -> Piece:
        for p in self.pieces:
            if p.name == name:
                return p
        raise KeyError(f"no piece named {name!r} in corpus {self.corpus_id}")


def default_corpus_files(max_pieces: int = 0) -> list[Path]:
    """The chorales bundled with music21 (MusicXML only; the analyses are not scores)."""
    files = sorted(p for p in m21corpus.getComposer("bach") if p.suffix in (".mxl", ".xml"))
    return files[:max_pieces] if max_pieces else files


def folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CorpusError(f"{folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _is_drums(part: stream.Part) -> bool:
    """A percussion part: an unpitched-percussion instrument or MIDI channel 10 anywhere in
    the part, or nothing but unpitched notes.

    music21 puts the instruments it reads from a MIDI track inside the first measure, so
    they are searched recursively (a MIDI channel-10 track gets an UnpitchedPercussion with
    midiChannel 9 there, and its notes are read as note.Unpitched).
    """
    for inst in part.recurse().getElementsByClass(instrument.Instrument):
        if isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == 9:
            return True
    sounding = list(part.recurse().notes)
    return bool(sounding) and all(isinstance(n, note.Unpitched) or "Percussion" in type(n).__name__
                                  for n in sounding)


def _mean_pitch(part: stream.Stream) -> float:
    midis = [p.midi for n in part.recurse().notes for p in getattr(n, "pitches", ())]
    return sum(midis) / len(midis) if midis else -1.0


def _named_lead(part: stream.Part) -> bool:
    inst = part.getInstrument(returnDefault=False, recurse=True)
    name = " ".join(filter(None, [part.partName, getattr(inst, "instrumentName", None)])).lower()
    return any(word in name for word in LEAD_WORDS)


def split_parts(score: stream.Score, layout: str) -> tuple[stream.Stream, stream.Stream | None]:
    """(lead, accompaniment) of a score, or ValueError with the reason it cannot be used."""
    parts = [p for p in score.parts if p.recurse().notes] if score.parts else []
    if not parts and score.recurse().notes:
        parts = [score]
    if layout == "chorale":
        voices = [p for p in parts if (p.partName or "").lower() in CHORALE_VOICES] or parts[:4]
        if len(voices) < 2:
            raise ValueError(f"a chorale needs a soprano and lower voices, found {len(voices)}")
        return voices[0], stream.Score(voices[1:]).chordify()
    pitched = [p for p in parts if not _is_drums(p)]
    if not parts:
        raise ValueError("no notes")
    if not pitched:
        raise ValueError("drums only")
    if len(pitched) > 2:
        raise ValueError(f"{len(pitched)} instruments (at most two are used)")
    if len(pitched) == 1:
        return pitched[0].chordify(), None
    named = [p for p in pitched if _named_lead(p)]
    lead = named[0] if len(named) == 1 else max(pitched, key=_mean_pitch)
    other = pitched[1] if lead is pitched[0] else pitched[0]
    return lead.chordify(), other.chordify()


def _encode_part(part: stream.Stream, chord_mode: str) -> PartData:
    pitch, duration = encode_events(part, chord_mode)
    return PartData(encode_steps(part, chord_mode), pitch, duration)


def read_piece(path: str, layout: str, chord_mode: str) -> tuple[dict | None, str]:
    """Parse and encode one file: (piece fields, "") when kept, (None, reason) when skipped.

    Runs in worker processes, so it returns plain data and never raises for a bad file.
    """
    try:
        if os.path.getsize(path) == 0:
            return None, "empty file"
        score = converter.parse(path, forceSource=True)
    except Exception as exc:  # music21 raises many types for unreadable files
        return None, f"could not be read ({type(exc).__name__}: {str(exc)[:120] or 'no detail'})"
    if not isinstance(score, stream.Score):
        score = stream.Score([score])
    try:
        lead, accompaniment = split_parts(score, layout)
        lead_data = _encode_part(lead, chord_mode)
        acc_data = _encode_part(accompaniment, chord_mode) if accompaniment is not None else None
    except ValueError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the whole corpus
        return None, f"could not be encoded ({type(exc).__name__}: {str(exc)[:120]})"
    if not any(s not in ("r", "_") for s in lead_data.steps):
        return None, "no notes"
    return {"lead": asdict(lead_data), "accompaniment": acc_data and asdict(acc_data)}, ""


def _files_key(files: list[Path], settings: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        digest.update(path.as_posix().encode())  # the whole path: piece names include sub-folders
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _holdout(names: list[str], fraction: float, seed: int) -> set[str]:
    """Whole pieces held out for validation: seeded, at least one when there are two or more."""
    if fraction <= 0 or len(names) < 2:
        return set()
    count = min(len(names) - 1, max(1, math.ceil(fraction * len(names))))
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)
    return set(shuffled[:count])


def _parse_all(files: list[Path], layout: str, chord_mode: str,
               workers: int) -> list[tuple[dict | None, str]]:
    args = [(str(f), layout, chord_mode) for f in files]
    if workers <= 1 or len(files) < 8:
        return [read_piece(*a) for a in args]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_piece, *zip(*args), chunksize=8))


def prepare_corpus(source: str | Path = DEFAULT_CORPUS, *, chord_mode: str = "pitch_class",
                   val_fraction: float = 0.1, seed: int = 0, max_pieces: int = 0,
                   cache_dir: Path | str = "cache", workers: int | None = None) -> Corpus:
    """Read, encode and split a corpus; a second call with the same files and settings reads
    the JSON cache instead of parsing again (the key covers file contents and settings)."""
    if chord_mode not in CHORD_MODES:
        raise CorpusError(f"chord_mode must be one of {CHORD_MODES}, got {chord_mode!r}")
    if not 0 <= val_fraction < 1:
        raise CorpusError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if str(source) == DEFAULT_CORPUS:
        corpus_id, layout, files = DEFAULT_CORPUS, "chorale", default_corpus_files(max_pieces)
    else:
        folder = Path(source)
        corpus_id, layout = folder.resolve().name, "instruments"
        files = folder_files(folder)[: max_pieces or None]
        if not files:
            raise CorpusError(f"no MIDI, MusicXML or ABC files in {folder}")
    settings = {"source": str(source), "chord_mode": chord_mode, "val_fraction": val_fraction,
                "seed": seed, "max_pieces": max_pieces, "encoding_version": ENCODING_VERSION}
    key = _files_key(files, settings)
    cache_path = Path(cache_dir) / f"{corpus_id}-{key[:16]}.json"
    if cache_path.exists():
        return load_corpus(cache_path)
    results = _parse_all(files, layout, chord_mode, workers or os.cpu_count() or 1)
    names = [str(f.relative_to(source)) if layout == "instruments" else f.stem for f in files]
    kept = [(n, f, r) for n, f, (r, _) in zip(names, files, results) if r is not None]
    if not kept:
        reasons = "; ".join(f"{n}: {why}" for n, (_, why) in zip(names, results))
        raise CorpusError(f"no usable piece in {source} ({reasons[:500]})")
    held = _holdout([n for n, _, _ in kept], val_fraction, seed)
    pieces = [Piece(n, str(f), "validation" if n in held else "train", PartData(**r["lead"]),
                    PartData(**r["accompaniment"]) if r["accompaniment"] else None)
              for n, f, r in kept]
    report = [FileReport(n, "kept" if r else "skipped", why or "")
              for n, (r, why) in zip(names, results)]
    result = Corpus(corpus_id, key, settings, pieces, report)
    save_corpus(result, cache_path)
    return result


def save_corpus(corpus: Corpus, path: Path) -> None:
    """JSON next to a CSV report; written to a temporary name first so a kill leaves no
    half-written cache that a later prepare would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(corpus)))
    os.replace(tmp, path)
    write_report_csv(corpus.report, path.with_suffix(".report.csv"))


def write_report_csv(report: Iterable[FileReport], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file", "status", "reason"])
        writer.writeheader()
        writer.writerows(asdict(r) for r in report)


def load_corpus(path: Path) -> Corpus:
    data = json.loads(Path(path).read_text())
    pieces = [Piece(p["name"], p["source"], p["split"], PartData(**p["lead"]),
                    PartData(**p["accompaniment"]) if p["accompaniment"] else None)
              for p in data["pieces"]]
    return Corpus(data["corpus_id"], data["key"], data["settings"], pieces,
                  [FileReport(**r) for r in data["report"]])
