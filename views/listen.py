"""Listen: generate from a lead and/or an accompaniment run, compare decodings side by side,
and judge them on many pieces against the real held-out music.

Generation, rendering, metrics and evaluation are core's; this page collects the runs, the
decodings and the seed shared by its three tabs and calls their sections: side by side
(views/listen_samples.py), corpus-level evaluation (views/listen_evaluation.py) and
conditioned vs unconditioned accompaniment (views/listen_conditioning.py, shown only when a
conditioned accompaniment run exists). The decodings and method are views/listen_decodings.py.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs.listing import run_labels
from core.runs.record import Run
from views.common import load_runs_table, runs_dir, show_no_runs
from views.listen_conditioning import conditioning_section, is_conditioned
from views.listen_decodings import decodings_form
from views.listen_evaluation import evaluation_section
from views.listen_samples import side_by_side

NONE = "none"
USABLE_STATES = ("finished", "running", "cancelled", "killed")


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with saved weights (at least one finished epoch), newest first."""
    root = runs_dir()
    ok = runs["state"].isin(USABLE_STATES) & runs["run_id"].map(lambda r: Run(root / r).has_model)
    return runs[ok].sort_values("run_id", ascending=False)


def run_names(runs: pd.DataFrame) -> dict[str, str]:
    """run_labels plus what the run id does not say: conditioning, sequence objective."""
    labels = run_labels(runs)
    for _, row in runs.iterrows():
        notes = [text for text, on in
                 (("conditioned on the lead", is_conditioned(row.get("conditioned"))),
                  ("sequence objective", row.get("objective") == "sequence")) if on]
        if notes:
            labels[row["run_id"]] = f"{labels[row['run_id']]} · {', '.join(notes)}"
    return labels


def run_pickers(usable: pd.DataFrame, labels: dict[str, str]) -> dict[str, str]:
    """A run for each part (the newest by default, or none): {part: run id} of those chosen."""
    st.caption("The thesis trains the lead and the accompaniment separately and plays them "
               "together: pick a run for each part (or just one).")
    chosen = {}
    for column, (title, part) in zip(st.columns(2), (("Lead run", "lead"),
                                                     ("Accompaniment run", "accompaniment"))):
        ids = usable[usable["part"] == part]["run_id"].tolist()
        run = column.selectbox(title, [NONE, *ids], index=1 if ids else 0, key=f"listen_{part}",
                               format_func=lambda r: "none" if r == NONE else labels.get(r, r),
                               help=f"a run trained on the {part} part")
        if run != NONE:
            chosen[part] = run
    if not chosen:
        st.warning("Choose a lead run, an accompaniment run, or both.")
    return chosen


def main() -> None:
    st.title("Listen")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    usable = usable_runs(runs)
    if usable.empty:
        st.info("No run has saved weights yet: wait for the first epoch of a run on the "
                "**Train** page, then come back.", icon=":material/hourglass_empty:")
        return
    labels = run_names(runs)
    chosen = run_pickers(usable, labels)
    decodings, errors, seed = decodings_form()
    has_conditioned = ("conditioned" in usable and usable[usable["part"] == "accompaniment"]
                       ["conditioned"].map(is_conditioned).any())
    titles = ["Side by side", "Corpus-level evaluation"]
    if has_conditioned:
        titles.append("Conditioned vs unconditioned accompaniment")
    tabs = st.tabs(titles)
    with tabs[0]:
        side_by_side(runs, chosen, labels, decodings, errors, seed)
    with tabs[1]:
        evaluation_section(chosen, labels, decodings, errors, seed)
    if has_conditioned:
        with tabs[2]:
            conditioning_section(usable, chosen, labels, decodings, seed)


main()
