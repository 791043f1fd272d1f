"""The thesis's independent lead + accompaniment pair beside a pair whose accompaniment reads
the lead: consonance of the generated pieces and held-out loss, and one sentence about them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core.data.corpus import ACCOMPANIMENT, LEAD, PARTS
from core.evidence.evaluation import generated_metrics
from core.runs.record import Run
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import open_part_runs

DEFAULT_CONDITIONING_DECODING = Decoding("temperature", temperature=0.65)  # the thesis's example


def best_held_out_loss(run_dir: Path | str) -> float:
    """The lowest val_loss in a run's history.csv; NaN when nothing was held out."""
    history = Run(run_dir).history
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
        infos = open_part_runs(pair)
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
