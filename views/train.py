"""Train page: queue runs (one form with every Table 1 setting, k seeds of a setting, the fair
LSTM vs GRU comparison, or the thesis's four runs) and watch them train in the background.

The form and the presets are views/train_form.py, the fair plan views/train_fair.py; sweeps
(settings x seeds on Ray Tune) are views/train_sweep.py; the live queue, the recent runs and deleting runs are
views/train_queue.py. Runs train one at a time in a detached worker
process, so a page reload or closing the browser never stops a run; the form keeps its last
settings across page changes and in the address (views.common.KEEP).
"""
from __future__ import annotations

import streamlit as st

from core.nets.config import TrainConfig
from views import common
from views.train_fair import fair_panel, plan_fair
from views.train_form import NOTICE_KEY, presets, submit, train_form
from views.train_queue import live, manage_runs
from views.train_sweep import sweep_section


def corpus_line() -> None:
    """Which corpus the runs will train on (chosen on the Corpus page)."""
    settings = common.corpus_settings()
    st.write(f"Corpus: **{common.corpus_label(settings['corpus'])}**"
             + (f", at most {settings['max_pieces']} pieces" if settings["max_pieces"] else "")
             + f", chords as {settings['chord_mode'].replace('_', ' ')} — change it on the "
               "**Corpus** page. Runs train one at a time in a background process: reloading "
               "or closing this page does not stop them.")


def show_notice() -> None:
    """What the last submit did (queued runs, or why not), kept across its rerun."""
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        (st.success if notice[0] == "success" else st.error)(notice[1])


def main() -> None:
    st.title("Train")
    corpus_line()
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
    sweep_section()
    live()
    manage_runs()


main()
