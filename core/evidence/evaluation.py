"""Evidence: music metrics of generated pieces beside the same metrics of real held-out pieces.

The thesis judged its output by ear and by training accuracy alone. Here each decoding
generates several pieces from held-out seeds (one batch through generation's one path,
`generate_parts`), each piece is measured with `core.evidence.metrics.piece_metrics` on what
the model generated (the seed window left out, since it is the corpus's music, not the
model's), the real held-out pieces are measured the same way, and the two distributions are
compared per metric (Yang & Lerch's overlapping area).

Results are written as CSV under the lead run, evaluation/<timestamp>/, for the dashboard.
`evaluate` opens the runs and their corpus once and hands both down: the generation
(`measured_generation`), the training pieces' n-grams and the reference
(`measured_reference`) all read the same objects.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from core.data.corpus import ACCOMPANIMENT, LEAD, PARTS, Corpus, Piece
from core.data.prepare import corpus_for
from core.data.timeline import PartSymbols
from core.evidence.distributions import compare_distributions
from core.evidence.measure import METRICS, measure, training_index
from core.evidence.ngrams import NgramIndex
from core.files import folder_stamp, now_iso, write_bytes, write_json
from core.nets.config import TrainConfig
from core.nets.windows import target_names
from core.runs.record import Run, open_run
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import generate_parts, load_model, open_part_runs
from core.sampling.seeds import seed_pieces

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what comes next)


def _source(source: Corpus | Run | Path | str, cache_dir: Path | str) -> tuple[Corpus, TrainConfig]:
    """(corpus, the settings it is read with): a run's own encoding, or Model 1 in the
    corpus's chord mode for a bare corpus."""
    if isinstance(source, Corpus):
        return source, TrainConfig(model=1, chord_mode=source.settings.get("chord_mode",
                                                                            "pitch_class"))
    run = source if isinstance(source, Run) else open_run(source)
    return corpus_for(run.config, cache_dir), run.config


def reference_metrics(source: Corpus | Run | Path | str, split: str = "validation",
                      parts: Sequence[str] = PARTS, skip: int = 0, steps: int | None = None,
                      cache_dir: Path | str = "cache",
                      index: NgramIndex | None = None,
                      pieces: Sequence[Piece] | None = None) -> pd.DataFrame:
    """`measured_reference` of a run's corpus, in the run's encoding (Model 1 steps or
    Model 2 pitch + duration), or of a bare Corpus in Model 1 steps; the training pieces'
    n-grams (`index`) are built here when not given."""
    corpus, config = _source(source, cache_dir)
    if index is None:
        index = training_index(corpus, parts[0], target_names(config)[0])
    return measured_reference(corpus, config, index, split, parts, skip, steps, pieces)


def measured_reference(corpus: Corpus, config: TrainConfig, index: NgramIndex | None,
                       split: str = "validation", parts: Sequence[str] = PARTS,
                       skip: int = 0, steps: int | None = None,
                       pieces: Sequence[Piece] | None = None) -> pd.DataFrame:
    """One row per piece of `split` (its name in `piece`) with the metrics of the real music,
    read in `config`'s encoding; `pieces` measures those pieces of the corpus instead.

    The first of `parts` gives the symbols tested for loops and copying, against the
    training pieces (`index`). Pieces lacking one of `parts` are left out, as generation
    cannot seed from them. `skip` and `steps` (symbols of that first part) measure an
    excerpt instead of the whole piece: with the seed window and the generated length, the
    real continuation of each seed, as long as a generated one, so length-bound metrics
    compare fairly.
    """
    rows = []
    for piece in corpus.split(split) if pieces is None else pieces:
        if any(piece.part(p) is None for p in parts):
            continue
        data, start, end = real_span(piece, parts, config, skip, steps)
        rows.append({"piece": piece.name, **measure(data, start, end, index)})
    return pd.DataFrame(rows)


def real_span(piece: Piece, parts: Sequence[str], config: TrainConfig, skip: int = 0,
              steps: int | None = None) -> tuple[dict[str, PartSymbols], float, float]:
    """A piece's parts in `config`'s encoding and the span (quarters) of its real music from
    symbol `skip` of the first part, `steps` symbols on (to its end where it is shorter;
    the whole piece when `steps` is None)."""
    streams = target_names(config)
    data = {p: PartSymbols({s: piece.part(p).stream(s) for s in streams}, config.model,
                           config.chord_mode) for p in parts}
    first = data[parts[0]]
    end = (max(p.time_at(len(p.main)) for p in data.values()) if steps is None
           else first.time_at(skip + steps))
    return data, first.time_at(skip), end


def symbol_part(infos: Mapping[str, Run]) -> str:
    """The part whose symbols are tested for loops and copying: the lead when there is one."""
    return LEAD if LEAD in infos else ACCOMPANIMENT


