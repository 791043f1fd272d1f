"""`python -m core bench`: speed and memory figures, measured in one run on this machine.

Nothing here is asserted by a unit test; the figures are printed beside the issue's targets
so a person can read how far off (or ahead) each one is.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.corpus import DEFAULT_CORPUS, Corpus
from core.data.prepare import prepare_corpus
from core.nets.config import TrainConfig

# Each update of the sequence objective averages many targets, so it takes a larger step on
# smaller batches; shorter training windows (sequence_window 16; held-out still reads n = 32)
# leave the 0.82 plateau (the pitch after a held note) in fewer epochs. Measured on 80
# chorales, 2x64 LSTM, 3 seeds, CPU seconds to the window objective's best (49.4 s): n 32
# b16 lr .01 8.7; n 16 b16 lr .015 6.4; n 16 b24 lr .015 6.1; n 16 b32 lr .02 7.3; any
# decaying lr (cosine, linear, one-cycle) never; TBPTT and XLA slower (speed spike, issue 10).
SEQUENCE_RECIPE = {"batch_size": 24, "learning_rate": 0.015, "sequence_window": 16}
EARLIER_RECIPE = {"batch_size": 16, "learning_rate": 0.01}  # before issue 10, for comparison
SEEDS = (0, 1, 2)  # time-to-loss ratios rest on a median over seeds: one seed moves them 2x


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    ratio: float | None = None


def bench_prepare(cache_root: Path, max_pieces: int) -> list[Figure]:
    """Cold: an empty cache, every file parsed (in parallel). Warm: the same call again."""
    cache = cache_root / "prepare"
    started = time.perf_counter()
    prepare_corpus(DEFAULT_CORPUS, max_pieces=max_pieces, cache_dir=cache)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    prepare_corpus(DEFAULT_CORPUS, max_pieces=max_pieces, cache_dir=cache)
    warm = time.perf_counter() - started
    return [Figure("prepare default corpus, cold", cold, "s"),
            Figure("prepare default corpus, warm", warm, "s", ">= 20x faster than cold",
                   cold / warm)]


def _train_seconds(config: TrainConfig, runs: Path, cache: Path,
                   target: float | None = None) -> tuple[list[float], list[float]]:
    """Per-epoch training seconds (the fit alone: held-out metrics excluded) and held-out
    losses; with a `target`, training stops at the first epoch that reaches it."""
    from core.runs.record import Run
    from core.runs.status import request_cancel
    from core.runs.training import enqueue, run_training

    run_dir = enqueue(config, runs, cache)

    def stop_at_target(row: dict) -> None:  # the next epoch does not start
        if target is not None and row["val_loss"] <= target:
            request_cancel(run_dir)

    run_training(run_dir, cache, on_epoch=stop_at_target)
    history = Run(run_dir).history
    return list(history["seconds"]), list(history["val_loss"])


def _time_to(seconds: list[float], losses: list[float], target: float) -> float:
    """Training seconds until the first epoch whose held-out loss is <= target (inf: never)."""
    reached = next((i for i, loss in enumerate(losses) if loss <= target), None)
    return math.inf if reached is None else float(sum(seconds[:reached + 1]))


def bench_objectives(base: TrainConfig, runs: Path, cache: Path,
                     sequence_epochs: int, seeds: tuple[int, ...] = SEEDS) -> list[Figure]:
    """Time to a held-out loss, same network and data, same training code: the thesis's
    window objective for base.epochs with each seed; the target is the median of their best
    losses; then the sequence objective with its recipe (and the earlier one) and each seed
    until it reaches the target. Ratios are of the medians over seeds."""
    window = {s: _train_seconds(dataclasses.replace(base, seed=s), runs, cache) for s in seeds}
    target = float(np.median([min(losses) for _, losses in window.values()]))
    w_time = float(np.median([_time_to(*window[s], target) for s in seeds]))
    figures = [Figure(f"window objective: median time to {target:.4f} held-out loss (the "
                      f"median best of {len(seeds)} seeds' {base.epochs} epochs)", w_time, "s",
                      "per seed: " + ", ".join(f"{_time_to(*window[s], target):.1f}"
                                               for s in seeds))]
    for name, recipe in (("recipe", SEQUENCE_RECIPE), ("earlier recipe", EARLIER_RECIPE)):
        seq = dataclasses.replace(base, objective="sequence", epochs=sequence_epochs, **recipe)
        times = [_time_to(*_train_seconds(dataclasses.replace(seq, seed=s), runs, cache,
                                          target), target) for s in seeds]
        median = float(np.median(times))
        described = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in recipe.items())
        figures.append(Figure(f"sequence objective ({name}: {described}): median time to "
                              "that loss", median, "s",
                              (">= 10x shorter; " if recipe is SEQUENCE_RECIPE else "")
                              + "per seed: " + ", ".join(f"{t:.1f}" for t in times),
                              w_time / median if math.isfinite(median) else None))
    return figures


def bench_generation(window: int, units: int, layers: int, steps: int) -> list[Figure]:
    """Window re-feeding vs stateful stepping on the same (untrained) network: speed does
    not depend on the weights' values."""
    from core.nets.models import build_model
    from core.sampling.decoding import Decoding
    from core.sampling.stateful import generate_stateful
    from core.sampling.window import generate_ids

    config = TrainConfig(model=1, units=units, layers=layers, dropout_layers=0, window=window,
                         objective="sequence").validate()
    model = build_model(config, {"steps": 120})
    decoding = Decoding("temperature", temperature=1.0)
    figures, window_rate = [], {}
    for batch, stateful_steps in ((1, steps), (1, 4 * steps), (8, steps)):
        seed = {"steps": np.random.default_rng(0).integers(0, 120, size=(batch, window))}
        rates = {}
        for name, run, count in (("window", generate_ids, max(4, steps // 8)),
                                 ("stateful", generate_stateful, stateful_steps)):
            run(model, config, seed, 2, decoding, np.random.default_rng(0))  # compile first
            started = time.perf_counter()
            run(model, config, seed, count, decoding, np.random.default_rng(0))
            rates[name] = batch * count / (time.perf_counter() - started)
        shape = f"n={window} {layers}x{units} LSTM batch {batch}"
        figures += [Figure(f"generation {shape}, window", rates["window"], "symbols/s"),
                    Figure(f"generation {shape}, stateful, {stateful_steps} symbols "
                           "(seed priming included)", rates["stateful"], "symbols/s",
                           ">= 50x window" if batch == 1 else "",
                           rates["stateful"] / rates["window"])]
        window_rate.setdefault(batch, rates["window"])
    figures.append(Figure(f"generation n={window} {layers}x{units} LSTM: stateful at batch 8 "
                          "(all 8 pieces' symbols) vs window re-feed at batch 1",
                          rates["stateful"], "symbols/s", ">= 300x",
                          rates["stateful"] / window_rate[1]))
    return figures


# A trial small enough that Ray Tune's own cost per trial shows: 6 chorales, 1x8 LSTM, 2
# epochs of windows of 8 (about 2 s of training).
TINY_TRIAL = {"units": 8, "layers": 1, "dropout_layers": 1, "window": 8, "epochs": 2,
              "max_pieces": 6}


def _run_spans(runs: Path) -> float:
    """Seconds from the first run's start to the last run's end in a runs folder."""
    from core.runs.listing import run_dirs
    from core.runs.status import read_status

    statuses = [read_status(d) for d in run_dirs(runs)]
    return max(s["ended_at"] for s in statuses) - min(s["started_at"] for s in statuses)


def bench_sweep(root: Path, cache: Path, trials: int = 8) -> list[Figure]:
    """`trials` tiny trials (seeds of one setting) through Ray Tune (`python -m core sweep`,
    Ray started in the command, one trial at a time) and the same trained back to back
    without it (`python -m core seeds`), each command a fresh process: the difference per
    trial is what Ray Tune costs."""
    prepare_corpus(DEFAULT_CORPUS, max_pieces=TINY_TRIAL["max_pieces"], cache_dir=cache)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY_TRIAL.items()]
    env = {**os.environ, "RAY_TMPDIR": str(root / "ray")}  # short: Ray's socket paths
    walls = {}
    for name, command in (("plain", ["seeds", f"--k={trials}"]),
                          ("sweep", ["sweep", f"--seeds={trials}", "--sweeps",
                                     str(root / "sweeps")])):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", *command, *flags, "--runs",
                        str(root / name), "--cache", str(cache)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls[name] = time.perf_counter() - started
    between = (_run_spans(root / "sweep") - _run_spans(root / "plain")) / trials
    return [Figure(f"{trials} tiny trials back to back, no Ray (python -m core seeds)",
                   walls["plain"], "s"),
            Figure(f"{trials} tiny trials through Ray Tune (python -m core sweep)",
                   walls["sweep"], "s"),
            Figure("Ray Tune's overhead per trial, Ray's start and stop included",
                   (walls["sweep"] - walls["plain"]) / trials, "s", "< 2 s"),
            Figure("Ray Tune's overhead per trial, from the first trial's start to the last's "
                   "end", between, "s", "< 2 s")]


def bench_compare_page(runs: int) -> list[Figure]:
    """The Compare page with `runs` run directories, rendered by Streamlit's AppTest in a
    separate process (core itself never imports Streamlit)."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "time_compare_page.py"
    out = subprocess.run([sys.executable, str(script), str(runs)], capture_output=True,
                         text=True, check=False)
    try:
        cold, first, again = (float(v) for v in out.stdout.split()[-3:])
    except ValueError:
        return [Figure("Compare page render", float("nan"), "s", out.stderr[-300:])]
    return [Figure(f"Compare page, {runs} runs, fresh process (imports included)", cold, "s"),
            Figure(f"Compare page, {runs} runs, first render", first, "s", "< 1.5 s"),
            Figure(f"Compare page, {runs} runs, next render", again, "s", "< 1.5 s")]


def bench_memory(cache: Path, runs: Path, max_pieces: int) -> list[Figure]:
    """Peak resident memory of a training process on the corpus (one epoch; memory is set
    by the data pipeline and model, not by the number of epochs)."""
    command = [sys.executable, "-m", "core", "train", "--epochs", "1", "--units", "128",
               "--layers", "2", "--max-pieces", str(max_pieces), "--runs", str(runs),
               "--cache", str(cache)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return [Figure("peak memory, training on the corpus (window objective)",
                   usage.ru_maxrss / 1024, "MB", "< 2048 MB")]


# --- MIDI: reading real-world files, preparing 10,000 of them -----------------------------

def export_chorales(folder: Path, count: int) -> list[Path]:
    """The sung voices of the first `count` bundled chorales, written as MIDI by music21 (as
    a user would export them; repeats come out played)."""
    from music21 import stream

    from core.data.prepare import default_corpus_files
    from core.data.scores import ScoreError, chorale_voices, parse_score

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in default_corpus_files(count):
        try:
            voices = chorale_voices(parse_score(str(source)))
        except ScoreError:
            continue
        path = folder / f"{source.stem}.mid"
        stream.Score(voices).write("midi", fp=str(path))
        paths.append(path)
    return paths


def _track(name: str, program: int, notes: np.ndarray, drums: bool = False):
    """A symusic track from (onset tick, length tick, pitch) rows."""
    import symusic

    track = symusic.Track(name, program, drums)
    rows = np.asarray(notes, np.int64).reshape(-1, 3)
    track.notes = symusic.Note.from_numpy(rows[:, 0].astype(np.int32),
                                          rows[:, 1].astype(np.int32),
                                          rows[:, 2].astype(np.int8),
                                          np.full(len(rows), 90, np.int8))
    return track


def _drums(bars: int, ticks: int) -> np.ndarray:
    beats = np.arange(bars * 4)
    kick = np.c_[beats * ticks, np.full(len(beats), ticks // 4), np.where(beats % 2, 38, 36)]
    hats = np.c_[beats * ticks + ticks // 2, np.full(len(beats), ticks // 4),
                 np.full(len(beats), 42)]
    return np.r_[kick, hats]


def synthetic_song(rng: np.random.Generator, ticks: int = 480):
    """A made-up band arrangement: a stepwise melody of eighths and quarters, a bass on the
    roots, block chords, sometimes a pad, and drums, 16 to 64 bars of 4/4."""
    import symusic

    bars, key = int(rng.integers(16, 65)), int(rng.integers(0, 12))
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    roots = rng.choice([0, 3, 4, 5], size=bars)
    lengths = rng.choice([ticks // 2, ticks], size=bars * 8)
    onsets = np.cumsum(np.r_[0, lengths[:-1]])
    onsets, lengths = onsets[onsets < bars * 4 * ticks], lengths[onsets < bars * 4 * ticks]
    degrees = np.clip(np.cumsum(rng.integers(-2, 3, size=len(onsets))) + 7, 0, 13)
    melody = 60 + key + 12 * (degrees // 7) + scale[degrees % 7]
    bar = np.arange(bars) * 4 * ticks
    bass = np.c_[bar, np.full(bars, 4 * ticks), 36 + key + scale[roots]]
    chords = np.concatenate([np.c_[bar, np.full(bars, 4 * ticks),
                                   48 + key + scale[(roots + step) % 7]] for step in (0, 2, 4)])
    score = symusic.Score(ticks)
    score.tracks.append(_track("Melody" if rng.random() < 0.5 else "Track 1",
                               int(rng.integers(0, 80)), np.c_[onsets, lengths, melody]))
    score.tracks.append(_track("Bass", 33, bass))
    score.tracks.append(_track("Keys", 4, chords))
    if rng.random() < 0.5:
        score.tracks.append(_track("Pad", 89, chords + [0, 0, 24]))
    score.tracks.append(_track("Drums", 0, _drums(bars, ticks), drums=True))
    return score


def build_midi_folder(folder: Path, files: int, chorales: list[Path], seed: int = 0) -> Path:
    """`files` MIDI files: half exported chorales transposed, some with a drum kit and an
    extra instrument added, half synthetic band arrangements."""
    import symusic

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    bases = [symusic.Score(str(p)) for p in chorales]
    for i in range(files):
        if i % 2 and bases:
            score = bases[int(rng.integers(len(bases)))].shift_pitch(int(rng.integers(-5, 7)))
            if rng.random() < 0.5:
                ticks = score.ticks_per_quarter
                bars = score.end() // (4 * ticks) + 1
                score.tracks.append(_track("Drums", 0, _drums(bars, ticks), drums=True))
                score.tracks.append(_track("Organ", 19, np.c_[0, 4 * ticks, 84]))
        else:
            score = synthetic_song(rng)
        score.dump_midi(str(folder / f"song{i:05d}.mid"))
    return folder


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


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, total = {pid}, 0
    for _ in range(4):
        tree |= {p for p, parent in parents.items() if parent in tree}
    for member in tree:
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE")


def _measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB of the command and its worker processes together)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with code {proc.returncode}")
    return time.perf_counter() - started, peak / 2**20


def bench_midi_prepare(folder: Path, cache: Path) -> tuple[list[Figure], Corpus]:
    """`python -m core prepare` of the folder on every core: cold, then warm (the cache)."""
    from core.data.prepare import prepare_corpus

    files = len(list(folder.glob("*.mid")))
    command = [sys.executable, "-m", "core", "prepare", "--corpus", str(folder),
               "--cache", str(cache)]
    cold, cold_peak = _measured(command)
    warm, warm_peak = _measured(command)
    corpus = prepare_corpus(folder, cache_dir=cache)
    kept = sum(r.status == "kept" for r in corpus.report)
    return [Figure(f"prepare {files} MIDI files, cold ({os.cpu_count()} processes)", cold, "s"),
            Figure(f"prepare {files} MIDI files, peak memory of all processes", cold_peak,
                   "MB", "< 2048 MB"),
            Figure(f"prepare {files} MIDI files, warm (reads the cache)", warm, "s",
                   "", cold / warm),
            Figure(f"prepare {files} MIDI files, warm, peak memory", warm_peak, "MB"),
            Figure(f"prepare {files} MIDI files, files kept", kept, "files")], corpus


def _plain(part) -> dict | None:
    return None if part is None else {"steps": part.steps, "pitch": part.pitch,
                                      "duration": part.duration}


def save_json_corpus(corpus: Corpus, path: Path) -> None:
    """The corpus as version 1's JSON cache wrote it (for comparison only)."""
    pieces = [{"name": p.name, "source": p.source, "split": p.split, "lead": _plain(p.lead),
               "accompaniment": _plain(p.accompaniment)} for p in corpus.pieces]
    path.write_text(json.dumps({"corpus_id": corpus.corpus_id, "key": corpus.key,
                                "settings": corpus.settings, "pieces": pieces,
                                "report": [vars(r) for r in corpus.report]}))


def load_json_corpus(path: Path | str) -> Corpus:
    """Version 1's JSON cache read back, as its load_corpus did (for comparison only)."""
    from core.data.corpus import FileReport, PartData, Piece

    data = json.loads(Path(path).read_text())
    return Corpus(data["corpus_id"], data["key"], data["settings"],
                  [Piece(p["name"], p["source"], p["split"], PartData(**p["lead"]),
                         PartData(**p["accompaniment"]) if p["accompaniment"] else None)
                   for p in data["pieces"]], [FileReport(**r) for r in data["report"]])


def _timed(run, *args) -> float:
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def bench_cache_formats(corpus: Corpus, root: Path) -> list[Figure]:
    """The prepared corpus saved and loaded as the .npz cache and as version 1's JSON: time
    in this process, memory of a fresh process that loads it."""
    from core.data.cache import CorpusWriter, load_corpus
    from core.data.corpus import PARTS, EncodedPart

    npz, as_json = root / "formats.npz", root / "formats.json"

    def save_npz() -> None:
        writer = CorpusWriter()
        for piece in corpus.pieces:
            writer.add(piece.name, piece.source,
                       {part: EncodedPart.of_streams(_plain(piece.part(part)))
                        if piece.part(part) else None for part in PARTS})
        writer.save(npz, corpus.corpus_id, corpus.key, corpus.settings,
                    {p.name: p.split for p in corpus.pieces}, corpus.report)

    npz_save, json_save = _timed(save_npz), _timed(save_json_corpus, corpus, as_json)
    npz_load, json_load = _timed(load_corpus, npz), _timed(load_json_corpus, as_json)
    loader = "from pathlib import Path; from {} import {} as load; load(Path({!r}))"
    _, npz_mb = _measured([sys.executable, "-c", loader.format("core.data.cache",
                                                                 "load_corpus", str(npz))])
    _, json_mb = _measured([sys.executable, "-c", loader.format("core.bench",
                                                                  "load_json_corpus",
                                                                  str(as_json))])
    mb = 2**20
    return [Figure("cache load, .npz (symbol ids)", npz_load, "s", "", json_load / npz_load),
            Figure("cache load, JSON (version 1)", json_load, "s"),
            Figure("cache save, .npz", npz_save, "s", "", json_save / npz_save),
            Figure("cache save, JSON (version 1)", json_save, "s"),
            Figure("cache size, .npz", npz.stat().st_size / mb, "MB", "",
                   as_json.stat().st_size / npz.stat().st_size),
            Figure("cache size, JSON (version 1)", as_json.stat().st_size / mb, "MB"),
            Figure("peak memory of a process loading the .npz cache", npz_mb, "MB", "",
                   json_mb / npz_mb),
            Figure("peak memory of a process loading the JSON cache", json_mb, "MB")]


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


ONLY = ("all", "midi", "sweep", "objectives", "generation", "quality")  # `bench --only`


def run_all(quick: bool = False, only: str = "all", midi_folder: Path | None = None,
            labelled_folder: Path | None = None) -> list[Figure]:
    pieces = 12 if quick else 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if only == "midi":
            return run_midi(root, quick, midi_folder, labelled_folder)
        cache = root / "prepare"
        figures = bench_prepare(root, pieces) if only == "all" else []
        if only in ("all", "objectives"):
            base = TrainConfig(units=32 if quick else 64, layers=2, window=32, batch_size=64,
                               epochs=2 if quick else 8,
                               max_pieces=12 if quick else 80).validate()
            figures += bench_objectives(base, root / "runs", cache, 10 if quick else 60,
                                        SEEDS[:1] if quick else SEEDS)
        if only in ("all", "generation"):
            figures += bench_generation(64, 64 if quick else 512, 3, 16 if quick else 64)
        if only in ("all", "sweep"):
            figures += bench_sweep(root / "sweep", cache, 3 if quick else 8)
        if only == "all":
            figures += bench_compare_page(20 if quick else 200)
            figures += bench_memory(cache, root / "runs", pieces)
            figures += run_midi(root / "midi", quick, midi_folder, labelled_folder)
    return figures


def format_table(figures: list[Figure]) -> str:
    lines = [f"{'figure':<80} {'value':>12} {'unit':<10} {'ratio':>8}  target"]
    for f in figures:
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else ""
        lines.append(f"{f.name:<80} {f.value:>12.3f} {f.unit:<10} {ratio:>8}  {f.target}")
    return "\n".join(lines)
