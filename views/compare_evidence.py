"""Compare page, evidence sections: the LSTM vs GRU verdict over the selected runs (or the
whole runs folder when asked), the defense report of the plotted runs (evaluating those that
have no evaluation yet, with progress), and the filtered runs' hyperparameters against their
best loss, one model and part at a time.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.curves import HELD_OUT
from core.evidence.evaluation import evaluate, evaluation_folder, list_evaluations
from core.evidence.tables import HYPERPARAMETERS, hyperparameter_frame
from core.evidence.verdict import (
    JUDGED_METRICS,
    METRIC_WORDS,
    TOO_FEW,
    described,
    readable_verdict,
    verdict_tables,
)
from core.folders import new_report_dir
from core.outputs.figures import parallel_figure, split_constant, verdict_figure
from core.outputs.report import build_report
from core.outputs.report.pdf import zip_report
from core.runs.listing import runs_signature
from core.runs.record import Run, RunError
from core.sampling.decoding import Decoding, GenerationError
from views.common import (
    KEEP,
    MISSING,
    cache_dir,
    reports_dir,
    runs_dir,
    settings_table,
)

REPORT_KEY = "compare_report"        # the last defense report built: folder, zip, PDF
VERDICT_ALL = "compare_verdict_all"  # toggle: judge every run in the folder
VERDICT_METRIC = "compare_verdict_metric"  # what each seed contributes
# What "Evaluate" runs for a report: the thesis's two decodings on a few held-out pieces.
REPORT_DECODINGS = (Decoding("greedy"), Decoding("temperature", temperature=0.65))
REPORT_PIECES, REPORT_STEPS = 8, 64


@st.cache_data(show_spinner=False, max_entries=8)
def _verdicts(root: str, signature: tuple,
              run_ids: tuple[str, ...] | None) -> dict[str, pd.DataFrame]:
    """core.evidence.verdict.verdict_tables of the given runs (None: the whole runs folder),
    one per metric they measured, cached on the folder's signature."""
    table = settings_table()
    return verdict_tables(table if run_ids is None else table[table["run_id"].isin(run_ids)])


# --------------------------------------------------------------------------- verdict

def verdict_view(selected: list[str]) -> None:
    """LSTM vs GRU per setting over the selected runs, or over the whole runs folder when
    the user asks: the picture of every judged metric, then the table and the sentences
    of the metric chosen (core.evidence.verdict)."""
    st.subheader("Verdict: LSTM vs GRU")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    everything = left.toggle("Judge every run in the folder, not only the selected ones",
                             key=VERDICT_ALL, **KEEP)
    metric = right.selectbox("Judge by", JUDGED_METRICS, format_func=METRIC_WORDS.get,
                             key=VERDICT_METRIC, **KEEP,
                             help="What each seed contributes to the table below: its best "
                                  "held-out loss (lower is better), or its best held-out "
                                  "note, onset, pitch or duration accuracy (higher is "
                                  "better). The picture shows every one the runs measured.")
    root = runs_dir()
    tables = _verdicts(str(root.resolve()), runs_signature(root),
                       None if everything else tuple(sorted(selected)))
    scope = "every run in the runs folder" if everything else \
        f"the {len(selected)} selected run(s)"
    st.caption(f"Over {scope}.")
    how = ("Queue them with **Fair LSTM vs GRU** on the **Train** page (it queues the LSTM, "
           "the GRU at equal units and the GRU at equal parameters, 3 seeds each), or give "
           "**Seeds (k)** ≥ 2 to one setting there"
           + ("" if everything else "; then select them above") + ".")
    if not tables:
        st.info(("No LSTM/GRU pair to judge" + ("" if everything else " among the selected "
                                                  "runs") + ": a verdict needs finished LSTM "
                 "and GRU runs of an otherwise identical setting, at equal units or equal "
                 "parameters, with at least 2 seeds each. ") + how,
                icon=":material/balance:")
        return
    st.caption(
        "Every GRU setting is set against the LSTM setting that is otherwise identical, in "
        "two ways. **Equal units** is the thesis's comparison: the GRU has 3 gates to the "
        "LSTM's 4, so at the same width it has about ¾ of the parameters and is also a "
        "smaller model. **Equal parameters** widens the GRU until its parameter count "
        "matches the LSTM's, so a difference is the cell's and not the size's. Each dot is "
        "GRU − LSTM over the seeds, its bar the 95% confidence interval (Welch): 'GRU "
        "better' (green) or 'LSTM better' (red) only when the whole bar lies on one side of "
        "zero, otherwise 'difference within noise' (grey).")
    st.plotly_chart(verdict_figure(tables), key="compare_verdict_chart", theme=None)
    table = tables.get(metric)
    if table is None:
        st.info(f"No selected run measured the {METRIC_WORDS[metric]}: judge by another "
                "metric.", icon=":material/balance:")
        return
    st.markdown(f"**By the {METRIC_WORDS[metric]}**")
    show_verdict(table, "compare_verdict_table")
    too_few = int((table["verdict"] == TOO_FEW).sum())
    if too_few:
        st.info(f"{too_few} of {len(table)} comparison(s) have too few seeds for an interval "
                "(2 finished runs with a held-out loss on each side). " + how,
                icon=":material/balance:")


