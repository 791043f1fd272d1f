"""The report's sections, each HTML from the selected runs: their table and settings (read
through core.runs.record.Run), Tables 2 and 3 with baselines, the curves (core.outputs.
figures, the Compare page's colours), the verdict (shown as core.evidence.verdict says),
the music metrics and evaluations, and the glossary.
"""
from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.evidence.baselines import Baseline, baseline_columns, baseline_lines
from core.evidence.curves import load_histories_long
from core.evidence.evaluation import list_evaluations, read_evaluation
from core.evidence.measure import sample_metrics
from core.evidence.metrics import METRIC_GROUPS, METRIC_TITLES, NOTE_METRICS, SYMBOL_METRICS
from core.evidence.tables import TABLE_METRICS, TABLE_TITLES, summary_table
from core.evidence.verdict import (
    described,
    headline,
    readable_verdict,
    signed,
    verdict_tables,
)
from core.files import RunFileError
from core.glossary import GLOSSARY
from core.nets.config import TrainConfig
from core.outputs.figures import axis_title, curve_figure, series_colours, verdict_figure
from core.outputs.report.html import (
    MISSING,
    Formatter,
    esc,
    fixed,
    html_table,
    is_missing,
    note,
    number_formats,
    split_html,
)
from core.runs.listing import local_times
from core.runs.record import Run
from core.sampling.decoding import Decoding

FIGURE_TEMPLATE = "plotly_white"  # explicit: built inside Streamlit, plotly's default differs
SAMPLE_METRIC_NAMES = NOTE_METRICS + SYMBOL_METRICS
Baselines = Mapping[str, Baseline | str]  # run_id -> baseline, or why none


