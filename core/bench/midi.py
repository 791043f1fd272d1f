"""Bench figures of MIDI files: the lead choice on labelled sets, reading and encoding
against a plain symusic read and music21, the two readers' agreement on the chorales, and
preparing 10,000 files."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from core.bench.figure import Figure
from core.bench.json_cache import bench_cache_formats
from core.bench.memory import measured
from core.bench.songs import build_midi_folder, export_chorales
from core.data.corpus import Corpus


def _plain_read(paths: list[Path]) -> int:
    """The reference: symusic reads each file and hands over its notes as arrays. It reads
    the file's bytes, as the project does: the faster of symusic's two ways in (reading by
    path costs about 20 microseconds more a file), so the project gains nothing by it."""
    import symusic

    notes = 0
    for path in paths:
        for track in symusic.Score.from_midi(path.read_bytes()).tracks:
            notes += len(track.notes.numpy()["time"])
    return notes


def _project_read(paths: list[Path]) -> None:
    """What prepare does with each file: read it, pick its roles, encode both parts in both
    models as symbol ids (`read_encoded`) and add them to the cache's table."""
    from core.data.cache import CorpusWriter
    from core.data.pieces import read_encoded

    writer = CorpusWriter()
    for path in paths:
        parts, _ = read_encoded(path, path.name)
        if parts is not None:
            writer.add(path.name, str(path), parts, parts["metre"])


def _music21_read(paths: list[Path]) -> None:
    """The same files through music21 (its MIDI parser), then the same roles and encoding."""
    from core.data.encoding import encode_parts
    from core.data.roles import assign_roles
    from core.data.scores import ScoreError, score_tracks

    for path in paths:
        try:
            roles = assign_roles(score_tracks(str(path)))
        except ScoreError:  # music21 reads a few real files as drums only: timed all the same
            continue
        encode_parts([part for part in (roles.lead, roles.accompaniment) if part is not None])


def _best_seconds(runs, paths: list[Path], repeats: int) -> list[float]:
    """Each run's best time over `repeats` rounds, the runs taking turns, so that other work
    on a shared machine slows them alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            started = time.perf_counter()
            run(paths)
            best[i] = min(best[i], time.perf_counter() - started)
    return best


def bench_midi_read(folder: Path, music21_files: int, label: str) -> list[Figure]:
    """Read + encode as prepare does (roles, both parts, both models, as the cache's symbol
    ids) against a plain symusic read loop of the same files, one process; then a few of
    them through music21."""
    paths = sorted(folder.rglob("*.mid"))
    notes = _plain_read(paths)
    _project_read(paths[:5])  # warm the caches of symbols and durations
    plain, ours = _best_seconds((_plain_read, _project_read), paths, 5)
    few = paths[:music21_files]
    slow = _best_seconds((_music21_read,), few, 1)[0] / len(few) * len(paths)
    return [
        Figure(f"MIDI plain symusic read, {label} ({len(paths)} files)", len(paths) / plain,
               "files/s"),
        Figure(f"MIDI plain symusic read, {label}", notes / plain, "notes/s"),
        Figure(f"MIDI read + roles + encode, {label}", len(paths) / ours, "files/s",
               "ratio = time / plain read's: <= 2x", ours / plain),
        Figure(f"MIDI read + roles + encode, {label}", notes / ours, "notes/s"),
        Figure(f"MIDI through music21 instead, {label} ({len(few)} files timed)",
               len(paths) / slow, "files/s", "ratio: how much faster symusic is", slow / ours),
    ]


def bench_chorale_agreement(folder: Path, chorales: list[Path]) -> list[Figure]:
    """How many exported chorales the MIDI reader encodes exactly as music21 encodes the
    chorale itself (repeats played out, as the export has them)."""
    from music21 import stream

    from core.data.pieces import read_piece
    from core.data.prepare import default_corpus_files
    from core.data.scores import chorale_voices, encode_chorale, parse_score

    sources = {p.stem: p for p in default_corpus_files()}
    same = 0
    for path in chorales:
        voices = chorale_voices(parse_score(str(sources[path.stem])))
        reference = encode_chorale(stream.Score(voices).expandRepeats(), "pitch_class")[0]
        read = read_piece(path, path.name)[0] or {}
        same += {part: read.get(part) for part in reference} == reference
    return [Figure(f"chorales exported to MIDI encoded exactly as music21 encodes them "
                   f"(of {len(chorales)})", same, "files",
                   "the rest: silent bars, final rests, 32nds (tests/test_midi.py)")]


def bench_midi_prepare(folder: Path, cache: Path) -> tuple[list[Figure], Corpus]:
    """`python -m core prepare` of the folder on every core: cold, then warm (the cache)."""
    from core.data.prepare import prepare_corpus

    files = len(list(folder.glob("*.mid")))
    command = [sys.executable, "-m", "core", "prepare", "--corpus", str(folder),
               "--cache", str(cache)]
    cold, cold_peak = measured(command)
    warm, warm_peak = measured(command)
    corpus = prepare_corpus(folder, cache_dir=cache)
    kept = sum(r.status == "kept" for r in corpus.report)
    return [Figure(f"prepare {files} MIDI files, cold ({os.cpu_count()} processes)", cold, "s"),
            Figure(f"prepare {files} MIDI files, peak memory of all processes", cold_peak,
                   "MB", "< 2048 MB"),
            Figure(f"prepare {files} MIDI files, warm (reads the cache)", warm, "s",
                   "", cold / warm),
            Figure(f"prepare {files} MIDI files, warm, peak memory", warm_peak, "MB"),
            Figure(f"prepare {files} MIDI files, files kept", kept, "files")], corpus


def bench_lead_choice(folder: Path, label: str) -> list[Figure]:
    """How often the lead rule picks a labelled folder's melody (core.data.labelled)."""
    from core.data.labelled import MELODY, NON_MELODIC, OTHER, judge

    accuracy = judge(folder)
    files = accuracy.files
    figures = [Figure(f"lead choice, {label} ({files} files): {outcome}",
                      accuracy.counts[outcome], "files")
               for outcome in (MELODY, OTHER, NON_MELODIC)]
    figures += [
        Figure(f"lead choice, {label}: a bass line", accuracy.bass, "files", "none"),
        Figure(f"lead choice, {label}: melody chosen", 100 * accuracy.melody_share, "%"),
        Figure(f"lead choice, {label}: a melodic track chosen", 100 * accuracy.melodic_share,
               "%", ">= 90% (9 of 10 files)"),
        Figure(f"lead choice, {label}: marked uncertain", accuracy.uncertain, "files")]
    if accuracy.unreadable:
        figures.append(Figure(f"lead choice, {label}: files that could not be read",
                              len(accuracy.unreadable), "files"))
    return figures