def show_verdict(table: pd.DataFrame, key: str) -> None:
    """A verdict_table as a table readable at 1400 px (core.evidence.verdict.
    readable_verdict: the verdict, the difference and its interval first) and one sentence
    per comparison; the Train page's sweeps show theirs the same way."""
    number = st.column_config.NumberColumn
    st.dataframe(readable_verdict(table), hide_index=True, width="stretch", key=key,
                 placeholder=MISSING,
                 column_config={
                     "comparison": st.column_config.TextColumn("comparison", pinned=True,
                                                               width=125),
                     "verdict": st.column_config.TextColumn("verdict", width=165),
                     "GRU − LSTM": number("GRU − LSTM", format="%+.4f", width=95),
                     "95% interval": st.column_config.TextColumn("95% interval", width=150),
                     "Welch p": number("Welch p", format="%.3g", width=70),
                     "LSTM mean": number("LSTM mean", format="%.4f", width=85),
                     "GRU mean": number("GRU mean", format="%.4f", width=85)})
    for kind, about, sentence in described(table):
        sentence, _, words = sentence.rpartition(": ")
        st.markdown(f"- **{kind}**, {about}: {sentence}: **{words}**")


# --------------------------------------------------------------------------- report

def _unevaluated(selected: list[str]) -> list[str]:
    """The selected runs with weights but no evaluation folder yet."""
    root = runs_dir()
    return [r for r in selected if not list_evaluations(root / r) and Run(root / r).has_model]


def evaluate_runs(run_ids: list[str], table: pd.DataFrame) -> list[str]:
    """core.evidence.evaluation.evaluate of each run on its own part with REPORT_DECODINGS,
    with a progress bar; returns one message per run that could not be evaluated."""
    parts = table.set_index("run_id")["part"].to_dict()
    bar = st.progress(0.0, text="Evaluating…")
    failed = []
    for i, run_id in enumerate(run_ids):
        def tell(done: int, total: int, what: str, i: int = i) -> None:
            bar.progress((i + done / max(total, 1)) / len(run_ids),
                         text=f"Evaluating run {i + 1} of {len(run_ids)}: {what}")
        run = runs_dir() / run_id
        try:
            evaluate({parts.get(run_id, "lead"): run}, list(REPORT_DECODINGS), REPORT_PIECES,
                     REPORT_STEPS, 0, cache_dir(), out_dir=evaluation_folder(run),
                     progress=tell)
        except (GenerationError, RunError, CorpusError, ValueError) as exc:
            failed.append(f"{run_id}: {exc}")
    bar.empty()
    return failed