def runs_section(table: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """The runs: name, id, state, epochs, size, time and the date they were made (this
    machine's local time, to the minute: '2026-12-07 16:07', never an ISO stamp)."""
    frame = pd.DataFrame({
        "run": table["run_id"].map(labels), "run id": table["run_id"],
        "state": table["state"], "epochs done": table.get("epochs_done"),
        "parameters": table.get("params"), "training seconds": table.get("seconds"),
        "created": local_times(table["created"]).dt.strftime("%Y-%m-%d %H:%M")})
    return html_table(frame, {"training seconds": fixed(1)}, "runs-table")


def settings_section(run_dirs: Sequence[Path], labels: Mapping[str, str]) -> str:
    """Every TrainConfig field, the corpus each run trained on and its library versions,
    each split into what differs between runs and what they share."""
    runs = {labels[d.name]: Run(d) for d in run_dirs}
    records = {label: run.record for label, run in runs.items()}
    config = {label: run.settings for label, run in runs.items()}
    corpus = {run: _corpus_row(r) for run, r in records.items()}
    versions = {run: r.get("versions") or {} for run, r in records.items()}
    fields = ", ".join(f.name for f in dataclasses.fields(TrainConfig))
    return (split_html(config, "Training settings")
            + note(f"Settings are every TrainConfig field ({fields}); a run recorded "
                    "before a field existed shows its default.")
            + "<h3>Corpus</h3>" + split_html(corpus, "Corpus")
            + "<h3>Library versions (recorded at training)</h3>"
            + split_html(versions, "Versions"))


def _corpus_row(record: Mapping[str, Any]) -> dict[str, Any]:
    corpus = record.get("corpus") or {}
    held_out = corpus.get("held_out") or []
    return {"corpus id": corpus.get("id"), "corpus hash": corpus.get("key"),
            "pieces": corpus.get("pieces"), "held-out pieces": len(held_out),
            "held-out piece names": ", ".join(map(str, held_out)) or MISSING,
            "training windows": record.get("train_windows"),
            "held-out windows": record.get("held_out_windows"),
            "vocabulary sizes": record.get("vocab_sizes")}


def results_tables(run_dirs: Sequence[Path], table: pd.DataFrame, labels: Mapping[str, str],
                   baselines: Baselines | None = None) -> dict[int, pd.DataFrame]:
    """The thesis's Table 2 (Model 1) and Table 3 (Model 2) for the selected runs, final
    epoch, training and held-out, from each history.csv (core.evidence.tables.summary_table),
    then the trivial baselines of each run's held-out windows (core.evidence.baselines).
    Only models with at least one run appear."""
    histories = {}
    for run_dir in run_dirs:
        try:
            histories[run_dir.name] = Run(run_dir).history
        except RunFileError:
            continue  # a broken history has no row; the runs table shows its state
    tables = {}
    for model in sorted(TABLE_METRICS):
        summary = summary_table(histories, table, model=model, at="final")
        if summary.empty:
            continue
        titles = [t for _, t in TABLE_METRICS[model]]
        base = baseline_columns(baselines or {}, summary["run_id"], model)
        tables[model] = pd.DataFrame({
            "run": summary["run_id"].map(labels),
            "cell": summary["cell"].str.upper(),
            "layers x units": [f"{layers} x {units}" for layers, units
                               in zip(summary["layers"], summary["units"])],
            **{f"held-out {t}": summary[f"held-out {t}"] for t in titles},
            **{c: base[c].to_numpy() for c in base.columns},
            **{f"training {t}": summary[t] for t in titles},
            "epochs": summary["epochs"]})
    return tables


def _metric_titles(model: int) -> list[str]:
    """Column titles in table order: each metric on held-out windows (what a reader came
    for), then on training windows (the thesis's)."""
    titles = [t for _, t in TABLE_METRICS[model]]
    return [f"held-out {t}" for t in titles] + [f"training {t}" for t in titles]


def tables_section(tables: Mapping[int, pd.DataFrame]) -> str:
    if not tables:
        return note("None of the selected runs has finished an epoch yet.")
    parts = []
    for model, frame in tables.items():
        number, what = TABLE_TITLES[model]
        formats = {c: fixed(3) for c in [*_metric_titles(model),
                                         *[c for c in frame if c.startswith("baseline")]]}
        parts.append(f"<h3>{esc(number)}. {esc(what)}</h3>"
                     + html_table(frame, formats, f"table{model + 1}"))
    return "".join(parts) + note(
        "Final epoch of each run, as the thesis reports. The thesis measured training "
        "windows only; held-out columns are windows of whole pieces never trained on "
        "(a high training accuracy with a low held-out one is memorisation). Baseline "
        "columns: what always predicting the most frequent symbol (accuracy, note "
        "accuracy; onset accuracy's is 0.5 for any constant answer) or the "
        "symbols' own frequencies (loss: the unigram entropy, in nats) scores on the same "
        "held-out windows; a run at its baseline has learnt nothing from the context.")


def curve_figures(run_dirs: Sequence[Path], table: pd.DataFrame, labels: Mapping[str, str],
                  baselines: Baselines | None = None) -> list[tuple[str, Any]]:
    """(title, plotly figure) per model, part and metric of Tables 2/3, drawn by
    core.outputs.figures.curve_figure: a colour per run (the Compare page's colours for the
    same runs), training windows and held-out pieces side by side, LSTM solid and GRU
    dashed, each data's baseline a labelled line. Lead and accompaniment runs never share
    a chart: their numbers measure different music."""
    long, _ = load_histories_long(run_dirs, table)
    if long.empty:
        return []
    # plotly reads <b>, <br>, ... in text as markup and decodes &lt; &gt; &amp; only
    long["run"] = long["run_id"].map(lambda r: html.escape(labels.get(r, r), quote=False))
    long["model"] = pd.to_numeric(long["model"], errors="coerce")
    colours = series_colours(d.name for d in run_dirs)
    figures = []
    parts = list(dict.fromkeys(long["part"].dropna())) if "part" in long else [None]
    for model in sorted(TABLE_METRICS):
        for part in parts:
            runs = long[(long["model"] == model) & ((long["part"] == part) if part else True)]
            for metric, title in TABLE_METRICS[model]:
                data = runs[runs["metric"] == metric]
                if not len(data):
                    continue
                lines = baseline_lines(baselines or {}, data["run_id"].unique(), metric)
                figure = curve_figure(data, axis_title(metric), colours=colours,
                                      baselines=lines)
                figure.update_layout(template=FIGURE_TEMPLATE)
                where = f", {part}" if part and len(parts) > 1 else ""
                figures.append((f"Model {model}{where}: {title} per epoch", figure))
    return figures


def curves_section(figures: Sequence[tuple[str, Any]]) -> str:
    if not figures:
        return note("No finished epoch to plot yet.")
    parts = [f'<div class="plot"><h3>{esc(title)}</h3>'
             + fig.to_html(full_html=False, include_plotlyjs=False, default_width="100%",
                           config={"displaylogo": False, "responsive": True})
             + "</div>" for title, fig in figures]
    return "".join(parts) + note(
        "Left: training windows; right: held-out pieces. Each run keeps its colour; LSTM "
        "runs are solid lines with circles, GRU runs dashed lines with diamonds. The dotted "
        "line is the baseline of the runs' data (see Tables 2 and 3). As measured after each "
        "epoch, not smoothed.")


def verdict_section(table: pd.DataFrame) -> str:
    """core.evidence.verdict over the selected runs only (a run left out of the report does
    not move its verdict): its headline, the picture of every metric the runs measured
    (core.outputs.figures.verdict_figure, as on the Compare page), then the table and
    sentences by the held-out loss."""
    tables = verdict_tables(table)
    if not tables:
        return note("No LSTM and GRU settings among the selected finished runs differ only "
                     "in cell (and units), so there is nothing to judge. Select both cells "
                     "of one setting, ideally with two or more seeds each.")
    metric = "best_val_loss" if "best_val_loss" in tables else next(iter(tables))
    verdict = tables[metric]
    line = headline(verdict)
    figure = verdict_figure(tables)
    figure.update_layout(template=FIGURE_TEMPLATE)
    shown = readable_verdict(verdict)
    formats = {c: fixed(4) for c in ("LSTM mean", "GRU mean")}
    formats["GRU \u2212 LSTM"] = lambda v: MISSING if is_missing(v) else signed(v, 4)
    formats["Welch p"] = lambda v: MISSING if is_missing(v) else f"{float(v):.3g}"
    sentences = "".join(f"<li><b>{esc(kind)}</b>, {esc(about)}: {esc(sentence)}</li>"
                        for kind, about, sentence in described(verdict))
    return ((f'<p class="headline"><b>{esc(line)}</b></p>' if line else "")
            + '<div class="plot">'
            + figure.to_html(full_html=False, include_plotlyjs=False, default_width="100%",
                             config={"displaylogo": False, "responsive": True})
            + "</div>"
            + note("Each dot is GRU \u2212 LSTM over the seeds, its bar the 95% Welch "
                   "interval, against zero (dotted): green where the GRU is better, red where "
                   "the LSTM is, grey where the bar crosses zero (within noise).")
            + html_table(shown, formats, "verdict-table")
            + f'<ul class="sentences">{sentences}</ul>'
            + note("The table: best held-out loss per seed (lower is better). A winner is "
                    "named only when the 95% Welch interval of GRU \u2212 LSTM excludes zero; "
                    "'equal parameters' pairs a GRU widened to the LSTM's parameter count."))


def grouped(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with one row per metric (its index: core.evidence.metrics names) as a reader
    sees it: in METRIC_GROUPS' order, the family named on its first row, each metric in
    words."""
    rows = [(group if i == 0 else "", metric) for group, metrics in METRIC_GROUPS.items()
            for i, metric in enumerate(m for m in metrics if m in frame.index)]
    order = [metric for _, metric in rows]
    return pd.concat([pd.DataFrame({"": [g for g, _ in rows],
                                    "metric": [METRIC_TITLES[m] for m in order]}),
                      frame.loc[order].reset_index(drop=True)], axis=1)


def _spread(mean: pd.Series, std: pd.Series) -> list[str]:
    """'0.812 ± 0.041' per row, a dash where missing."""
    return [MISSING if is_missing(m) else
            f"{fixed(3)(m)} ± {fixed(3)(s) if not is_missing(s) else MISSING}"
            for m, s in zip(mean, std)]


def evaluation_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """An evaluation's comparison (a row per decoding and metric) as one row per metric:
    the held-out pieces' mean ± std, then each decoding's mean ± std and overlapping area
    with them (grouped, in words)."""
    first = comparison.drop_duplicates("metric").set_index("metric")
    columns = {"held-out pieces": _spread(first["reference_mean"], first["reference_std"])}
    for decoding, rows in comparison.groupby("decoding", sort=False):
        rows = rows.set_index("metric").reindex(first.index)
        columns[f"{decoding}: generated"] = _spread(rows["generated_mean"],
                                                    rows["generated_std"])
        columns[f"{decoding}: overlap"] = rows["overlapping_area"].to_numpy()
    return grouped(pd.DataFrame(columns, index=first.index))


def overlap_summary(evaluations: Sequence[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per run and decoding: the mean overlapping area with the held-out pieces of
    each metric family (1 = the same distribution), the section's one compact table."""
    rows = []
    for name, comparison in evaluations:
        for decoding, block in comparison.groupby("decoding", sort=False):
            areas = block.set_index("metric")["overlapping_area"]
            rows.append({"run": name, "decoding": decoding,
                         **{group: areas.reindex(list(metrics)).mean()
                            for group, metrics in METRIC_GROUPS.items()},
                         "all metrics": areas.mean()})
    return pd.DataFrame(rows)


def evaluation_section(run_dirs: Sequence[Path], labels: Mapping[str, str]) -> str:
    """The latest evaluation folder of each run (core.evidence.evaluation), generated pieces
    against the real held-out continuations: one summary table of overlapping areas per
    metric family, then each run's metrics in full, folded (a run per fold)."""
    evaluations, folds = [], []
    for run_dir in run_dirs:
        folders = list_evaluations(run_dir)
        if not folders:
            continue
        evaluation = read_evaluation(folders[0])
        if "comparison" not in evaluation:
            continue
        settings = evaluation["settings"]
        name = labels[run_dir.name]
        titles = {d.label: d.title for d in map(Decoding.from_dict,
                                                 settings.get("decodings", []))}
        comparison = evaluation["comparison"]
        comparison = comparison.assign(decoding=comparison["decoding"].map(
            lambda d: titles.get(d, d)))  # 'temperature t=0.65', as the pages say it
        evaluations.append((name, comparison))
        table = evaluation_table(comparison)
        folds.append(
            f"<details><summary>{esc(name)}: {settings.get('n_pieces')} piece(s) of "
            f"{settings.get('steps')} steps per decoding against "
            f"{settings.get('reference_pieces')} held-out piece(s)</summary>"
            + html_table(table, number_formats(table, 3), "evaluation-metrics")
            + "</details>")
    if not evaluations:
        return note("No selected run has an evaluation yet: tick \"Evaluate the runs that "
                     "have none\" before building the report on the Compare page, or press "
                     "Evaluate under Listen > Corpus-level evaluation.")
    summary = overlap_summary(evaluations)
    return (html_table(summary, number_formats(summary, 2), "overlap-summary")
            + note("Overlapping area of each metric's distribution with the held-out pieces' "
                   "(1 = the same distribution, 0 = none in common), averaged over the "
                   "metrics of each family. Each run's metrics in full:")
            + "".join(folds))


def sample_metrics_table(samples: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """core.evidence.metrics.piece_metrics of each sample's generated part (seed window left
    out), through core.evidence.measure.sample_metrics: one row per metric (grouped, in
    words), one column per sample (S1, S2, ... as numbered in the Samples section); dashes
    for a sample without a note table."""
    columns = {}
    for number, sample in enumerate(samples, 1):
        try:
            values = sample_metrics(sample, names=SAMPLE_METRIC_NAMES)
        except RunFileError:
            values = {}
        name = f"S{number} {Decoding.from_dict(sample.get('decoding')).title}"
        columns[name] = [values.get(m, np.nan) for m in SAMPLE_METRIC_NAMES]
    return grouped(pd.DataFrame(columns, index=list(SAMPLE_METRIC_NAMES)))


def metrics_section(run_dirs: Sequence[Path], labels: Mapping[str, str],
                    samples: Sequence[Mapping[str, Any]]) -> str:
    body = "<h3>Generated vs held-out pieces</h3>" + evaluation_section(run_dirs, labels)
    if samples:
        frame = sample_metrics_table(samples)
        body += ("<h3>Metrics of the samples shown below</h3>"
                 + html_table(frame, number_formats(frame, 3), "sample-metrics")
                 + note("Measured on what the model generated: the seed window is left "
                         "out. Loop share and longest repeat read the lead's symbols "
                         "(greedy decoding falling into a loop shows here)."))
    return body


def glossary_section() -> str:
    """core.glossary's terms as a definition list."""
    items = "".join(f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>" for term, text in GLOSSARY)
    return f'<dl class="glossary">{items}</dl>'

