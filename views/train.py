"""Train page: queue runs (one form with every Table 1 setting, or the thesis's four runs) and
watch them train in the background.

Submitting only checks the settings against the corpus and records the run (state "queued",
core.training.enqueue); a detached worker process (core.queue.ensure_worker) trains queued
runs one at a time, so a page reload or closing the browser never stops a run.

For evidence rather than anecdotes the form queues k seeds of a setting
(core.verdict.enqueue_seeds), and "Fair LSTM vs GRU" plans the three settings a verdict
needs (core.verdict.fair_pair: LSTM at u units, GRU at u units, GRU at the LSTM's parameter
count), shows the matched width and parameter counts, and queues them when confirmed.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import PARTS, CorpusError
from core.evidence.experiments import enqueue_seeds, fair_pair, parameter_count
from core.nets.config import (
    CELLS,
    INPUT_ENCODINGS,
    OBJECTIVES,
    ConfigError,
    TrainConfig,
    thesis_runs,
)
from core.nets.training import enqueue
from core.runs.files import RunError
from core.runs.history import read_history
from core.runs.record import RESUMABLE, read_status
from core.runs.worker import cancel, ensure_worker, queue_resume, queued_runs, worker_running
from views import common

ACTIVE = ("queued", "running")
ERROR_KEY = "train_form_error"      # (field, message) of the last refused submit
NOTICE_KEY = "train_notice"         # ("success" | "error", message) after a submit/preset
FAIR_KEY = "train_fair_plan"        # the planned fair comparison, shown until queued/discarded
QUEUE_BUTTON = "Queue this run"
FAIR_BUTTON = "Fair LSTM vs GRU…"
FAIR_SEEDS = 3                      # seeds per setting the fair comparison offers by default
MODEL_LABELS = {1: "Model 1 — one token per 16th note", 2: "Model 2 — pitch + duration streams"}
OBJECTIVE_LABELS = {"window": "window → next symbol (thesis)",
                    "sequence": "whole sequence (fast)"}
OBJECTIVE_HELP = ("'window' trains on every window of n symbols, predicting symbol n+1 (the "
                  "thesis). 'sequence' predicts every next symbol of non-overlapping windows: "
                  "n times fewer samples, much faster.")
ENCODING_LABELS = {"lookup": "lookup (fast, same network)", "onehot": "one-hot (thesis)"}
ENCODING_HELP = ("How Model 1 feeds a symbol to the first recurrent layer. 'one-hot' builds "
                 "the thesis's one-hot vector and multiplies it by the input weights; 'lookup' "
                 "reads the matching row of those weights directly: the same network and "
                 "parameter count without multiplying zeros, so it trains faster. Model 2 "
                 "always uses its embeddings.")
SEEDS_HELP = ("k > 1 queues the same setting k times with seeds s, s+1, …, s+k-1 (labelled "
              "'seed i of k'); Compare draws them as one mean curve with a spread band. A "
              "verdict needs at least 2 seeds per side, 3 is better.")
STATE_ICONS = {"queued": "⏳", "running": "▶️", "finished": "✅", "failed": "❌",
               "cancelled": "⏹️", "killed": "💀", "broken": "⚠️"}


def field_error(name: str) -> None:
    """Show the last submit's error under the widget of the field it names."""
    error = st.session_state.get(ERROR_KEY)
    if error and error[0] == name:
        st.error(error[1], icon=":material/warning:")


def queue_runs(configs: list[TrainConfig], seeds: int = 1) -> list[Path]:
    """Enqueue each configuration on the selected corpus (`seeds` > 1: that many seeds of it,
    core.verdict.enqueue_seeds), then make sure a worker runs. A ConfigError / CorpusError
    stops at the first refused run (runs before it stay queued)."""
    queued = []
    for config in configs:
        if seeds > 1:
            queued.extend(enqueue_seeds(config, seeds, common.runs_dir(), common.cache_dir()))
        else:
            queued.append(enqueue(config, common.runs_dir(), common.cache_dir()))
    if queued:
        ensure_worker(common.runs_dir(), common.cache_dir())
    return queued


