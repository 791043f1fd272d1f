"""The blind listening test: can a listener tell a held-out piece's real continuation from a
generated one that starts from the same opening?

A *pair* is two short clips of one held-out piece: its first window (the seed) followed by
the real music, and the same seed followed by what a run generated. Both are cut to the same
length and rendered by the same pipeline (symbols -> one piano score at one tempo -> MIDI ->
FluidSynth -> peak-normalised WAV, padded to the same duration), the real one through the
run's own encoding too, so nothing but the notes tells them apart. Pairs live under the runs
folder, in `.listening/pairs/<id>/` (a hidden folder: it is not a run); each listener hears
them in an order and with an A/B placement of their own, drawn at random but reproducible
from their name, and every answer is appended to `.listening/answers.csv` with the settings
of its pair. The share of right answers is tested against guessing (50%) with the exact
binomial test, per run and decoding.
"""
from __future__ import annotations

import csv
import hashlib
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from core.data.timeline import PartSymbols, quarter_length, trim
from core.evidence.statistics import binomial_test
from core.files import folder_stamp, now_iso, read_json, write_json
from core.nets.windows import target_names
from core.rendering.audio import match_lengths, render_wav
from core.rendering.piece import piece_score
from core.rendering.score import TEMPO_BPM, write_midi
from core.sampling.decoding import Decoding

LISTENING_DIR = ".listening"
PAIRS_DIR = "pairs"
PAIR_FILE = "pair.json"
ANSWERS = "answers.csv"
CLIPS = ("real", "generated")
POSITIONS = ("A", "B")
MIN_CONTINUATION = 2.0    # quarters of music after the seed a pair needs at least
ANSWER_COLUMNS = ("answered_at", "listener", "pair_id", "real_was", "answer", "correct",
                  "lead_run", "accompaniment_run", "decoding", "decoding_title",
                  "temperature", "duration_temperature", "seed", "seed_piece", "steps",
                  "clip_quarters", "seed_quarters", "method")
Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what comes next)


@dataclass(frozen=True)
class Pair:
    """One pair on disk: its folder holds real.wav, generated.wav (and their MIDI files)
    and pair.json with `settings`."""

    pair_id: str
    folder: Path
    settings: dict[str, Any]

    def clip(self, which: str) -> Path:
        """The WAV of the 'real' or the 'generated' clip."""
        return self.folder / f"{which}.wav"

    @property
    def group(self) -> str:
        """Runs and decoding, as results are grouped: 'lead: <run> · temperature t=0.65'."""
        runs = " + ".join(f"{p}: {r}" for p, r in self.settings["runs"].items())
        return f"{runs} · {self.settings['decoding_title']}"


def listening_dir(runs_root: Path | str) -> Path:
    """Where the listening test keeps its pairs and answers, under the runs folder."""
    return Path(runs_root) / LISTENING_DIR


def answers_path(runs_root: Path | str) -> Path:
    return listening_dir(runs_root) / ANSWERS


def render_clip(parts: Mapping[str, PartSymbols], configs: Mapping[str, Any], end: float,
                folder: Path, stem: str) -> Path:
    """One clip: each part's symbols cut at `end` quarters, as one piano score at
    TEMPO_BPM (core.rendering.piece.piece_score, as samples are), to MIDI and a
    peak-normalised WAV; returns the WAV."""
    cut = {p: PartSymbols(trim(configs[p], s.symbols, end), s.model, s.chord_mode)
           for p, s in parts.items()}
    midi = write_midi(piece_score(cut, TEMPO_BPM), folder / f"{stem}.mid")
    return render_wav(midi, folder / f"{stem}.wav")


def _real_parts(piece, infos: Mapping[str, Any], length: int) -> dict[str, PartSymbols]:
    """A held-out piece's own symbols of each run's part, as long as a generated part."""
    return {part: PartSymbols({s: list(piece.part(part).stream(s)[:length])
                               for s in target_names(info.config)},
                              info.config.model, info.config.chord_mode)
            for part, info in infos.items()}


