"""Compare page, evidence sections: the LSTM vs GRU verdict over the whole runs folder, the
defense report of the plotted runs, and the filtered runs' hyperparameters against their
best loss.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from core.evidence.curves import HELD_OUT
from core.evidence.tables import HYPERPARAMETERS, hyperparameter_frame
from core.evidence.verdict import TOO_FEW, verdict_table
from core.outputs.figures import parallel_figure, split_constant
from core.outputs.report import build_report, zip_report
from core.runs.record import RunError
from views.common import reports_dir, runs_dir, runs_signature
from views.compare_runs import settings_table

REPORT_KEY = "compare_report"        # the last defense report built: folder, zip, PDF
VERDICT_SHOWN = ["comparison", "verdict", "model", "part", "layers", "lstm_units", "gru_units",
                 "lstm_params", "gru_params", "lstm_n", "gru_n", "lstm_mean", "gru_mean",
                 "difference", "ci_low", "ci_high", "p_value"]


@st.cache_data(show_spinner=False, max_entries=8)
def _verdict(root: str, signature: tuple) -> pd.DataFrame:
    """core.evidence.verdict.verdict_table of the whole runs folder, cached on its
    signature."""
    return verdict_table(settings_table())


# --------------------------------------------------------------------------- verdict

def _verdict_where(row: pd.Series, varying: list[str]) -> str:
    where = [f"model {row['model']} {row['part']}", f"{row['layers']} layer(s)"]
    where += [f"{c.replace('_', ' ')} {row[c]}" for c in varying]
    return ", ".join(where)


def verdict_view() -> None:
    """LSTM vs GRU per setting over the whole runs folder (core.evidence.verdict.verdict_table)."""
    st.subheader("Verdict: LSTM vs GRU")
    root = runs_dir()
    table = _verdict(str(root.resolve()), runs_signature(root))
    how = ("Queue them with **Fair LSTM vs GRU** on the **Train** page (it queues the LSTM, "
           "the GRU at equal units and the GRU at equal parameters, 3 seeds each), or give "
           "**Seeds (k)** ≥ 2 to one setting there.")
    if table.empty:
        st.info("No LSTM/GRU pair to judge yet: a verdict needs finished LSTM and GRU runs of "
                "an otherwise identical setting, at equal units or equal parameters, with at "
                "least 2 seeds each. " + how, icon=":material/balance:")
        return
    st.caption(
        "Every GRU setting is set against the LSTM setting that is otherwise identical, in "
        "two ways. **Equal units** is the thesis's comparison: the GRU has 3 gates to the "
        "LSTM's 4, so at the same width it has about ¾ of the parameters and is also a "
        "smaller model. **Equal parameters** widens the GRU until its parameter count "
        "matches the LSTM's, so a difference is the cell's and not the size's. Each seed "
        "contributes its best held-out loss (lower is better); the words come from the 95% "
        "confidence interval of GRU − LSTM (Welch): 'LSTM better' or 'GRU better' only when "
        "the whole interval lies on one side of zero, otherwise 'difference within noise'.")
    shared = [c for c in table.columns if c not in VERDICT_SHOWN and c != "sentence"]
    varying = [c for c in shared if table[c].astype(str).nunique() > 1]
    shown = table[[c for c in VERDICT_SHOWN[:5] if c in table] + varying
                  + [c for c in VERDICT_SHOWN[5:] if c in table]]
    number = st.column_config.NumberColumn
    st.dataframe(shown, hide_index=True, width="stretch", key="compare_verdict_table",
                 column_config={
                     "comparison": st.column_config.TextColumn("comparison", pinned=True),
                     "verdict": st.column_config.TextColumn("verdict", pinned=True),
                     "lstm_units": number("LSTM units"), "gru_units": number("GRU units"),
                     "lstm_params": number("LSTM params", format="localized"),
                     "gru_params": number("GRU params", format="localized"),
                     "lstm_n": number("LSTM n", help="seeds with a best held-out loss"),
                     "gru_n": number("GRU n", help="seeds with a best held-out loss"),
                     "lstm_mean": number("LSTM mean", format="%.4f"),
                     "gru_mean": number("GRU mean", format="%.4f"),
                     "difference": number("GRU − LSTM", format="%+.4f"),
                     "ci_low": number("95% CI low", format="%+.4f"),
                     "ci_high": number("95% CI high", format="%+.4f"),
                     "p_value": number("Welch p", format="%.3g")})
    for _, row in table.iterrows():
        sentence, _, words = str(row["sentence"]).rpartition(": ")
        st.markdown(f"- **{row['comparison']}**, {_verdict_where(row, varying)}, LSTM "
                    f"{row['lstm_units']} vs GRU {row['gru_units']} units: {sentence}: "
                    f"**{words}**")
    too_few = int((table["verdict"] == TOO_FEW).sum())
    if too_few:
        st.info(f"{too_few} of {len(table)} comparison(s) have too few seeds for an interval "
                "(2 finished runs with a held-out loss on each side). " + how,
                icon=":material/balance:")


# --------------------------------------------------------------------------- report

def report_view(selected: list[str]) -> None:
    """Build core.report.build_report of the selected runs and offer it as a zip."""
    st.subheader("Defense report")
    st.caption("One folder that opens anywhere, offline: each run's settings, Tables 2 and 3 "
               "from the histories, the curves, the verdict, music metrics and samples "
               f"(report.html, and report.pdf when Chromium can print it), under "
               f"`{reports_dir()}`.")
    left, right = st.columns([1, 2], vertical_alignment="center")
    pdf = right.checkbox("Also print a PDF (headless Chromium, a few seconds)", value=True,
                         key="compare_report_pdf")
    if left.button(f"Build the report of the {len(selected)} plotted run(s)",
                   key="compare_report_build", type="primary", disabled=not selected,
                   width="stretch"):
        out = reports_dir() / f"report-{datetime.now():%Y%m%d-%H%M%S}"
        try:
            with st.spinner(f"Writing the report of {len(selected)} run(s)"
                            + (" and printing its PDF…" if pdf else "…")):
                result = build_report(selected, out, pdf=pdf, runs_root=runs_dir())
                data = zip_report(out)
        except (RunError, OSError) as exc:
            st.session_state.pop(REPORT_KEY, None)
            st.error(f"No report: {exc}")
        else:
            st.session_state[REPORT_KEY] = {
                "folder": str(out), "zip": data, "runs": list(selected),
                "pdf": str(result["pdf"]) if "pdf" in result else None,
                "pdf_skipped": result.get("pdf_skipped")}
    report = st.session_state.get(REPORT_KEY)
    if not report:
        if not selected:
            st.caption("Select runs above to build their report.")
        return
    folder = Path(report["folder"])
    st.success(f"Report of {len(report['runs'])} run(s) written to `{folder}`.")
    if report["pdf"]:
        st.caption(f"The PDF was made: `{Path(report['pdf']).name}` is in the zip.")
    else:
        st.caption(f"No PDF: {report['pdf_skipped']}. The zip holds report.html, which "
                   "prints from any browser.")
    st.download_button(f"Download {folder.name}.zip ({len(report['zip']) / 1e6:.1f} MB)",
                       report["zip"], file_name=f"{folder.name}.zip", mime="application/zip",
                       key="compare_report_download", on_click="ignore",
                       icon=":material/download:")


def parallel_view(runs: pd.DataFrame) -> None:
    """The filtered runs' settings against their best loss, as parallel coordinates."""
    st.subheader("Hyperparameters against best loss")
    frame = hyperparameter_frame(runs)
    if frame.empty:
        st.info("No run in the table has finished an epoch yet.")
        return
    models = sorted(frame["model"].dropna().unique().astype(int).tolist())
    if len(models) > 1:
        model = st.radio("Model", models, horizontal=True, key="compare_parallel_model",
                         help="Model 2's loss adds two heads: the models are not comparable")
        frame = frame[frame["model"] == model]
    varying, constant = split_constant(frame, HYPERPARAMETERS)
    fig = parallel_figure(frame, varying)
    st.plotly_chart(fig, key="compare_parallel_chart", theme=None)
    held = (frame["loss_split"] == HELD_OUT).all()
    st.caption(f"{len(frame)} runs of the table (filters apply). Best loss is the lowest "
               + ("held-out loss." if held else "held-out loss, or training loss for runs "
                  "that held nothing out.")
               + (f" The same in every run: {', '.join(constant)}." if constant else "")
               + " Drag along an axis to pick a range.")