def train_form(defaults: TrainConfig) -> tuple[str, TrainConfig, int] | None:
    """The form; when submitted returns (button, configuration not yet validated, seeds):
    button is "queue" or "fair"."""
    with st.form("train_form"):
        c1, c2, c3 = st.columns(3)
        with c1:
            model = st.radio("Model", [1, 2], format_func=MODEL_LABELS.get, key="tf_model")
            field_error("model")
            cell = st.selectbox("Cell", CELLS, format_func=str.upper, key="tf_cell")
            part = st.selectbox("Part", PARTS, key="tf_part")
            field_error("part")
            objective = st.selectbox("Objective", OBJECTIVES, format_func=OBJECTIVE_LABELS.get,
                                     key="tf_objective", help=OBJECTIVE_HELP)
            field_error("objective")
            input_encoding = st.selectbox("Input encoding (model 1)", INPUT_ENCODINGS,
                                          index=INPUT_ENCODINGS.index(defaults.input_encoding),
                                          format_func=ENCODING_LABELS.get,
                                          key="tf_input_encoding", help=ENCODING_HELP)
            field_error("input_encoding")
            conditioned = st.checkbox("Condition on the lead", value=defaults.conditioned,
                                      key="tf_conditioned",
                                      help="Accompaniment runs of Model 1 only: the network "
                                           "also reads the lead's window, aligned to the step "
                                           "it predicts.")
            field_error("conditioned")
        with c2:
            units = st.number_input("Units per layer", 1, 4096, defaults.units, key="tf_units",
                                    help="Thesis: 50, 100, 150, 256, 512, 1024")
            field_error("units")
            layers = st.number_input("Recurrent layers", 1, 8, defaults.layers, key="tf_layers",
                                     help="Thesis: 1-4")
            field_error("layers")
            dropout_layers = st.number_input("Dropout layers (rate 0.2)", 0, 8,
                                             defaults.dropout_layers, key="tf_dropout_layers",
                                             help="One after each of the first k recurrent "
                                                  "layers; at most the number of layers.")
            field_error("dropout_layers")
            window = st.number_input("Window (sequence length)", 1, 100_000, defaults.window,
                                     key="tf_window", help="Thesis: 32 or 64")
            field_error("window")
            embedding_dim = st.number_input("Embedding size (model 2)", 1, 1024,
                                            defaults.embedding_dim, key="tf_embedding_dim")
            field_error("embedding_dim")
        with c3:
            batch_size = st.number_input("Batch size", 1, 4096, defaults.batch_size,
                                         key="tf_batch_size", help="Thesis: 32, 64, 96")
            field_error("batch_size")
            epochs = st.number_input("Epochs", 1, 1000, defaults.epochs, key="tf_epochs",
                                     help="Thesis: 30, 50, 100")
            field_error("epochs")
            learning_rate = st.number_input("Learning rate (Adam)", 0.00001, 1.0,
                                            defaults.learning_rate, step=0.0005, format="%.5f",
                                            key="tf_learning_rate")
            field_error("learning_rate")
            s1, s2 = st.columns(2)
            seed = s1.number_input("Seed", 0, 2**31 - 1, defaults.seed, key="tf_seed",
                                   help="The first seed; k seeds use seed … seed+k-1.")
            seeds = s2.number_input("Seeds (k)", 1, 20, 1, key="tf_seeds", help=SEEDS_HELP)
            field_error("k")
            label = st.text_input("Label (optional)", defaults.label, max_chars=80,
                                  key="tf_label", placeholder="e.g. 3 GRU layers, small")
        b1, b2, _ = st.columns([1.2, 1.6, 3])
        queue = b1.form_submit_button(QUEUE_BUTTON, type="primary", width="stretch",
                                      help="Queue this setting (k runs when Seeds (k) > 1).")
        fair = b2.form_submit_button(FAIR_BUTTON, key="tf_fair", width="stretch",
                                     help="Plan LSTM at these units, GRU at these units and "
                                          "GRU at the LSTM's parameter count (the Cell above "
                                          "is ignored), each with k seeds (3 when k is 1). "
                                          "You see the widths and parameter counts before "
                                          "anything is queued.")
        field_error("corpus")
        field_error("max_pieces")
        field_error("chord_mode")
    if not (queue or fair):
        return None
    config = TrainConfig(model=int(model), cell=cell, part=part, objective=objective,
                         input_encoding=input_encoding, conditioned=bool(conditioned),
                         units=int(units), layers=int(layers),
                         dropout_layers=int(dropout_layers), window=int(window),
                         embedding_dim=int(embedding_dim), batch_size=int(batch_size),
                         epochs=int(epochs), learning_rate=float(learning_rate), seed=int(seed),
                         label=label.strip(), **common.corpus_settings())
    return ("fair" if fair else "queue"), config, int(seeds)


