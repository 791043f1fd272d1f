"""Train page, the queue: queued and running runs with their progress and a Cancel button,
refreshed every 2 seconds, then the latest runs that ended. Everything shown is read from the
runs' own files (status.json, history.csv) through core.runs.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from core.runs import worker
from core.runs.files import RunError
from core.runs.history import read_history
from core.runs.record import RESUMABLE, cancel_requested, read_status
from views import common

ACTIVE = ("queued", "running")
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
    if queued and not worker.worker_running(common.runs_dir()):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(f"{queued} run(s) queued but no worker is training them (the app was "
                     "restarted?).")
        right.button("Start worker", key="start_worker", on_click=worker.ensure_worker,
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
            if cancel_requested(run_dir) and state == "running":
                button.caption("stopping after this batch…")
            else:  # a callback, so the table below already shows the new state
                button.button("Cancel", key=f"cancel_{row.run_id}", on_click=worker.cancel,
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
        order.update({p.name: i for i, p in enumerate(worker.queued_runs(common.runs_dir()))})
    rank = [order.get("running" if s == "running" else r, len(order))
            for r, s in zip(active["run_id"], active["state"])]
    return active.iloc[sorted(range(len(active)), key=rank.__getitem__)]


def recent(done: pd.DataFrame, limit: int = 12) -> None:
    """The latest runs that are no longer queued or running, with state and error."""
    if done.empty:
        return
    st.subheader("Recent runs")
    table = done.sort_values("run_id", ascending=False).head(limit).copy()
    table["epochs"] = [f"{int(d) if pd.notna(d) else 0}/{e}"
                       for d, e in zip(table.get("epochs_done", pd.Series(0, index=table.index)),
                                       table["epochs"])]
    columns = ["run_id", "state", "label", "model", "part", "cell", "layers", "units",
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
    if worker.queue_resume(run_dir):
        worker.ensure_worker(common.runs_dir(), common.cache_dir())