def _build(selected: list[str], pdf: bool) -> None:
    """Build the report with a progress bar; remember it for the download button."""
    out = new_report_dir()
    bar = st.progress(0.0, text="Writing the report…")
    try:
        result = build_report(selected, out, pdf=pdf, runs_root=runs_dir(),
                              cache_dir=cache_dir(),
                              progress=lambda done, total, what: bar.progress(
                                  done / total, text=f"Report: {what}…"))
        data = zip_report(out)
    except (RunError, OSError) as exc:
        st.session_state.pop(REPORT_KEY, None)
        st.error(f"No report: {exc}")
        return
    finally:
        bar.empty()
    st.session_state[REPORT_KEY] = {
        "folder": str(out), "zip": data, "runs": list(selected),
        "pdf": str(result["pdf"]) if "pdf" in result else None,
        "pdf_skipped": result.get("pdf_skipped")}


def report_view(selected: list[str]) -> None:
    """Build core.outputs.report.build_report of the selected runs (evaluating first those without
    an evaluation, when asked) and offer it as a zip."""
    st.subheader("Defense report")
    st.caption("One folder that opens anywhere, offline: each run's settings, Tables 2 and 3 "
               "from the histories with their baselines, the curves, the verdict, music "
               "metrics, samples and a glossary (report.html, and report.pdf when Chromium "
               f"can print it), under `{reports_dir()}`.")
    missing = _unevaluated(selected)
    left, right = st.columns([1, 2], vertical_alignment="center")
    pdf = right.checkbox("Also print a PDF (headless Chromium, a few seconds)", value=True,
                         key="compare_report_pdf")
    names = " and ".join(d.title for d in REPORT_DECODINGS)
    evaluate_first = bool(missing) and right.checkbox(
        f"Evaluate the {len(missing)} selected run(s) that have no evaluation yet first "
        f"({names}, {REPORT_PIECES} held-out pieces of {REPORT_STEPS} steps each; seconds "
        "to a minute per run)", value=True, key="compare_report_evaluate",
        help="The report's music-metrics section compares generated pieces with the real "
             "held-out ones; Listen > Corpus-level evaluation offers more choices.")
    if selected and not missing:
        right.caption("Every selected run has an evaluation for the report's music metrics.")
    if left.button(f"Build the report of the {len(selected)} plotted run(s)",
                   key="compare_report_build", type="primary", disabled=not selected,
                   width="stretch"):
        if evaluate_first and missing:
            for message in evaluate_runs(missing, settings_table()):
                st.warning(f"Not evaluated: {message}")
        _build(selected, pdf)
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
    parts = runs.set_index("run_id")["part"] if "part" in runs else pd.Series(dtype=str)
    frame = frame.assign(part=frame["run_id"].map(parts).fillna("?"))
    left, right = st.columns(2)
    models = sorted(frame["model"].dropna().unique().astype(int).tolist())
    if len(models) > 1:
        model = left.radio("Model", models, horizontal=True, key="compare_parallel_model",
                           help="Model 2's loss adds two heads: the models are not comparable")
        frame = frame[frame["model"] == model]
    shown_parts = sorted(frame["part"].unique(), key=lambda p: (p != "lead", p))
    if len(shown_parts) > 1:
        part = right.radio("Part", shown_parts, horizontal=True, key="compare_parallel_part",
                           help="A lead's and an accompaniment's loss measure different "
                                "music: one colour scale would mix them")
        frame = frame[frame["part"] == part]
    varying, constant = split_constant(frame, HYPERPARAMETERS)
    fig = parallel_figure(frame, varying, "best held-out loss (nats)"
                          if (frame["loss_split"] == HELD_OUT).all() else "best loss (nats)")
    st.plotly_chart(fig, key="compare_parallel_chart", theme=None)
    held = (frame["loss_split"] == HELD_OUT).all()
    st.caption(f"{len(frame)} runs of the table (filters apply). Best loss is the lowest "
               + ("held-out loss." if held else "held-out loss, or training loss for runs "
                  "that held nothing out.")
               + (f" The same in every run: {', '.join(constant)}." if constant else "")
               + " Drag along an axis to pick a range.")