def generated_metrics(runs: Mapping[str, Path | str], decodings: Sequence[Decoding],
                      n_pieces: int = 8, steps: int = 64, seed: int = 0,
                      cache_dir: Path | str = "cache", method: str = "auto",
                      progress: Progress | None = None) -> pd.DataFrame:
    """`measured_generation` of runs given by their directories: they are opened and their
    corpus and training n-grams read here."""
    infos = open_part_runs(runs)
    config = infos[symbol_part(infos)].config
    corpus = corpus_for(config, cache_dir)
    index = training_index(corpus, symbol_part(infos), target_names(config)[0])
    return measured_generation(infos, corpus, index, decodings, n_pieces, steps, seed,
                               method, progress)


def measured_generation(infos: Mapping[str, Run], corpus: Corpus, index: NgramIndex | None,
                        decodings: Sequence[Decoding], n_pieces: int = 8, steps: int = 64,
                        seed: int = 0, method: str = "auto", progress: Progress | None = None,
                        pieces: Sequence[Piece] | None = None) -> pd.DataFrame:
    """One row per generated piece: `n_pieces` per decoding, seeded from the held-out
    pieces of `corpus` in turn (or from each of `pieces` once), each measured on its
    generated continuation only. `progress` hears (decodings done, decodings in all, the
    next one's title) before each decoding.

    The measured span runs from the end of the longest seed window to the end of the
    shorter part, so every note in it was generated, and lasts no longer than the seed
    piece's own real continuation (`real_span` of `steps` symbols after the window): a
    piece that ends sooner is compared at its length, as the reference measures it. Each
    model is loaded once and all pieces of a decoding are generated in one batch, so a
    batch shares one random stream (`seed`): a row is reproduced by the same call, not by
    generate() alone.
    """
    if n_pieces < 1 or steps < 1:
        raise GenerationError(f"pieces and steps must be >= 1, got {n_pieces} and {steps}")
    if not decodings:
        raise GenerationError("give at least one decoding")
    for decoding in decodings:
        decoding.validate()
    config = infos[symbol_part(infos)].config
    pieces = seed_pieces(corpus, infos, n_pieces) if pieces is None else list(pieces)
    models = {part: load_model(info) for part, info in infos.items()}
    run_ids = {f"{part}_run": infos[part].run_id if part in infos else "" for part in PARTS}
    rows = []
    for done, decoding in enumerate(decodings):
        if progress:
            progress(done, len(decodings), f"generating {len(pieces)} pieces with "
                                           f"{decoding.title}")
        generated = generate_parts(infos, models, pieces, steps, decoding, seed, method)
        for i, (piece, parts) in enumerate(zip(pieces, generated)):
            start = max(p.time_at(infos[name].config.window) for name, p in parts.items())
            _, real_start, real_end = real_span(piece, tuple(infos), config, config.window,
                                                steps)
            end = min(min(p.time_at(len(p.main)) for p in parts.values()),
                      start + real_end - real_start)
            rows.append({"decoding": decoding.label, "piece_index": i, "seed_piece": piece.name,
                         "seed": seed, **run_ids, **measure(parts, start, end, index)})
    if progress:
        progress(len(decodings), len(decodings), "measuring the held-out pieces")
    return pd.DataFrame(rows)


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
    return Path(run_dir) / "evaluation" / folder_stamp(fine=True)


def evaluate(runs: Mapping[str, Path | str], decodings: Sequence[Decoding], n_pieces: int = 8,
             steps: int = 64, seed: int = 0, cache_dir: Path | str = "cache",
             out_dir: Path | str | None = None, method: str = "auto",
             progress: Progress | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generated metrics and their comparison with the real held-out pieces, per decoding
    (`progress`: see generated_metrics).

    The reference is each held-out piece's real continuation after the seed window, as long
    as a generated one (see reference_metrics). With `out_dir` (e.g. evaluation_folder of
    the lead run) generated.csv, reference.csv, comparison.csv and settings.json go there.
    """
    infos = open_part_runs(runs)
    config = infos[symbol_part(infos)].config
    corpus = corpus_for(config, cache_dir)
    index = training_index(corpus, symbol_part(infos), target_names(config)[0])
    generated = measured_generation(infos, corpus, index, decodings, n_pieces, steps, seed,
                                    method, progress)
    reference = measured_reference(corpus, config, index, parts=tuple(infos),
                                   skip=config.window, steps=steps)
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
        write_bytes(folder / f"{name}.csv", table.to_csv(index=False).encode())
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
    """A run's complete evaluation folders, newest first. One whose settings.json does not
    read (damaged) is left out, so the run counts as not evaluated and is evaluated again."""
    folder = Path(run_dir) / "evaluation"
    return sorted((p.parent for p in folder.glob("*/settings.json") if _readable(p)),
                  reverse=True)


def _readable(settings: Path) -> bool:
    try:
        return isinstance(json.loads(settings.read_text()), dict)
    except (OSError, ValueError):
        return False