def _refused(exc: ConfigError | CorpusError, what: str = "Not queued") -> None:
    """Remember why: beside the field it names, and at the top of the page."""
    if isinstance(exc, ConfigError):
        message = str(exc).removeprefix(f"{exc.field}: ")
        st.session_state[ERROR_KEY] = (exc.field, f"**{exc.field}**: {message}")
        st.session_state[NOTICE_KEY] = ("error", f"{what} — **{exc.field}**: {message}")
    else:
        st.session_state[NOTICE_KEY] = ("error", f"{what} — the corpus cannot be used: {exc}")


def submit(configs: list[TrainConfig], what: str, seeds: int = 1) -> None:
    """Queue, remember the outcome for the next rerun (so errors sit beside their field)."""
    st.session_state.pop(ERROR_KEY, None)
    try:
        with st.spinner("Checking the settings against the corpus (the first time a corpus "
                        "is used it is prepared, which can take a while)…"):
            queued = queue_runs(configs, seeds)
    except (ConfigError, CorpusError) as exc:
        _refused(exc)
    else:
        names = ", ".join(f"`{p.name}`" for p in queued)
        st.session_state[NOTICE_KEY] = ("success", f"Queued {what}: {names}. They train one "
                                                   "at a time in the background.")
    st.rerun()


def plan_fair(config: TrainConfig, seeds: int) -> None:
    """Work out the fair comparison (matched GRU width, parameter counts) for the panel."""
    st.session_state.pop(ERROR_KEY, None)
    st.session_state.pop(NOTICE_KEY, None)
    st.session_state.pop(FAIR_KEY, None)
    try:
        with st.spinner("Building the LSTM and GRU networks to count their parameters and "
                        "find the GRU width that matches the LSTM (the first time a corpus is "
                        "used it is prepared first, which can take a while)…"):
            corpus = common.load_corpus(config.corpus, config.max_pieces, config.chord_mode)
            settings = fair_pair(config, corpus)
            params = [parameter_count(c, corpus) for c in settings]
    except (ConfigError, CorpusError) as exc:
        _refused(exc, "No fair comparison")
    else:
        st.session_state[FAIR_KEY] = {"configs": [c.to_dict() for c in settings],
                                      "params": params,
                                      "seeds": seeds if seeds > 1 else FAIR_SEEDS}
    st.rerun()


def fair_panel() -> None:
    """The planned fair comparison: widths and parameter counts, k, and Queue / Discard."""
    plan = st.session_state.get(FAIR_KEY)
    if not plan:
        return
    lstm, gru, matched = (TrainConfig.from_dict(c) for c in plan["configs"])
    p_lstm, p_gru, p_matched = plan["params"]
    with st.container(border=True):
        st.subheader("Fair LSTM vs GRU")
        st.markdown(
            f"At equal units ({lstm.units}) the GRU has **{p_gru:,}** parameters, "
            f"{p_gru / p_lstm:.0%} of the LSTM's **{p_lstm:,}**. The GRU with the LSTM's "
            f"parameter count is **{matched.units} units wide** ({p_matched:,} parameters, "
            f"{p_matched / p_lstm - 1:+.1%}).")
        table = pd.DataFrame({
            "setting": ["LSTM", "GRU, equal units", "GRU, equal parameters"],
            "cell": [c.cell.upper() for c in (lstm, gru, matched)],
            "units": [c.units for c in (lstm, gru, matched)],
            "layers": [c.layers for c in (lstm, gru, matched)],
            "parameters": [p_lstm, p_gru, p_matched],
            "vs LSTM": [f"{p / p_lstm:.0%}" for p in (p_lstm, p_gru, p_matched)]})
        st.dataframe(table, hide_index=True, width="content",
                     column_config={"parameters": st.column_config.NumberColumn(
                         "parameters", format="localized")})
        st.caption(f"Model {lstm.model}, {lstm.part}, {lstm.layers} layer(s), window "
                   f"{lstm.window}, {lstm.epochs} epochs, objective {lstm.objective}, "
                   f"first seed {lstm.seed}. The verdict on **Compare** judges each GRU "
                   "against the LSTM by the 95% interval of the difference in best held-out "
                   "loss across seeds.")
        left, middle, right = st.columns([1.2, 1.6, 1], vertical_alignment="bottom")
        seeds = int(left.number_input("Seeds per setting (k)", 1, 20, int(plan["seeds"]),
                                      key="fair_seeds", help=SEEDS_HELP))
        if seeds < 2:
            st.warning("With 1 seed per setting there is no verdict: the interval needs at "
                       "least 2 seeds on each side.")
        if middle.button(f"Queue {3 * seeds} runs (3 settings × {seeds})", type="primary",
                         key="fair_queue", width="stretch"):
            st.session_state.pop(FAIR_KEY, None)
            submit([lstm, gru, matched], f"fair LSTM vs GRU, {seeds} seed(s) each", seeds)
        if right.button("Discard", key="fair_discard", width="stretch"):
            st.session_state.pop(FAIR_KEY, None)
            st.rerun()