def run_lead_choice(root: Path, labelled: Path | None, quick: bool) -> list[Figure]:
    """The lead rule on music21's works made band arrangements (built here, offline), on a
    given labelled folder, and the read + encode speed of both against a plain read."""
    from core.data.labelled import MUSIC21_WORKS, build_music21_set

    works = MUSIC21_WORKS[:4] if quick else MUSIC21_WORKS
    built = build_music21_set(root / "labelled", works, variants=1 if quick else 3)
    figures = bench_lead_choice(built, "music21 works as band arrangements")
    figures += bench_midi_read(built, 2, "music21 band arrangements")
    if labelled is not None:
        figures += bench_lead_choice(labelled, labelled.name)
        figures += bench_midi_read(labelled, 3 if quick else 8, labelled.name)
    return figures


def run_midi(root: Path, quick: bool, folder: Path | None = None,
             labelled: Path | None = None) -> list[Figure]:
    """The MIDI figures: the lead choice on labelled sets, reading (a given folder of real
    files, and the generated one), the two readers' agreement, and preparing 10,000
    generated files (500 when quick)."""
    figures = run_lead_choice(root, labelled, quick)
    started = time.perf_counter()
    chorales = export_chorales(root / "chorales", 12 if quick else 0)
    generated = build_midi_folder(root / "songs", 500 if quick else 10_000, chorales)
    figures += [_load("before"),
                Figure(f"generate the MIDI folder ({len(chorales)} chorales exported by "
                       "music21, the rest by symusic)", time.perf_counter() - started, "s")]
    if folder is not None:
        figures += bench_midi_read(folder, 3 if quick else 8, folder.name)
    sample = root / "sample"
    sample.mkdir(parents=True)
    for path in sorted(generated.glob("*.mid"))[:200]:
        os.link(path, sample / path.name)
    figures += bench_midi_read(sample, 5 if quick else 20, "200 generated files")
    figures += bench_chorale_agreement(root / "chorales", chorales)
    prepared, corpus = bench_midi_prepare(generated, root / "cache")
    figures += prepared
    figures += bench_cache_formats(corpus, root)
    return figures + [_load("after")]


def _load(when: str) -> Figure:
    """The machine's load average over the last minute: other work on a shared machine
    slows every timing above (both sides of a ratio alike, as they take turns)."""
    return Figure(f"load average, 1 minute, {when} the MIDI figures", os.getloadavg()[0],
                  "processes", f"{os.cpu_count()} cores")
