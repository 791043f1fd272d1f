"""Listen page, corpus-level evaluation: many pieces per decoding measured with the same music
metrics as the real held-out pieces (core.evidence.evaluation), shown as a table, an
overlapping-area chart and CSV downloads; earlier evaluations of the lead run reopen from
their folders. The conditioning comparison's table is drawn here too, as an evaluation
folder may hold one.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.conditioning import describe_conditioning
from core.evidence.evaluation import (
    evaluate,
    evaluation_folder,
    list_evaluations,
    read_evaluation,
)
from core.files import file_stamp
from core.outputs.figures import overlap_figure
from core.runs.record import RunError
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import MAX_STEPS
from views.common import METRIC_TITLES, cache_dir, readable, runs_dir
from views.listen_decodings import chosen_method

EVALUATION = "listen_evaluation"      # session_state: the evaluation folder shown
TABLES = ("generated", "reference", "comparison", "conditioning")


@st.cache_data(show_spinner=False, max_entries=64)
def _evaluation(folder: str, stamp: int) -> dict:
    """core's read_evaluation of one folder; `stamp` (settings.json's mtime) is the key."""
    return read_evaluation(folder)


def load_evaluation(folder: Path | str) -> dict:
    """An evaluation's settings and tables (OSError / ValueError when unreadable)."""
    return _evaluation(str(folder), file_stamp(folder, "settings.json"))


def _settings_decodings(settings: dict) -> dict[str, str]:
    """Decoding.label (as in the CSVs) -> the page's name, for an evaluation's decodings."""
    names = {}
    for d in settings.get("decodings") or []:
        try:
            names[Decoding(**d).label] = Decoding.from_dict(d).title
        except TypeError:
            continue
    return names


def describe_evaluation(folder: Path, labels: dict[str, str]) -> str:
    """When, what (decodings and runs, or a conditioning comparison) and how many pieces."""
    try:
        settings = load_evaluation(folder)["settings"]
    except (OSError, ValueError):
        return f"{folder.name} (settings unreadable)"
    when = str(settings.get("created", folder.name)).replace("T", " ")[:19]
    names = ", ".join(_settings_decodings(settings).values()) or "?"
    if settings.get("kind") == "conditioning":
        what = f"conditioned vs unconditioned accompaniment, {names}"
    else:
        runs = " + ".join(labels.get(r, r) for r in (settings.get("runs") or {}).values())
        what = f"{names} · {runs}"
    return (f"{when} · {what} · {settings.get('n_pieces')} pieces × {settings.get('steps')} "
            f"steps · seed {settings.get('seed')}")


def _spread(mean: float, std: float) -> str:
    if mean != mean:
        return "–"
    return f"{mean:.3g} ± {std:.2g}" if std == std else f"{mean:.3g}"