def show_notice() -> None:
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        (st.success if notice[0] == "success" else st.error)(notice[1])


def presets() -> None:
    """The thesis's runs 1-4 (Tables 2 and 3) on the selected corpus, small or full."""
    st.subheader("Thesis runs 1–4")
    st.write("1 LSTM layer × 512 · 3 LSTM × 512 · 3 LSTM × 1024 · 3 GRU × 512, window 32, "
             "dropout after every layer. **Small** divides the units by 8 and trains 5 epochs "
             "(minutes on 2 cores); **full** is the thesis's 50 epochs (many hours on a CPU).")
    a, b, c, d = st.columns(4)
    model = a.selectbox("Model", [1, 2], format_func=MODEL_LABELS.get, key="preset_model")
    part = b.selectbox("Part", PARTS, key="preset_part")
    objective = c.selectbox("Objective", OBJECTIVES, format_func=OBJECTIVE_LABELS.get,
                            key="preset_objective", help=OBJECTIVE_HELP)
    encoding = d.selectbox("Input encoding (model 1)", INPUT_ENCODINGS,
                           format_func=ENCODING_LABELS.get, key="preset_input_encoding",
                           help=ENCODING_HELP)
    e, f, _ = st.columns([1, 1, 2])
    for column, scale in ((e, "small"), (f, "full")):
        if column.button(f"Queue runs 1–4 ({scale})", key=f"preset_{scale}", width="stretch",
                         type="primary" if scale == "small" else "secondary"):
            configs = [dataclasses.replace(cfg, objective=objective, input_encoding=encoding,
                                           **common.corpus_settings())
                       for cfg in thesis_runs(int(model), part, scale)]
            submit(configs, f"thesis runs 1–4 ({scale})")


def _progress(status: dict, epochs: int) -> tuple[float, str]:
    """Fraction done and a one-line description from status.json."""
    epochs = int(status.get("epochs") or epochs or 1)
    done = int(status.get("epoch") or 0)
    batch, batches = status.get("batch"), status.get("batches")
    fraction = done / epochs
    text = f"epoch {min(done + 1, epochs)}/{epochs}"
    if batch and batches and done < epochs:
        fraction += (int(batch) / int(batches)) / epochs
        text += f", batch {batch}/{batches}"
    loss = status.get("current_loss")
    if loss is not None and not (isinstance(loss, float) and math.isnan(loss)):
        text += f" · loss {loss:.3f}"
    eta = status.get("eta_seconds")
    if eta is not None and done:
        text += f" · about {_duration(eta)} left"
    return min(fraction, 1.0), text


def _duration(seconds: float) -> str:
    seconds = int(round(float(seconds)))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def _last_epoch(run_dir: Path) -> str:
    try:
        history = read_history(run_dir)
    except RunError:  # the listing shows why; progress just has no last epoch
        return ""
    if history.empty:
        return ""
    last = history.iloc[-1]
    parts = [f"{k} {last[k]:.3f}" for k in history.columns
             if k.endswith(("loss", "accuracy")) and pd.notna(last[k])]
    return f"last epoch ({int(last['epoch'])}): " + ", ".join(parts)


