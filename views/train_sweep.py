"""Train page, the sweeps: define a sweep (the thesis's runs 1-4 or one setting, grid values
or ranges of the Table 1 fields, k seeds, grid / random / Optuna, a budget, ASHA early
stopping, trials at once), start it in a background driver process, and follow each sweep:
its progress (trials done / running / pending, the best so far), its trials against their
held-out loss as parallel coordinates, the LSTM vs GRU verdict over its seeds, Cancel and
Continue.

Bounds and choices come from core.nets.config (BOUNDS, CHOICES), the checks from
core.sweeps.spec; everything shown is read from sweeps/<id>/ and the trials' run folders.
The driver is started and cancelled through core.sweeps.driver (called through its module,
so tests can replace it). A sweep holds the machine's training lock: queued runs wait for
it, and it waits for them (the queue section says so).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.tables import hyperparameter_frame
from core.evidence.verdict import verdict_table
from core.nets.config import BOUNDS, CHOICES, ConfigError, TrainConfig
from core.outputs.figures import parallel_figure, split_constant
from core.processes import recorded_alive
from core.runs import worker
from core.sweeps import driver
from core.sweeps.progress import (
    ACTIVE_DRIVER,
    SweepProgress,
    failures,
    read_progress,
    sweep_progress,
)
from core.sweeps.search import planned_count
from core.sweeps.spec import (
    MAX_SEEDS,
    METHODS,
    SEARCHED,
    SweepSpec,
    create_sweep,
    load_spec,
    parse_values,
    sweep_dirs,
    thesis_settings,
)
from views import common
from views.compare_evidence import show_verdict
from views.train_form import MODEL_LABELS, OBJECTIVE_HELP, OBJECTIVE_LABELS

NOTICE = "sweep_notice"          # ("success" | "error", message) after Start
TABLE1 = ("cell", "units", "layers", "dropout_layers", "dropout_rate", "window", "batch_size",
          "learning_rate", "epochs")  # the thesis's Table 1, offered first
EXAMPLES = {"cell": "lstm, gru", "units": "32, 64", "layers": "1, 3", "dropout_layers": "0, 1",
            "dropout_rate": "0.2, 0.5", "window": "32, 64", "batch_size": "32, 64, 96",
            "learning_rate": "0.001:0.01:log", "epochs": "5, 10"}
SETTINGS = {"base": "one setting (the fields below)", "small": "thesis runs 1–4, small",
            "full": "thesis runs 1–4, full"}
METHOD_LABELS = {"grid": "grid (every combination)", "random": "random (seeded draws)",
                 "optuna": "Optuna TPE (learns from earlier trials)"}
SHOWN_SWEEPS = 5
STATE_ICONS = {"running": ":material/play_circle:", "waiting": ":material/schedule:",
               "starting": ":material/schedule:", "finished": ":material/check_circle:",
               "cancelled": ":material/stop_circle:", "failed": ":material/error:",
               "stopped": ":material/cancel:", "not started": ":material/schedule:"}


def sweep_section() -> None:
    """The Sweeps section of the Train page: the new-sweep form, then the latest sweeps."""
    st.subheader("Sweeps")
    st.write("A sweep trains every setting of a search (the thesis's runs 1–4, or grid values "
             "and ranges of the Table 1 fields) with k seeds each, on Ray Tune: here one "
             "trial at a time, or on a cluster (see the README). Each trial is a normal run: "
             "Compare and the verdict see it as it trains.")
    notice = st.session_state.get(NOTICE)
    if notice:
        (st.success if notice[0] == "success" else st.error)(notice[1])
    with st.expander("New sweep", icon=":material/tune:",
                     expanded=not sweep_dirs(common.sweeps_dir())):
        form = sweep_form()
    if form is not None:
        start(*form)
    sweeps_live()


def _number(name: str, label: str, default: float, **kwargs):
    """A base setting, bounded by core.nets.config.BOUNDS[name]."""
    bounds = BOUNDS[name]
    if isinstance(default, int):
        return int(st.number_input(label, int(bounds.low), int(bounds.high), default,
                                   key=f"sw_{name}", **kwargs))
    return float(st.number_input(label, float(bounds.low), float(bounds.high),
                                 float(default), key=f"sw_{name}", format="%.5f", **kwargs))


def sweep_form() -> tuple[dict, dict[str, str]] | None:
    """The form; once Start is pressed, the spec's fields and the values boxes' text by
    field (read and checked by `start`)."""
    defaults = TrainConfig()
    c1, c2, c3 = st.columns(3)
    with c1:
        name = st.text_input("Name", "", max_chars=80, key="sw_name",
                             placeholder="e.g. thesis runs, 3 seeds").strip()
        settings = st.selectbox("Settings", list(SETTINGS), format_func=SETTINGS.get,
                                key="sw_settings", help="The thesis's runs 1–4 keep their "
                                "shapes, window, epochs and batch; the fields below give "
                                "the rest (and everything for one setting).")
        model = int(st.selectbox("Model", CHOICES["model"], format_func=MODEL_LABELS.get,
                                 key="sw_model"))
        part = st.selectbox("Part", CHOICES["part"], key="sw_part")
        objective = st.selectbox("Objective", CHOICES["objective"], key="sw_objective",
                                 format_func=OBJECTIVE_LABELS.get, help=OBJECTIVE_HELP)
    with c2:
        base = {n: _number(n, n.replace("_", " ").capitalize(), getattr(defaults, n))
                for n in ("units", "layers", "dropout_layers", "window", "batch_size",
                          "epochs", "learning_rate")}
    with c3:
        method = st.selectbox("Search", METHODS, format_func=METHOD_LABELS.get, key="sw_method")
        seeds = int(st.number_input("Seeds per setting (k)", 1, MAX_SEEDS, 3, key="sw_seeds",
                                    help="A verdict needs at least 2 seeds per side."))
        max_trials = int(st.number_input("Max trials (0: the whole grid)", 0, 100_000, 0,
                                         key="sw_max_trials"))
        max_minutes = float(st.number_input("Max minutes (0: no limit)", 0.0, 1e6, 0.0,
                                            key="sw_max_minutes"))
        concurrent = int(st.number_input("Trials at once", 1, 64, 1, key="sw_concurrent",
                                         help="1: one training at a time on this machine."))
        asha = st.checkbox("ASHA early stopping on held-out loss", key="sw_asha",
                           help="Trials whose held-out loss trails the others' at the same "
                                "epoch are stopped (from the 1st epoch on).")
    varied = st.multiselect("Fields to vary", _searchable(), default=[] if settings != "base"
                            else ["cell"], key=f"sw_varied_{settings}",
                            help="Give each its values separated by commas, or for random "
                                 "and Optuna a range low:high (low:high:log on a log scale).")
    texts = {n: st.text_input(f"{n.replace('_', ' ')}: values or low:high[:log]",
                              EXAMPLES.get(n, ""), key=f"sw_values_{n}", help=_allowed(n))
             for n in varied}
    if not st.button("Start sweep", type="primary", key="sw_start", icon=":material/tune:"):
        return None
    corpus = common.corpus_settings()
    return dict(
        name=name, base={**base, "model": model, "part": part, "objective": objective,
                         **corpus},
        settings=thesis_settings(model, part, settings) if settings != "base" else [],
        seeds=seeds, method=method, max_trials=max_trials, max_minutes=max_minutes,
        asha=asha, concurrent=concurrent), texts


def _searchable() -> list[str]:
    return [*TABLE1, *(n for n in SEARCHED if n not in TABLE1)]


def _allowed(name: str) -> str:
    if name in CHOICES:
        return f"one of {', '.join(map(str, CHOICES[name]))}"
    if name in BOUNDS:
        return f"in {BOUNDS[name]}"
    return ""


def _search(texts: dict[str, str]) -> dict[str, dict]:
    """The values boxes as the spec's grid and ranges (a SweepError names a box that does
    not read)."""
    grid, ranges = {}, {}
    for name, text in texts.items():
        kind, values = parse_values(name, text)
        (grid if kind == "grid" else ranges)[name] = values
    return {"grid": grid, "ranges": ranges}


def start(fields: dict, texts: dict[str, str]) -> None:
    """Read the values boxes, check the sweep (spec, every trial, the corpus), save it and
    start its driver; the outcome is kept for the next rerun."""
    try:
        spec = SweepSpec(**fields, **_search(texts))
        with st.spinner("Checking every trial against the corpus (the first time a corpus "
                        "is used it is prepared, which can take a while)…"):
            spec.validate()
            driver.check_sweep(spec, common.cache_dir())
        folder = create_sweep(spec, common.sweeps_dir())
        driver.start_sweep(folder, common.runs_dir(), common.cache_dir())
    except (ConfigError, CorpusError) as exc:
        where = f"**{exc.field}**: " if isinstance(exc, ConfigError) else ""
        message = str(exc).removeprefix(f"{getattr(exc, 'field', '')}: ")
        st.session_state[NOTICE] = ("error", f"Sweep not started — {where}{message}")
    else:
        st.session_state[NOTICE] = ("success", f"Sweep `{folder.name}` started: "
                                    f"{planned_count(spec)} trial(s). It trains in the "
                                    "background; its progress is below.")
    st.rerun()


@st.fragment(run_every=3)
def sweeps_live() -> None:
    """The latest sweeps, newest first, refreshed every 3 seconds."""
    folders = sweep_dirs(common.sweeps_dir())[::-1][:SHOWN_SWEEPS]
    if not folders:
        st.caption("No sweeps yet.")
        return
    table = common.settings_table()
    for folder in folders:
        sweep_card(folder, table)


def _trials_of(table: pd.DataFrame, sweep_id: str) -> pd.DataFrame:
    return table[table["sweep"] == sweep_id] if "sweep" in table else table.iloc[0:0]


def sweep_card(folder: Path, table: pd.DataFrame) -> None:
    """One sweep: state, progress, Cancel / Continue, then its trials in an expander."""
    trials = _trials_of(table, folder.name)
    runs = common.runs_dir()
    progress = sweep_progress(folder, runs, [runs / r for r in trials["run_id"]])
    with st.container(border=True):
        head, button = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"{STATE_ICONS.get(progress.driver, '')} **{folder.name}** · "
                      f"{progress.driver}")
        _buttons(button, folder, progress)
        done = progress.counts.get("done", 0)
        st.progress(min(done / max(progress.planned, 1), 1.0), text=progress.line())
        if progress.message:
            st.caption(progress.message)
        for failure in failures(folder):
            st.caption(f"trial {failure.get('trial')} could not start: {failure.get('error')}")
        if not trials.empty:
            with st.expander("Trials, hyperparameters against held-out loss, verdict",
                             icon=":material/insights:"):
                sweep_details(folder, trials)


def _buttons(column, folder: Path, progress: SweepProgress) -> None:
    """Cancel while its driver runs, Continue while trials are left, else the time it took.
    The slot always holds one element: a refresh then replaces a Cancel at once, where an
    element a fragment no longer draws stays on screen until the whole (slow) rerun ends."""
    if progress.active:
        column.button("Cancel", key=f"sweep_cancel_{folder.name}", on_click=_cancel,
                      args=(folder,), help="Stop its trials after their current batch; "
                                           "Continue resumes them later.")
    elif progress.pending or progress.counts.get("interrupted"):
        column.button("Continue", key=f"sweep_continue_{folder.name}", on_click=_continue,
                      args=(folder,), help="Resume its interrupted trials from their last "
                                           "epoch and start the pending ones.")
    else:
        column.caption(f"{_minutes(progress.seconds)} in all")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _cancel(folder: Path) -> None:
    driver.cancel_sweep(folder, common.runs_dir())


def _continue(folder: Path) -> None:
    driver.start_sweep(folder, common.runs_dir(), common.cache_dir())


# The trials table's columns, titled as the rest of the page says them.
TRIAL_COLUMNS = {"label": "label", "state": "state", "epochs_done": "epochs",
                 "best_val_loss": "best held-out loss (nats)", "error": "error",
                 "run_id": "run"}


def sweep_details(folder: Path, trials: pd.DataFrame) -> None:
    """The sweep's trials as a table, as parallel coordinates coloured by held-out loss, and
    the verdict over its seeds."""
    shown = trials.sort_values("run_id")[[c for c in TRIAL_COLUMNS if c in trials]]
    st.dataframe(common.readable(shown.rename(columns=TRIAL_COLUMNS), 4), hide_index=True,
                 width="stretch", key=f"sweep_trials_{folder.name}")
    parallel(folder, trials)
    verdict = verdict_table(trials)
    if verdict.empty:
        st.caption("No verdict yet: it needs finished LSTM and GRU trials of otherwise "
                   "identical settings.")
    else:
        st.markdown("**Verdict over the sweep's seeds**")
        show_verdict(verdict, f"sweep_verdict_{folder.name}")


def parallel(folder: Path, trials: pd.DataFrame) -> None:
    """The trials' varied numeric settings against their best held-out loss."""
    spec = load_spec(folder)
    varied = [n for n in (*spec.grid, *spec.ranges, *(k for s in spec.settings for k in s))
              if n in BOUNDS]
    frame = hyperparameter_frame(trials, list(dict.fromkeys(varied)) or ["units"])
    if frame.empty:
        return
    columns, constant = split_constant(frame, [c for c in frame.columns if c in BOUNDS])
    st.plotly_chart(parallel_figure(frame, columns, "best held-out loss (nats)"),
                    key=f"sweep_parallel_{folder.name}", theme=None)
    st.caption(f"{len(frame)} trial(s) with an epoch, coloured by best held-out loss"
               + (f"; the same in all: {', '.join(constant)}" if constant else "") + ".")


def running_notice() -> None:
    """Why the queue's runs wait when a sweep trains (its driver's state only): its trial
    counts are its card's alone, since the queue refreshes at other moments than the card
    and two copies of a count would disagree for a second or two at every change."""
    for folder in sweep_dirs(common.sweeps_dir())[::-1]:
        data = read_progress(folder)
        if data.get("state") not in ACTIVE_DRIVER or not recorded_alive(data):
            continue
        waiting = " It waits for the queue's current run to end." \
            if data["state"] == "waiting" else " Runs queued meanwhile wait for it."
        st.info(f"Sweep **{folder.name}** is {data['state']} (its trials: **Sweeps** above)."
                + waiting + " One training at a time on this machine.",
                icon=":material/tune:")


def cancel_everything() -> None:
    """Cancel all: the sweeps first (so none starts another trial), then the queue."""
    for folder in sweep_dirs(common.sweeps_dir()):
        data = read_progress(folder)
        if data.get("state") in ACTIVE_DRIVER and recorded_alive(data):
            driver.cancel_sweep(folder, common.runs_dir())
    worker.cancel_all(common.runs_dir())
