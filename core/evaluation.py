"""Evidence: music metrics of generated pieces beside the same metrics of real held-out pieces.

The thesis judged its output by ear and by training accuracy alone. Here each decoding
generates several pieces from held-out seeds, each piece is measured with
`core.metrics.piece_metrics` on what the model generated (the seed window left out, since it
is the corpus's music, not the model's), the real held-out pieces are measured the same way,
and the two distributions are compared per metric (Yang & Lerch's overlapping area).
`conditioning_comparison` puts the thesis's independent accompaniment beside one conditioned
on the lead (does following the lead make the parts agree more, and predict better?).

Results are written as CSV under the lead run, evaluation/<timestamp>/, for the dashboard.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .corpus import Corpus, Piece
from .encoding import STEP, decode_events, parse_duration
from .generation import (Decoding, GenerationError, continue_ids, encode_seeds, lead_steps,
                         load_model)
from .metrics import (ACCOMPANIMENT, INDEX_METRICS, LEAD, NOTE_METRICS, SYMBOL_METRICS,
                      NgramIndex, compare_distributions, concat_notes, notes_from_steps,
                      notes_from_stream, piece_metrics)
from .runs import RunInfo, now_iso, open_run, read_history, write_json
from .windows import target_names

PARTS = (LEAD, ACCOMPANIMENT)
METRICS = NOTE_METRICS + SYMBOL_METRICS + INDEX_METRICS
DEFAULT_CONDITIONING_DECODING = Decoding("temperature", temperature=0.65)  # the thesis's example
_EPS = 1e-9


# --------------------------------------------------------------------------- measuring

@dataclass(frozen=True)
class PartSymbols:
    """One part's symbols in one run's encoding: the note table and symbol metrics read it."""

    symbols: dict[str, list[str]]
    model: int
    chord_mode: str

    @property
    def main(self) -> list[str]:
        """The stream tested for loops and copying: Model 1 steps, Model 2 pitches."""
        return self.symbols[main_stream(self.model)]

    def boundaries(self) -> np.ndarray:
        """Quarter position where each symbol starts, then where the last one ends."""
        if self.model == 1:
            return np.arange(len(self.main) + 1) * STEP
        lengths = [float(parse_duration(d)) for d in self.symbols["duration"]]
        return np.concatenate([[0.0], np.cumsum(lengths)])

    def time_at(self, index: int) -> float:
        """Where symbol `index` starts (the part's end when it has fewer symbols)."""
        bounds = self.boundaries()
        return float(bounds[min(index, len(bounds) - 1)])

    def notes(self, name: str) -> pd.DataFrame:
        if self.model == 1:
            return notes_from_steps(self.symbols["steps"], name, self.chord_mode)
        part = decode_events(self.symbols["pitch"], self.symbols["duration"], self.chord_mode)
        return notes_from_stream(part, name)


def _span(notes: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Notes starting in [start, end), cut at `end` and moved to begin at 0: a note held
    into the span from before it (the seed's) is not something measured in it."""
    inside = notes[(notes["start"] >= start - _EPS) & (notes["start"] < end - _EPS)].copy()
    inside["end"] = inside["end"].clip(upper=end)
    inside[["start", "end"]] -= start
    return inside.reset_index(drop=True)


def measure(parts: Mapping[str, PartSymbols], start: float, end: float,
            index: NgramIndex | None) -> dict[str, float]:
    """piece_metrics of the span [start, end) quarters of a piece: note metrics over every
    part, symbol metrics on the lead's symbols (the first part's when there is no lead).
    `measured_symbols` and `measured_quarters` say how much was measured."""
    notes = _span(concat_notes(p.notes(name) for name, p in parts.items()), start, end)
    symbol_part = parts[LEAD] if LEAD in parts else next(iter(parts.values()))
    onsets = symbol_part.boundaries()[:-1]
    symbols = [s for s, t in zip(symbol_part.main, onsets) if start - _EPS <= t < end - _EPS]
    length = max(0.0, end - start)
    metrics = piece_metrics(notes, symbols,
                            index if symbols else None, length=length)
    return {**metrics, "measured_symbols": len(symbols), "measured_quarters": length}


def main_stream(model: int) -> str:
    return "steps" if model == 1 else "pitch"


def _streams(model: int) -> list[str]:
    return ["steps"] if model == 1 else ["pitch", "duration"]


def training_index(corpus: Corpus, part: str = LEAD, stream: str = "steps") -> NgramIndex | None:
    """The training pieces' n-grams of one part's stream, against which novelty and
    memorisation are counted; None when no training piece has that part."""
    sequences = corpus.sequences(part, stream, "train")
    return NgramIndex(sequences) if sequences else None


# --------------------------------------------------------------------------- reference

def _source(source: Corpus | RunInfo | Path | str,
            cache_dir: Path | str) -> tuple[Corpus, int, str]:
    """(corpus, model, chord mode): a run's own encoding, or Model 1 for a bare corpus."""
    from .training import corpus_for

    if isinstance(source, Corpus):
        return source, 1, source.settings.get("chord_mode", "pitch_class")
    run = source if isinstance(source, RunInfo) else open_run(source)
    return corpus_for(run.config, cache_dir), run.config.model, run.config.chord_mode


def reference_metrics(source: Corpus | RunInfo | Path | str, split: str = "validation",
                      parts: Sequence[str] = PARTS, skip: int = 0, steps: int | None = None,
                      cache_dir: Path | str = "cache",
                      index: NgramIndex | None = None, method: str = "auto") -> pd.DataFrame:
    """One row per piece of `split` (its name in `piece`) with the metrics of the real music.

    A run as `source` measures its corpus in the run's encoding (Model 1 steps or Model 2
    pitch + duration); a Corpus is measured in Model 1 steps. The first of `parts` gives the
    symbols tested for loops and copying, against the training pieces (`index`, built here
    when not given). Pieces lacking one of `parts` are left out, as generation cannot seed
    from them. `skip` and `steps` (symbols of that first part) measure an excerpt instead of
    the whole piece: with the seed window and the generated length, the real continuation
    of each seed, as long as a generated one, so length-bound metrics compare fairly.
    """
    corpus, model, chord_mode = _source(source, cache_dir)
    streams = _streams(model)
    if index is None:
        index = training_index(corpus, parts[0], main_stream(model))
    rows = []
    for piece in corpus.split(split):
        if any(piece.part(p) is None for p in parts):
            continue
        data = {p: PartSymbols({s: piece.part(p).stream(s) for s in streams}, model,
                               chord_mode) for p in parts}
        first = data[parts[0]]
        start = first.time_at(skip)
        end = (max(p.time_at(len(p.main)) for p in data.values()) if steps is None
               else first.time_at(skip + steps))
        rows.append({"piece": piece.name, **measure(data, start, end, index)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- generated

def _open_runs(runs: Mapping[str, Path | str]) -> dict[str, RunInfo]:
    """Lead first, then accompaniment; each run must have been trained on its part."""
    unknown = sorted(set(runs) - set(PARTS))
    if unknown:
        raise GenerationError(f"runs are given per part ({', '.join(PARTS)}), not {unknown}")
    infos = {part: open_run(runs[part]) for part in PARTS if runs.get(part)}
    if not infos:
        raise GenerationError("give a lead run, an accompaniment run, or both")
    for part, info in infos.items():
        if info.config.part != part:
            raise GenerationError(f"run {info.run_id} was trained on the {info.config.part}, "
                                  f"not the {part}")
    return infos


def _fits(piece: Piece, infos: Mapping[str, RunInfo]) -> bool:
    """Whether a piece can seed every run: each part present and at least a window long
    (a conditioned accompaniment with no lead run follows the piece's own lead)."""
    for part, info in infos.items():
        data = piece.part(part)
        n = info.config.window
        if data is None or any(len(data.stream(s)) < n for s in target_names(info.config)):
            return False
        if info.config.conditioned and LEAD not in infos and len(piece.lead.steps) <= n:
            return False
    return True


def seed_pieces(corpus: Corpus, infos: Mapping[str, RunInfo], n_pieces: int) -> list[Piece]:
    """`n_pieces` seeds taken from the held-out pieces in turn (all pieces when none is held
    out, as generate() does); only pieces long enough for every run's window are used."""
    candidates = [p for p in corpus.split("validation") or corpus.pieces if _fits(p, infos)]
    if not candidates:
        windows = {part: info.config.window for part, info in infos.items()}
        raise GenerationError(f"no piece of corpus {corpus.corpus_id} can seed windows {windows}")
    return [candidates[i % len(candidates)] for i in range(n_pieces)]


def generate_batch(infos: Mapping[str, RunInfo], models: Mapping[str, Any],
                   pieces: Sequence[Piece], steps: int, decoding: Decoding,
                   seed: int, method: str = "auto") -> list[dict[str, PartSymbols]]:
    """Seed window + `steps` generated symbols per part for every seed piece, each part in
    one batch through its model. As in generate(), each part draws from its own generator
    seeded with `seed`, and a conditioned accompaniment follows the generated lead (the
    piece's lead when no lead run is given), its length capped by that lead's."""
    out: dict[str, list[PartSymbols]] = {}
    for part, info in infos.items():
        config, n = info.config, info.config.window
        names = target_names(config)
        seeds = [{s: piece.part(part).stream(s)[:n] for s in names} for piece in pieces]
        seed_ids = {s: encode_seeds(info, s, [x[s] for x in seeds], n) for s in names}
        part_steps, lead = steps, None
        if config.conditioned:
            leads = ([lead_steps(p.symbols, p.model, p.chord_mode, config.chord_mode)
                      for p in out[LEAD]] if LEAD in out
                     else [piece.lead.steps for piece in pieces])
            part_steps = min(steps, min(len(x) for x in leads) - n)
            if part_steps < 1:
                raise GenerationError(f"run {info.run_id} is conditioned on the lead, which is "
                                      f"not longer than its window of {n}")
            lead = encode_seeds(info, "lead", leads, n + part_steps)
        ids = continue_ids(models[part], config, seed_ids, part_steps, decoding,
                           np.random.default_rng(seed), lead, method)
        out[part] = [PartSymbols({s: x[s] + info.vocabs[s].decode(ids[s][i]) for s in names},
                                 config.model, config.chord_mode)
                     for i, x in enumerate(seeds)]
    return [{part: out[part][i] for part in out} for i in range(len(pieces))]


def generated_metrics(runs: Mapping[str, Path | str], decodings: Sequence[Decoding],
                      n_pieces: int = 8, steps: int = 64, seed: int = 0,
                      cache_dir: Path | str = "cache",
                      index: NgramIndex | None = None, method: str = "auto") -> pd.DataFrame:
    """One row per generated piece: `n_pieces` per decoding, seeded from the held-out
    pieces in turn, each measured on its generated continuation only.

    The measured span runs from the end of the longest seed window to the end of the
    shorter part, so every note in it was generated. Each model is loaded once and all
    pieces of a decoding are generated in one batch, so a batch shares one random stream
    (`seed`): a row is reproduced by the same call, not by generate() alone.
    """
    if n_pieces < 1 or steps < 1:
        raise GenerationError(f"pieces and steps must be >= 1, got {n_pieces} and {steps}")
    if not decodings:
        raise GenerationError("give at least one decoding")
    for decoding in decodings:
        decoding.validate()
    from .training import corpus_for

    infos = _open_runs(runs)
    symbol_part = LEAD if LEAD in infos else ACCOMPANIMENT
    corpus = corpus_for(infos[symbol_part].config, cache_dir)
    if index is None:
        index = training_index(corpus, symbol_part,
                               main_stream(infos[symbol_part].config.model))
    pieces = seed_pieces(corpus, infos, n_pieces)
    models = {part: load_model(info) for part, info in infos.items()}
    run_ids = {f"{part}_run": infos[part].run_id if part in infos else "" for part in PARTS}
    rows = []
    for decoding in decodings:
        generated = generate_batch(infos, models, pieces, steps, decoding, seed, method)
        for i, (piece, parts) in enumerate(zip(pieces, generated)):
            start = max(p.time_at(infos[name].config.window) for name, p in parts.items())
            end = min(p.time_at(len(p.main)) for p in parts.values())
            rows.append({"decoding": decoding.label, "piece_index": i, "seed_piece": piece.name,
                         "seed": seed, **run_ids, **measure(parts, start, end, index)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- evaluation

def compare(generated: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """compare_distributions per decoding, as one flat table (decoding, metric, ...)."""
    metrics = [m for m in METRICS if m in generated.columns and m in reference.columns]
    tables = []
    for label, rows in generated.groupby("decoding", sort=False):
        table = compare_distributions(rows, reference, metrics).reset_index()
        tables.append(table.assign(decoding=label)[["decoding", *table.columns]])
    return pd.concat(tables, ignore_index=True)


def evaluation_folder(run_dir: Path | str) -> Path:
    """A new folder name for one evaluation under a run (created when written)."""
    return Path(run_dir) / "evaluation" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def evaluate(runs: Mapping[str, Path | str], decodings: Sequence[Decoding], n_pieces: int = 8,
             steps: int = 64, seed: int = 0, cache_dir: Path | str = "cache",
             out_dir: Path | str | None = None,
             method: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generated metrics and their comparison with the real held-out pieces, per decoding.

    The reference is each held-out piece's real continuation after the seed window, as long
    as a generated one (see reference_metrics). With `out_dir` (e.g. evaluation_folder of
    the lead run) generated.csv, reference.csv, comparison.csv and settings.json go there.
    """
    infos = _open_runs(runs)
    symbol_part = LEAD if LEAD in infos else ACCOMPANIMENT
    info = infos[symbol_part]
    from .training import corpus_for

    corpus = corpus_for(info.config, cache_dir)
    index = training_index(corpus, symbol_part, main_stream(info.config.model))
    generated = generated_metrics(runs, decodings, n_pieces, steps, seed, cache_dir, index,
                                  method)
    reference = reference_metrics(info, parts=tuple(infos), skip=info.config.window,
                                  steps=steps, cache_dir=cache_dir, index=index)
    comparison = compare(generated, reference)
    if out_dir is not None:
        settings = {"created": now_iso(), "runs": {p: i.run_id for p, i in infos.items()},
                    "decodings": [asdict(d) for d in decodings], "n_pieces": n_pieces,
                    "steps": steps, "seed": seed, "method": method,
                    "reference_pieces": len(reference)}
        write_evaluation(Path(out_dir), settings, generated=generated, reference=reference,
                         comparison=comparison)
    return generated, comparison


def write_evaluation(folder: Path, settings: dict[str, Any], **tables: pd.DataFrame) -> None:
    """CSV per table and settings.json last, so a folder with settings.json is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    write_json(folder / "settings.json", settings)


def read_evaluation(folder: Path | str) -> dict[str, Any]:
    """An evaluation's tables by name (generated, reference, comparison, and conditioning
    when written) plus its `settings` and `folder`."""
    folder = Path(folder)
    result: dict[str, Any] = {"folder": folder,
                              "settings": json.loads((folder / "settings.json").read_text())}
    for path in sorted(folder.glob("*.csv")):
        result[path.stem] = pd.read_csv(path)
    return result


def list_evaluations(run_dir: Path | str) -> list[Path]:
    """A run's complete evaluation folders, newest first."""
    folder = Path(run_dir) / "evaluation"
    return sorted((p.parent for p in folder.glob("*/settings.json")), reverse=True)


# --------------------------------------------------------------------------- conditioning

def best_held_out_loss(run_dir: Path | str) -> float:
    """The lowest val_loss in a run's history.csv; NaN when nothing was held out."""
    history = read_history(Path(run_dir))
    if "val_loss" not in history or history["val_loss"].dropna().empty:
        return float("nan")
    return float(history["val_loss"].min())


def conditioning_comparison(unconditioned: Mapping[str, Path | str],
                            conditioned: Mapping[str, Path | str],
                            decoding: Decoding = DEFAULT_CONDITIONING_DECODING,
                            n_pieces: int = 8, steps: int = 64, seed: int = 0,
                            cache_dir: Path | str = "cache", method: str = "auto") -> pd.DataFrame:
    """The thesis's independent lead + accompaniment pair beside a pair whose accompaniment
    reads the lead: one row per pair with the mean consonance of its generated pieces (lead
    onsets against the accompaniment) and its accompaniment's best held-out loss."""
    rows = []
    for name, pair, want in (("unconditioned", unconditioned, False),
                             ("conditioned", conditioned, True)):
        infos = _open_runs(pair)
        if set(infos) != set(PARTS):
            raise GenerationError(f"the {name} pair needs a lead and an accompaniment run")
        accompaniment = infos[ACCOMPANIMENT]
        if accompaniment.config.conditioned != want:
            raise GenerationError(f"run {accompaniment.run_id} is "
                                  f"{'' if accompaniment.config.conditioned else 'not '}"
                                  f"conditioned on the lead; the {name} pair needs one that is"
                                  f"{'' if want else ' not'}")
        pieces = generated_metrics(pair, [decoding], n_pieces, steps, seed, cache_dir,
                                   method=method)
        rows.append({"pair": name, "lead_run": infos[LEAD].run_id,
                     "accompaniment_run": accompaniment.run_id, "conditioned": want,
                     "decoding": decoding.label, "pieces": len(pieces),
                     "consonance_mean": pieces["consonance"].mean(),
                     "consonance_std": pieces["consonance"].std(),
                     "consonance_measured": int(pieces["consonance"].notna().sum()),
                     "best_val_loss": best_held_out_loss(accompaniment.path)})
    return pd.DataFrame(rows)


def describe_conditioning(table: pd.DataFrame) -> str:
    """One sentence read off a conditioning_comparison table: which pair is more consonant
    and which accompaniment has the lower best held-out loss, with the numbers; a gap smaller
    than the spread between pieces (the larger consonance std) is said to be one."""
    rows = {row["pair"]: row for row in table.to_dict("records")}
    if not {"unconditioned", "conditioned"} <= set(rows):
        raise ValueError("the table needs an 'unconditioned' and a 'conditioned' row")
    plain, cond = rows["unconditioned"], rows["conditioned"]

    def number(row: Mapping[str, Any], key: str) -> float:
        try:
            return float(row.get(key))
        except (TypeError, ValueError):
            return float("nan")

    u, c = number(plain, "consonance_mean"), number(cond, "consonance_mean")
    if u != u or c != c:
        missing = " and ".join(n for n, v in (("unconditioned", u), ("conditioned", c)) if v != v)
        consonance = (f"Consonance could not be measured for the {missing} pair (no lead onset "
                      "over a sounding accompaniment)")
    elif abs(u - c) < 5e-4:
        consonance = f"Both pairs are equally consonant ({u:.3f})"
    else:
        better, high, low = ("conditioned", c, u) if c > u else ("unconditioned", u, c)
        consonance = (f"The {better} pair is more consonant ({high:.3f} vs {low:.3f} of lead "
                      "onsets consonant with the accompaniment)")
        spreads = [s for s in (number(plain, "consonance_std"), number(cond, "consonance_std"))
                   if s == s]
        if spreads and high - low < max(spreads):
            consonance += f", a gap smaller than the spread between pieces (std {max(spreads):.3f})"
    u, c = number(plain, "best_val_loss"), number(cond, "best_val_loss")
    if u != u or c != c:
        loss = "held-out losses cannot be compared (a run held nothing out)"
    elif abs(u - c) < 5e-4:
        loss = f"both accompaniments reach the same best held-out loss ({u:.3f})"
    else:
        better, low, high = ("conditioned", c, u) if c < u else ("unconditioned", u, c)
        loss = (f"the {better} accompaniment has the lower best held-out loss "
                f"({low:.3f} vs {high:.3f})")
    return f"{consonance}; {loss}."
