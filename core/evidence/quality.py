"""How close generated music comes to its corpus, next to what a perfect model would reach.

The held-out pieces are split into two halves, seeds and reference (seeded, alternate
pieces of a shuffle). Each decoding continues every seed piece once; each metric's
distribution over those continuations is compared with the reference half's real
continuations of the same length (Yang & Lerch's overlapping area, core.evidence.
distributions). The ceiling is the same comparison with the seed half's own real
continuations in place of generated ones: two samples of the corpus's music, of the very
sizes compared, which a model that composed exactly like the corpus would match on average.
A raw overlap is only meaningful against it: with a few dozen pieces a side even Bach
against Bach overlaps well short of 1, and a metric whose ceiling is low (its halves barely
agree) is too noisy to judge by (NOISY_CEILING).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from core.data.corpus import LEAD, Corpus, Piece
from core.data.prepare import corpus_for
from core.evidence.distributions import compare_distributions
from core.evidence.evaluation import compare, measured_generation, measured_reference
from core.evidence.measure import METRICS, training_index
from core.nets.windows import target_names
from core.runs.record import open_run
from core.sampling.decoding import Decoding
from core.sampling.seeds import seed_pieces

# The musical metrics a model is judged by (goal: within 90% of the ceiling); the others
# are reported. Novelty and memorisation measure copying, not closeness to the corpus.
JUDGED = ("pitch_range", "n_pitch_classes_used", "pitch_class_entropy", "scale_consistency",
          "groove_consistency", "loop_share", "longest_repeated_suffix")
NOISY_CEILING = 0.6  # halves of real music overlapping less than this: too noisy to judge by


def halves(pieces: Sequence[Piece], seed: int = 0) -> tuple[list[Piece], list[Piece]]:
    """(seed half, reference half) of the pieces: a seeded shuffle dealt out alternately."""
    shuffled = sorted(pieces, key=lambda p: p.name)
    random.Random(seed).shuffle(shuffled)
    return shuffled[0::2], shuffled[1::2]


def quality(runs: Mapping[str, Path | str], decodings: Sequence[Decoding], steps: int = 128,
            cache_dir: Path | str = "cache", seed: int = 0) -> pd.DataFrame:
    """Per decoding and metric: the overlap of generated continuations with the reference
    half, the ceiling (the seed half's real continuations against the same reference),
    the overlap as a share of the ceiling, and the means of each sample. One row per
    (decoding, metric); `judged` marks JUDGED metrics, `noisy` a ceiling below
    NOISY_CEILING."""
    infos = {part: open_run(path) for part, path in runs.items()}
    first = infos[LEAD] if LEAD in infos else next(iter(infos.values()))
    corpus: Corpus = corpus_for(first.config, cache_dir)
    usable = seed_pieces(corpus, infos, len(corpus.split("validation")))
    seeds, reference = halves(list({p.name: p for p in usable}.values()), seed)
    index = training_index(corpus, first.config.part, target_names(first.config)[0])
    parts, window = tuple(infos), first.config.window
    real = {name: measured_reference(corpus, first.config, index, parts=parts, skip=window,
                                     steps=steps, pieces=half)
            for name, half in (("seeds", seeds), ("reference", reference))}
    metrics = [m for m in METRICS if m in real["reference"]]
    ceiling = compare_distributions(real["seeds"], real["reference"], metrics)
    generated = measured_generation(infos, corpus, index, decodings, steps=steps, seed=seed,
                                    pieces=seeds)
    table = compare(generated, real["reference"])
    table["ceiling"] = table["metric"].map(ceiling["overlapping_area"])
    table["share_of_ceiling"] = table["overlapping_area"] / table["ceiling"]
    table["real_mean"] = table["metric"].map(ceiling["generated_mean"])
    table["judged"] = table["metric"].isin(JUDGED)
    table["noisy"] = table["ceiling"] < NOISY_CEILING
    table.attrs.update(seed_pieces=len(seeds), reference_pieces=len(reference), steps=steps)
    return table