@dataclass(frozen=True)
class Prepared:
    """What `make_pairs` made, and what it needed to make as many pairs as asked."""

    pairs: list[Pair]
    asked: int
    pieces: int                 # distinct held-out pieces tried (fewer than asked: no more fit)
    real_short: list[str] = field(default_factory=list)       # the piece ends too soon
    generated_short: list[str] = field(default_factory=list)  # too few steps generated

    def shortfall(self) -> str:
        """Why fewer pairs than asked were made, in one line ("" when none are missing)."""
        if len(self.pairs) >= self.asked:
            return ""
        reasons = []
        if self.pieces < self.asked:
            reasons.append(f"the runs' corpus holds out {self.pieces} piece(s) long enough "
                           "for their window, and each gives one pair")
        if self.real_short:
            reasons.append(f"{_few(self.real_short)} end(s) less than {MIN_CONTINUATION:g} "
                           "quarter notes after the opening")
        if self.generated_short:
            reasons.append(f"for {_few(self.generated_short)} the steps generated make less "
                           f"than {MIN_CONTINUATION:g} quarter notes: generate more steps")
        return f"{self.asked} asked, {len(self.pairs)} made: {'; '.join(reasons)}."


def _few(names: Sequence[str], shown: int = 4) -> str:
    """'2 pieces (bwv1.6, bwv2.6)', the first `shown` names only."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} piece(s) ({', '.join(names[:shown])}{more})"


def make_pairs(runs: Mapping[str, Path | str], decoding: Decoding, n_pieces: int, steps: int,
               seed: int, cache_dir: Path | str, runs_root: Path | str,
               method: str = "auto", progress: Progress | None = None) -> Prepared:
    """A pair for each of up to `n_pieces` distinct held-out pieces: the seed window plus
    `steps` generated symbols against the seed plus the real continuation, cut to the same
    length. A pair whose real or generated continuation is shorter than MIN_CONTINUATION is
    left out; `Prepared.shortfall` says why fewer pairs than asked were made."""
    from core.data.prepare import corpus_for
    from core.sampling.generation import generate_parts, load_model, open_part_runs
    from core.sampling.seeds import seed_pieces

    decoding.validate()
    infos = open_part_runs(runs)
    first = next(iter(infos.values()))
    corpus = corpus_for(first.config, cache_dir)
    pieces = list({p.name: p for p in seed_pieces(corpus, infos, n_pieces)}.values())
    tell = progress or (lambda done, total, what: None)
    tell(0, len(pieces) + 1, f"generating {len(pieces)} continuation(s)")
    models = {part: load_model(info) for part, info in infos.items()}
    generated = generate_parts(infos, models, pieces, steps, decoding, seed, method)
    configs = {part: info.config for part, info in infos.items()}
    made = Prepared([], n_pieces, len(pieces))
    for done, (piece, fake) in enumerate(zip(pieces, generated), 1):
        tell(done, len(pieces) + 1, f"rendering the pair of {piece.name}")
        real = _real_parts(piece, infos, first.config.window + steps)
        clips = {"real": real, "generated": fake}
        ends = {which: min(quarter_length(configs[p], s.symbols) for p, s in c.items())
                for which, c in clips.items()}
        end = min(ends.values())
        seed_end = max(s.time_at(configs[p].window) for p, s in real.items())
        if end - seed_end < MIN_CONTINUATION:
            short = made.real_short if ends["real"] == end else made.generated_short
            short.append(piece.name)
            continue
        settings = {"created": now_iso(), "runs": {p: i.run_id for p, i in infos.items()},
                    "decoding": asdict(decoding), "decoding_title": decoding.title,
                    "seed": seed, "seed_piece": piece.name, "steps": steps, "method": method,
                    "clip_quarters": end, "seed_quarters": seed_end, "tempo_bpm": TEMPO_BPM}
        made.pairs.append(_save_pair(runs_root, clips, configs, end, settings))
    tell(len(pieces) + 1, len(pieces) + 1, "done")
    return made


def _save_pair(runs_root: Path | str, clips: Mapping[str, Mapping[str, PartSymbols]],
               configs: Mapping[str, Any], end: float, settings: dict[str, Any]) -> Pair:
    """Render both clips into a fresh pair folder, pair.json last (a listed pair is whole);
    a rendering failure removes the folder."""
    digest = hashlib.sha1(repr(sorted(settings.items())).encode()).hexdigest()[:8]
    pair_id = f"{folder_stamp()}-{digest}"
    folder = listening_dir(runs_root) / PAIRS_DIR / pair_id
    folder.mkdir(parents=True)
    try:
        match_lengths(*(render_clip(parts, configs, end, folder, which)
                        for which, parts in clips.items()))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    write_json(folder / PAIR_FILE, {"pair_id": pair_id, **settings})
    return Pair(pair_id, folder, settings)


def list_pairs(runs_root: Path | str) -> list[Pair]:
    """Every complete pair (pair.json and both WAVs), oldest first."""
    root = listening_dir(runs_root) / PAIRS_DIR
    pairs = []
    for path in sorted(root.glob(f"*/{PAIR_FILE}")) if root.is_dir() else []:
        try:
            data = read_json(path)
        except (OSError, ValueError):
            continue
        pair = Pair(path.parent.name, path.parent,
                    {k: v for k, v in data.items() if k != "pair_id"})
        if all(pair.clip(c).is_file() for c in CLIPS):
            pairs.append(pair)
    return pairs


def _rng(*words: str) -> random.Random:
    """A generator seeded by text, the same in every process (Python's hash() is not)."""
    return random.Random(int(hashlib.sha256("\0".join(words).encode()).hexdigest(), 16))


def real_position(listener: str, pair_id: str) -> str:
    """Where this listener hears the real clip of this pair, 'A' or 'B': random, but the
    same on every rerun of the page."""
    return _rng("position", listener.strip().lower(), pair_id).choice(POSITIONS)


def listener_queue(pairs: Sequence[Pair], listener: str,
                   answers: pd.DataFrame) -> list[Pair]:
    """The pairs this listener has not answered yet, in an order of their own."""
    name = listener.strip().lower()
    done = set(answers.loc[answers["listener"].str.strip().str.lower() == name, "pair_id"]) \
        if len(answers) else set()
    left = [p for p in pairs if p.pair_id not in done]
    _rng("order", name).shuffle(left)
    return left


def record_answer(runs_root: Path | str, listener: str, pair: Pair, answer: str) -> dict:
    """Append one answer ('A' or 'B') with its pair's settings to answers.csv; returns the
    row. The real clip's position is recomputed here, never taken from the page."""
    listener = listener.strip()
    if not listener:
        raise ValueError("a listener needs a name (initials will do)")
    if answer not in POSITIONS:
        raise ValueError(f"the answer must be A or B, got {answer!r}")
    real = real_position(listener, pair.pair_id)
    settings, decoding = pair.settings, Decoding.from_dict(pair.settings.get("decoding"))
    row = {"answered_at": now_iso(), "listener": listener, "pair_id": pair.pair_id,
           "real_was": real, "answer": answer, "correct": int(answer == real),
           "lead_run": settings["runs"].get("lead", ""),
           "accompaniment_run": settings["runs"].get("accompaniment", ""),
           "decoding": decoding.label, "decoding_title": settings.get("decoding_title"),
           "temperature": decoding.temperature,
           "duration_temperature": decoding.duration_temperature,
           **{k: settings.get(k) for k in ("seed", "seed_piece", "steps", "clip_quarters",
                                           "seed_quarters", "method")}}
    path = answers_path(runs_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ANSWER_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
    return row


def read_answers(runs_root: Path | str) -> pd.DataFrame:
    """Every answer so far (ANSWER_COLUMNS); empty when nobody has answered."""
    path = answers_path(runs_root)
    if not path.is_file():
        return pd.DataFrame(columns=list(ANSWER_COLUMNS))
    frame = pd.read_csv(path, dtype={"listener": str, "pair_id": str, "lead_run": str,
                                     "accompaniment_run": str}, keep_default_na=False)
    return frame


def results(answers: pd.DataFrame) -> pd.DataFrame:
    """Per run pair and decoding, then over all: answers, right answers, the share right and
    the exact two-sided binomial p-value against guessing (50%)."""
    columns = ["lead run", "accompaniment run", "decoding", "listeners", "answers", "right",
               "share right", "p-value"]
    if answers.empty:
        return pd.DataFrame(columns=columns)
    keys = ["lead_run", "accompaniment_run", "decoding_title"]
    groups = [(k, g) for k, g in answers.groupby(keys, sort=True)]
    groups.append((("all", "", "all decodings"), answers))
    rows = []
    for (lead, accompaniment, decoding), group in groups:
        right, total = int(group["correct"].sum()), len(group)
        rows.append({"lead run": lead or "–", "accompaniment run": accompaniment or "–",
                     "decoding": decoding, "listeners": group["listener"].nunique(),
                     "answers": total, "right": right, "share right": right / total,
                     "p-value": binomial_test(right, total)})
    return pd.DataFrame(rows, columns=columns)


def describe(row: Mapping[str, Any]) -> str:
    """One results row in words, for the page."""
    share, p = row["share right"], row["p-value"]
    if p < 0.05:
        verdict = ("listeners tell the real music apart: the generated clips do not pass"
                   if share > 0.5 else "listeners take the generated clips for the real ones "
                   "more often than chance")
    else:
        verdict = "not distinguishable from guessing at the 5% level"
    return (f"{row['right']} of {row['answers']} right ({share:.0%}); exact binomial "
            f"p = {p:.3g} against 50%: {verdict}.")
