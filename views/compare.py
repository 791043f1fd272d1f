"""Compare: the runs table, training curves of the chosen runs, Tables 2/3, the LSTM vs GRU
verdict, the defense report and hyperparameters.

Every number and curve is read from the runs' own files through core; the sections live in
views/compare_runs.py (table and selection), views/compare_curves.py (curves, seed groups,
Tables 2/3) and views/compare_evidence.py (verdict, report, hyperparameters). This page
arranges them. The runs ticked and every view option are kept across page changes and in
the address (views.common.KEEP), so a reload or a copied link opens on the same runs.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs.listing import run_labels
from core.runs.status import ACTIVE
from views.common import KEEP, load_runs_table, show_no_runs
from views.compare_curves import curves
from views.compare_evidence import parallel_view, report_view, verdict_view
from views.compare_runs import SELECTED, runs_picker

REFRESH_SECONDS = 3


def plotted_runs(runs: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """The "Runs to plot" picker: empty until runs are ticked in the table or chosen here,
    so what is drawn is always what the user picked. Drawn before the table (which shows
    it ticked): on a reload Streamlit fills it from the address only when it is drawn."""
    known = runs["run_id"].tolist()
    if SELECTED in st.session_state:  # runs deleted since are dropped quietly
        st.session_state[SELECTED] = [r for r in st.session_state[SELECTED] if r in known]
    return st.multiselect("Runs to plot", known, key=SELECTED,
                          format_func=lambda r: labels.get(r, r),
                          placeholder="tick rows in the table above, or choose runs", **KEEP)


def main() -> None:
    st.title("Compare runs")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    labels = run_labels(runs)
    table = st.container()
    selected = plotted_runs(runs, labels)
    with table:
        filtered = runs_picker(runs)
    if not selected:
        st.info("Tick the runs to compare in the table above (or choose them here): their "
                "curves, Tables 2 and 3, the verdict and the report follow your selection. "
                "Lead and accompaniment runs are drawn apart, as their numbers measure "
                "different music.", icon=":material/check_box:")
    elif runs[runs["run_id"].isin(selected)]["state"].isin(ACTIVE).any():
        st.caption(f"A selected run is training: its curves refresh every "
                   f"{REFRESH_SECONDS} s.")
        st.fragment(run_every=REFRESH_SECONDS)(curves)(selected, runs, labels, True)
    else:
        curves(selected, runs, labels, False)
    verdict_view(selected)
    report_view(selected)
    parallel_view(filtered)


main()