@st.fragment(run_every=2)
def live() -> None:
    """Queued and running runs with progress and Cancel; refreshes every 2 seconds."""
    runs = common.load_runs_table()
    st.subheader("Queue")
    if runs.empty:
        st.info("No runs yet: fill in the form above and press **Queue this run**, or queue "
                "the small thesis preset (four runs that finish in minutes).",
                icon=":material/model_training:")
        return
    active = runs[runs["state"].isin(ACTIVE)]
    queued = int((runs["state"] == "queued").sum())
    if queued and not worker_running(common.runs_dir()):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(f"{queued} run(s) queued but no worker is training them (the app was "
                     "restarted?).")
        right.button("Start worker", key="start_worker", on_click=ensure_worker,
                     args=(common.runs_dir(), common.cache_dir()))
    if active.empty:
        st.write("Nothing queued or running.")
    for row in _queue_order(active).itertuples(index=False):
        run_dir = common.runs_dir() / row.run_id
        status = read_status(run_dir)
        state = status.get("state", row.state)
        with st.container(border=True):
            head, button = st.columns([5, 1], vertical_alignment="center")
            title = f"{STATE_ICONS.get(state, '')} **{row.run_id}**"
            if isinstance(row.label, str) and row.label:
                title += f" — {row.label}"
            head.markdown(title)
            if (run_dir / "cancel").exists() and state == "running":
                button.caption("stopping after this batch…")
            else:  # a callback, so the table below already shows the new state
                button.button("Cancel", key=f"cancel_{row.run_id}", on_click=cancel,
                              args=(run_dir,))
            if state == "running":
                fraction, text = _progress(status, int(row.epochs or 1))
                st.progress(fraction, text=text)
                last = _last_epoch(run_dir)
                if last:
                    st.caption(last)
            else:
                st.caption(f"queued · model {row.model}, {row.cell} {row.layers}×{row.units}, "
                           f"{row.part}, window {row.window}, {row.epochs} epochs")
    recent(runs[~runs["state"].isin(ACTIVE)])


def _queue_order(active: pd.DataFrame) -> pd.DataFrame:
    """Running runs first, then queued ones in the order the worker will take them."""
    order = {"running": -1}
    if (active["state"] == "queued").any():
        order.update({p.name: i for i, p in enumerate(queued_runs(common.runs_dir()))})
    rank = [order.get("running" if s == "running" else r, len(order))
            for r, s in zip(active["run_id"], active["state"])]
    return active.iloc[sorted(range(len(active)), key=rank.__getitem__)]


def recent(done: pd.DataFrame, limit: int = 12) -> None:
    """The latest runs that are no longer queued or running, with state and error."""
    if done.empty:
        return
    st.subheader("Recent runs")
    table = done.sort_values("run_id", ascending=False).head(limit).copy()
    table.insert(0, "", table["state"].map(STATE_ICONS).fillna(""))
    table["epochs"] = [f"{int(d) if pd.notna(d) else 0}/{e}"
                       for d, e in zip(table.get("epochs_done", pd.Series(0, index=table.index)),
                                       table["epochs"])]
    columns = ["", "run_id", "state", "label", "model", "part", "cell", "layers", "units",
               "epochs", "final_loss", "error"]
    st.dataframe(table[[c for c in columns if c in table.columns]], hide_index=True,
                 width="stretch",
                 column_config={"final_loss": st.column_config.NumberColumn("final loss",
                                                                            format="%.3f")})
    st.caption("Compare finished runs on the **Compare** page and listen to them on "
               "**Listen**.")
    resumable(table)


def resumable(table: pd.DataFrame) -> None:
    """A Resume button beside each failed, killed or cancelled run: the worker continues
    it from its last complete epoch (core.runs.worker.queue_resume)."""
    for row in table[table["state"].isin(RESUMABLE)].itertuples(index=False):
        run_dir = common.runs_dir() / row.run_id
        text, button = st.columns([5, 1], vertical_alignment="center")
        error = f" — {row.error}" if isinstance(row.error, str) and row.error else ""
        text.markdown(f"{STATE_ICONS.get(row.state, '')} **{row.run_id}**: {row.state} "
                      f"at {row.epochs} epochs{error}")
        button.button("Resume", key=f"resume_{row.run_id}", on_click=_resume, args=(run_dir,),
                      help="Continue from its last complete epoch in the background.")


def _resume(run_dir: Path) -> None:
    if queue_resume(run_dir):
        ensure_worker(common.runs_dir(), common.cache_dir())


st.title("Train")
settings = common.corpus_settings()
st.write(f"Corpus: **{common.corpus_label(settings['corpus'])}**"
         + (f", at most {settings['max_pieces']} pieces" if settings["max_pieces"] else "")
         + f", chords as {settings['chord_mode'].replace('_', ' ')} — change it on the "
           "**Corpus** page. Runs train one at a time in a background process: reloading "
           "or closing this page does not stop them.")

show_notice()
form = train_form(TrainConfig())
if form is not None:
    action, config, k = form
    if action == "fair":
        plan_fair(config, k)
    else:
        submit([config], "1 run" if k == 1 else f"{k} seeds of one setting", k)
fair_panel()
presets()
live()
