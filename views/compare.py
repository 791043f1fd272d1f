"""Compare: the runs table, training curves of the chosen runs, Tables 2/3, the LSTM vs GRU
verdict, the defense report and hyperparameters.

Every number and curve is read from the runs' own files through core; the sections live in
views/compare_runs.py (table and selection), views/compare_curves.py (curves, seed groups,
Tables 2/3) and views/compare_evidence.py (verdict, report, hyperparameters). This page
arranges them, and keeps the runs ticked and every view option across page changes and
reloads (views.common.restore_choices; the selection also in the address, ?runs=).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs.listing import run_labels
from core.runs.status import ACTIVE
from views.common import load_runs_table, remember_choices, restore_choices, show_no_runs
from views.compare_curves import VIEW_KEYS, curves
from views.compare_evidence import VERDICT_KEYS, parallel_view, report_view, verdict_view
from views.compare_runs import (
    FILTERS,
    SELECTED,
    runs_picker,
    show_in_address,
    start_selection,
)

REFRESH_SECONDS = 3
PAGE = "compare"
# What a page change or a reload keeps: the runs ticked, the table's filters and sort,
# and the curves' and the verdict's options.
KEPT = (SELECTED, *(f"compare_filter_{c}" for c, _ in FILTERS), "compare_sort",
        "compare_desc", *VIEW_KEYS, *VERDICT_KEYS)


def _still_there(runs: pd.DataFrame):
    """restore_choices' cleaner: the kept keys only, without runs deleted since."""
    known = set(runs["run_id"])

    def clean(saved: dict) -> dict:
        kept = {k: v for k, v in saved.items() if k in KEPT}
        if SELECTED in kept:
            kept[SELECTED] = [r for r in kept[SELECTED] if r in known]
        return kept
    return clean


def plotted_runs(runs: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """The "Runs to plot" picker: empty until runs are ticked in the table or chosen here,
    so what is drawn is always what the user picked."""
    known = runs["run_id"].tolist()
    st.session_state[SELECTED] = [r for r in st.session_state.get(SELECTED, []) if r in known]
    return st.multiselect("Runs to plot", known, key=SELECTED,
                          format_func=lambda r: labels.get(r, r),
                          placeholder="tick rows in the table above, or choose runs")


def main() -> None:
    st.title("Compare runs")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    start_selection(runs)
    restore_choices(PAGE, _still_there(runs))
    labels = run_labels(runs)
    filtered = runs_picker(runs)
    selected = plotted_runs(runs, labels)
    show_in_address(selected)
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
    remember_choices(PAGE, KEPT)


main()
