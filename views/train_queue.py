"""Train page, the queue: queued and running runs with their progress, a Cancel button each,
the whole queue's estimated time and a Cancel all, refreshed every 2 seconds; then the latest
runs that ended, and deleting runs (with a confirmation). Everything shown is read from the
runs' own files (status.json, history.csv) through core.runs.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from core.evidence.tables import metric_title
from core.files import RunError
from core.runs import worker
from core.runs.deletion import DeletionError, delete_run
from core.runs.estimates import queue_estimate
from core.runs.history import rising_note
from core.runs.listing import run_labels
from core.runs.record import Run
from core.runs.status import ACTIVE, RESUMABLE, cancel, cancel_requested, read_status
from views import common
from views.compare_runs import runs_columns, table_frame
from views.train_sweep import cancel_everything, running_notice

# A worker takes a few seconds to start (Python, then its lock): no "no worker" warning
# for runs queued this recently.
WORKER_GRACE_S = 20.0
DELETE_NOTICE = "train_delete_notice"  # what the last Delete did, shown after its rerun
DELETE_PICKER = "delete_runs"          # the checklist of runs to delete (views.common)
# Material icons: they render without an emoji font (a dataframe cell cannot show them,
# so the recent-runs table says the state in words only).
STATE_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
               "finished": ":material/check_circle:", "failed": ":material/error:",
               "cancelled": ":material/stop_circle:", "killed": ":material/cancel:",
               "broken": ":material/warning:"}


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
        history = Run(run_dir).history
    except RunError:  # the listing shows why; progress just has no last epoch
        return ""
    if history.empty:
        return ""
    last = history.iloc[-1]
    parts = [f"{metric_title(k)} {last[k]:.3f}" for k in history.columns
             if k.endswith(("loss", "accuracy")) and pd.notna(last[k])]
    return f"last epoch ({int(last['epoch'])}): " + " · ".join(parts)


def _rising(run_dir: Path) -> str:
    """core.runs.history.rising_note of a run still training ("" when unreadable)."""
    try:
        return rising_note(Run(run_dir).history_columns)
    except RunError:
        return ""


@st.fragment(run_every=2)
def live() -> None:
    """Queued and running runs with progress and Cancel; refreshes every 2 seconds."""
    runs = common.load_runs_table()
    st.subheader("Queue")
    running_notice()
    if runs.empty:
        st.info("No runs yet: fill in the form above and press **Queue this run**, or queue "
                "the small thesis preset (four runs that finish in minutes).",
                icon=":material/model_training:")
        return
    active = runs[runs["state"].isin(ACTIVE)]
    statuses = {r: read_status(common.runs_dir() / r) for r in active["run_id"]}
    _worker_warning(statuses)
    if active.empty:
        st.write("Nothing queued or running.")
    else:
        _queue_summary(statuses)
    for row in _queue_order(active).itertuples(index=False):
        run_dir = common.runs_dir() / row.run_id
        status = statuses[row.run_id]
        state = status.get("state", row.state)
        with st.container(border=True):
            head, button = st.columns([5, 1], vertical_alignment="center")
            title = f"{STATE_ICONS.get(state, '')} **{row.run_id}**"
            if isinstance(row.label, str) and row.label:
                title += f" — {row.label}"
            head.markdown(title)
            if cancel_requested(run_dir) and state == "running":
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
                rising = _rising(run_dir)
                if rising:
                    st.warning(rising, icon=":material/trending_up:")
            else:
                st.caption(f"queued · model {row.model}, {row.cell} {row.layers}×{row.units}, "
                           f"{row.part}, window {row.window}, {row.epochs} epochs")
    recent(runs[~runs["state"].isin(ACTIVE)])


def _worker_warning(statuses: dict[str, dict]) -> None:
    """Say so, with a button, when runs wait and no worker trains them; not while the
    worker started for runs queued a moment ago is still starting."""
    queued = [s for s in statuses.values() if s.get("state") == "queued"]
    if not queued or worker.worker_running(common.runs_dir()):
        return
    newest = max(float(s.get("queued_at") or 0) for s in queued)
    if time.time() - newest < WORKER_GRACE_S:
        st.caption("Starting the background worker…")
        return
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.warning(f"{len(queued)} run(s) queued but no worker is training them (the app was "
                 "restarted?).")
    right.button("Start worker", key="start_worker", on_click=worker.ensure_worker,
                 args=(common.runs_dir(), common.cache_dir()))


def _queue_summary(statuses: dict[str, dict]) -> None:
    """How many runs wait, about how long the whole queue takes, and Cancel all."""
    estimate = queue_estimate(common.settings_table(), statuses)
    text = f"{len(statuses)} run(s) queued or training"
    if estimate.known:
        text += (f" · about **{_duration(estimate.seconds)}** left for "
                 + ("the whole queue" if not estimate.unknown else
                    f"{estimate.known} of them ({estimate.unknown} never trained before: "
                    "no estimate yet)"))
    else:
        text += " · no time estimate yet (no run of these settings has finished an epoch)"
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.markdown(text)
    right.button("Cancel all", key="cancel_all", icon=":material/cancel:",
                 on_click=cancel_everything, width="stretch",
                 help="Cancel every queued run, every running sweep, and stop the one "
                      "training (after its batch); finished epochs are kept.")


def _queue_order(active: pd.DataFrame) -> pd.DataFrame:
    """Running runs first, then queued ones in the order the worker will take them."""
    order = {"running": -1}
    if (active["state"] == "queued").any():
        order.update({p.name: i for i, p in enumerate(worker.queued_runs(common.runs_dir()))})
    rank = [order.get("running" if s == "running" else r, len(order))
            for r, s in zip(active["run_id"], active["state"])]
    return active.iloc[sorted(range(len(active)), key=rank.__getitem__)]


def recent(done: pd.DataFrame, limit: int = 12) -> None:
    """The latest runs that are no longer queued or running: name, state, epochs, the
    held-out and training loss first, then shape, date, error and id (a dash where a value
    is missing)."""
    if done.empty:
        return
    st.subheader("Recent runs")
    table = done.sort_values("run_id", ascending=False).head(limit).copy()
    shown = table_frame(table)
    table["epochs"] = shown["epochs"]  # done/planned, as Resume says it
    columns = ["run", "state", "epochs", "held-out loss", "final training loss", "cell",
               "units", "layers", "part", "model", "created", "error", "run id"]
    shown = shown[[c for c in columns if c in shown.columns]]
    st.dataframe(shown, hide_index=True, width="stretch", placeholder=common.MISSING,
                 column_config={**runs_columns(shown),
                                "error": st.column_config.TextColumn("error", width="large")})
    st.caption("Held-out loss: each run's best epoch on pieces never trained on. Compare "
               "finished runs on the **Compare** page and listen to them on **Listen**.")
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
    if worker.queue_resume(run_dir):
        worker.ensure_worker(common.runs_dir(), common.cache_dir())


def manage_runs() -> None:
    """Delete runs for good, after a confirmation; a queued or training run is cancelled
    first (core.runs.deletion). Every run is listed, newest first, narrowed by a filter."""
    runs = common.load_runs_table()
    if runs.empty:
        return
    labels = run_labels(runs)
    runs = runs.sort_values("run_id", ascending=False)
    names = {row.run_id: f"{labels.get(row.run_id, row.run_id)} · {row.state}"
             for row in runs.itertuples(index=False)}
    with st.expander("Delete runs", icon=":material/delete:"):
        picked = common.checklist(names, DELETE_PICKER,
                                  "part of a name: gru, 152, seed 2, failed, a date…")
        busy = runs[runs["run_id"].isin(picked) & runs["state"].isin(ACTIVE)]
        if len(busy):
            st.caption(f"{len(busy)} of them are queued or training: they are cancelled "
                       "first (a training run stops after its current batch).")
        sure = common.confirm_delete(st, DELETE_PICKER, len(picked),
                                     "run(s) with their models, samples and evaluations")
        if st.button("Delete", key="delete_runs_button", type="primary",
                     disabled=not (picked and sure), icon=":material/delete:"):
            with st.spinner("Deleting (cancelling first where a run is training)…"):
                errors = []
                for run_id in picked:
                    try:
                        delete_run(common.runs_dir() / run_id, common.runs_dir())
                    except DeletionError as exc:
                        errors.append(str(exc))
            st.session_state[DELETE_NOTICE] = errors or f"Deleted {len(picked)} run(s)."
            common.forget_checklist(DELETE_PICKER)
            st.rerun()
        notice = st.session_state.pop(DELETE_NOTICE, None)
        if isinstance(notice, str):
            st.success(notice)
        elif notice:
            for error in notice:
                st.error(error)
