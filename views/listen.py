"""Listen: generate from a lead and/or an accompaniment run, compare decodings side by side,
and judge them on many pieces against the real held-out music.

Generation, rendering, metrics and evaluation are core's; this page collects the runs, the
decodings and the seed shared by its three tabs and calls their sections: side by side
(views/listen_samples.py), corpus-level evaluation (views/listen_evaluation.py) and
conditioned vs unconditioned accompaniment (views/listen_conditioning.py, shown only when a
conditioned accompaniment run exists). The decodings and method are views/listen_decodings.py.
Every choice is kept when the user goes to another page and back, and in the address for a
reload (views.common.KEEP), as are the samples just generated (views/listen_samples.py).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from views.common import (
    KEEP,
    is_conditioned,
    load_runs_table,
    run_names,
    show_no_runs,
    usable_runs,
)
from views.listen_conditioning import conditioning_section
from views.listen_decodings import decodings_form
from views.listen_evaluation import evaluation_section
from views.listen_samples import side_by_side

NONE = "none"


def run_pickers(usable: pd.DataFrame, labels: dict[str, str]) -> dict[str, str]:
    """A run for each part (the newest by default, or none): {part: run id} of those chosen.
    The choice is kept across pages and in the address (views.common.KEEP)."""
    st.caption("The thesis trains the lead and the accompaniment separately and plays them "
               "together: pick a run for each part (or just one).")
    chosen = {}
    for column, (title, part) in zip(st.columns(2), (("Lead run", "lead"),
                                                     ("Accompaniment run", "accompaniment"))):
        ids = usable[usable["part"] == part]["run_id"].tolist()
        run = column.selectbox(title, [NONE, *ids], index=1 if ids else 0, key=f"listen_{part}",
                               format_func=lambda r: "none" if r == NONE else labels.get(r, r),
                               help=f"a run trained on the {part} part", **KEEP)
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
    models = usable.set_index("run_id")["model"]
    decodings, errors, seed = decodings_form(
        model2=any(pd.to_numeric(models.get(r), errors="coerce") == 2 for r in chosen.values()))
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