def comparison_table(comparison: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One row per metric: held-out mean ± std, then per decoding its mean ± std and the
    overlapping area with the held-out distribution."""
    metrics = list(dict.fromkeys(comparison["metric"]))
    table = pd.DataFrame({"metric": [METRIC_TITLES.get(m, m.replace("_", " ")) for m in metrics]})
    first = comparison.drop_duplicates("metric").set_index("metric").loc[metrics]
    table["held-out pieces"] = [_spread(m, s) for m, s in
                                zip(first["reference_mean"], first["reference_std"])]
    for label, rows in comparison.groupby("decoding", sort=False):
        rows = rows.set_index("metric").reindex(metrics)
        name = names.get(label, label)
        table[name] = [_spread(m, s) for m, s in zip(rows["generated_mean"],
                                                        rows["generated_std"])]
        table[f"{name} overlap"] = rows["overlapping_area"].to_numpy()
    return table


def _comparison(comparison: pd.DataFrame, settings: dict, names: dict[str, str]) -> None:
    st.caption(f"Each decoding generated {settings.get('n_pieces')} pieces of "
               f"{settings.get('steps')} steps, seeded from the held-out pieces in turn, "
               "measured on the generated continuation only; the held-out column measures "
               f"the real continuation of the {settings.get('reference_pieces', '?')} "
               "held-out pieces after the same seed window, as long. **Overlapping area**"
               " (Yang & Lerch 2018): how much a metric's distribution over the generated"
               " pieces overlaps its distribution over the held-out pieces; 1 = the same "
               "distribution, 0 = none in common. –: not measurable in any piece (e.g. no "
               "notes generated).")
    table = comparison_table(comparison, names)
    config = {c: st.column_config.TextColumn(
                  c, width=100 if c.endswith(" overlap") else 130,
                  help=(f"{c[:-len(' overlap')]}: overlapping area with the held-out pieces "
                        "(1 = the same distribution)") if c.endswith(" overlap")
                  else "mean ± std over pieces")
              for c in table.columns[1:]}
    config["metric"] = st.column_config.TextColumn("metric", width=190, pinned=True)
    st.dataframe(readable(table, 2), hide_index=True, width="stretch",
                 key="listen_eval_table", column_config=config,
                 height=36 * (len(table) + 1) + 4)
    st.plotly_chart(overlap_figure(comparison, names, METRIC_TITLES), key="listen_eval_chart")


def show_evaluation(folder: Path, labels: dict[str, str]) -> None:
    """An evaluation folder: its comparison, its conditioning table, and its CSVs."""
    try:
        result = load_evaluation(folder)
    except (OSError, ValueError) as exc:
        st.warning(f"Evaluation {folder.name} is unreadable: {exc}")
        return
    settings = result["settings"]
    names = _settings_decodings(settings)
    st.markdown(f"**{describe_evaluation(folder, labels)}**")
    comparison = result.get("comparison")
    if comparison is not None and not comparison.empty:
        _comparison(comparison, settings, names)
    conditioning = result.get("conditioning")
    if conditioning is not None and not conditioning.empty:
        show_conditioning(conditioning, labels, names, "listen_eval_conditioning")
    csvs = [n for n in TABLES if n in result]
    for column, name in zip(st.columns(max(len(csvs), 4)), csvs):
        column.download_button(f"{name}.csv", result[name].to_csv(index=False).encode(),
                               file_name=f"{folder.name}-{name}.csv", mime="text/csv",
                               key=f"listen_eval_dl_{name}", width="stretch")
    st.caption(f"`{folder}`")


def show_conditioning(table: pd.DataFrame, labels: dict[str, str], names: dict[str, str],
                      key: str) -> None:
    """The conditioned vs unconditioned pairs, with core's sentence on them."""
    shown = pd.DataFrame({
        "pair": table["pair"],
        "accompaniment run": [labels.get(r, r) for r in table["accompaniment_run"]],
        "consonance mean": table["consonance_mean"],
        "consonance std": table["consonance_std"],
        "best held-out loss": table["best_val_loss"],
        "pieces": table["pieces"]})
    st.dataframe(readable(shown), hide_index=True, width="stretch", key=key)
    try:
        st.markdown(describe_conditioning(table))
    except ValueError as exc:
        st.caption(f"No verdict: {exc}")
    leads = ", ".join(labels.get(r, r) for r in table["lead_run"].astype(str).unique())
    decodings = ", ".join(names.get(d, d) for d in table["decoding"].astype(str).unique())
    st.caption(f"Both pairs play lead run {leads}, decoded with {decodings}. Consonance: share "
               "of lead onsets consonant with the sounding accompaniment, over the generated "
               "pieces. Best held-out loss: the accompaniment run's lowest val_loss while "
               "training.")


def evaluation_section(chosen: dict[str, str], labels: dict[str, str],
                       decodings: list[Decoding], errors: list[str], seed: int) -> None:
    """Pieces and steps, Evaluate, earlier evaluations, and the one shown."""
    st.caption("Many pieces per decoding, measured with the same music metrics as the real "
               "held-out pieces, so a decoding can be judged by numbers, not only by ear. "
               "Uses the runs, decodings, random seed and generation method chosen above.")
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    n_pieces = c1.number_input("Pieces per decoding", 1, 256, 8, key="listen_eval_pieces")
    steps = c2.number_input("Steps per piece", 1, MAX_STEPS, 64, key="listen_eval_steps")
    first = next(iter(chosen.values()), None)
    ready = bool(chosen) and bool(decodings) and not errors
    if c3.button("Evaluate", type="primary", disabled=not ready, key="listen_evaluate"):
        folder = evaluation_folder(runs_dir() / first)
        bar = st.progress(0.0, text="Loading the runs…")
        try:
            evaluate({p: runs_dir() / r for p, r in chosen.items()}, decodings,
                     int(n_pieces), int(steps), int(seed), cache_dir(), out_dir=folder,
                     method=chosen_method(),
                     progress=lambda done, total, what: bar.progress(
                         done / total, text=f"Decoding {min(done + 1, total)} of {total}: "
                                            f"{what}…"))
            st.session_state[EVALUATION] = str(folder)
        except (GenerationError, RunError, CorpusError, ValueError) as exc:
            st.error(f"Cannot evaluate: {exc}")
        except Exception as exc:  # noqa: BLE001
            st.error(f"Evaluation failed ({type(exc).__name__}): {exc}")
        finally:
            bar.empty()
    folders = list_evaluations(runs_dir() / first) if first else []
    if folders:
        with st.expander(f"Earlier evaluations of {labels.get(first, first)} "
                         f"({len(folders)})"):
            picked = st.selectbox("Evaluation", [str(f) for f in folders],
                                  key="listen_eval_earlier",
                                  format_func=lambda f: describe_evaluation(Path(f), labels))
            if st.button("Open", key="listen_eval_open"):
                st.session_state[EVALUATION] = picked
    shown = st.session_state.get(EVALUATION)
    if shown and Path(shown).is_dir():
        st.divider()
        show_evaluation(Path(shown), labels)
