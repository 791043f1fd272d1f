"""Start: what the lab is, its path in one glance (Corpus -> Train -> Compare -> Listen, and
the blind listening test), what is ready on this machine, and a button to the next step.

Everything shown is counted from the folders the other pages write (the corpus cache, runs,
samples, listening pairs), so the page tells a newcomer where they stand at any time; once
LSTM and GRU runs of one setting have enough seeds, the verdict's headline is here too.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.experiments import DEFENSE_SEEDS, defense_runs
from core.evidence.listening import list_pairs, read_answers
from core.evidence.verdict import headline, verdict_table
from core.nets.config import ConfigError, TrainConfig
from core.runs import worker
from core.runs.listing import runs_signature
from core.runs.samples import list_samples
from core.runs.status import ACTIVE
from core.runs.training import enqueue
from views.common import (
    cache_dir,
    corpus_label,
    corpus_settings,
    load_corpus,
    load_runs_table,
    prepared_corpora,
    runs_dir,
    settings_table,
)
from views.pages import page
from views.train_form import NOTICE_KEY


@dataclass(frozen=True)
class Step:
    """One stop on the path: its page, what it does, and where this machine stands."""

    title: str
    page: str
    icon: str
    does: str
    ready: bool
    state: str


def _samples(runs: pd.DataFrame) -> int:
    finished = runs[runs["state"].isin(("finished", "cancelled"))]["run_id"]
    return sum(len(list_samples(runs_dir() / r)) for r in finished)


def steps() -> list[Step]:
    """The path's steps with what is ready now."""
    runs = load_runs_table()
    corpora = prepared_corpora()
    finished = int((runs["state"] == "finished").sum()) if len(runs) else 0
    active = int(runs["state"].isin(ACTIVE).sum()) if len(runs) else 0
    samples = _samples(runs) if len(runs) else 0
    pairs, answers = len(list_pairs(runs_dir())), len(read_answers(runs_dir()))
    training = f", {active} queued or training" if active else ""
    return [
        Step(*page("Corpus"),
             "Choose the music (Bach chorales, or your MIDI files) and prepare it.",
             corpora > 0, f"{corpora} corpus setting(s) prepared" if corpora
             else "no corpus prepared yet"),
        Step(*page("Train"),
             "Train LSTM and GRU networks; the thesis's four runs are one button.",
             finished > 0, f"{finished} run(s) finished{training}" if finished or active
             else "no run yet"),
        Step(*page("Compare"),
             "Curves against the baseline, Tables 2 and 3, the verdict, the report.",
             finished >= 2, "ready" if finished >= 2 else "needs 2 finished runs"),
        Step(*page("Listen"),
             "Generate with five decodings; see the score, hear it, measure it.",
             samples > 0, f"{samples} sample(s) generated" if samples
             else "no sample yet" if finished else "needs a finished run"),
        Step(*page("Listening test"),
             "Real or generated? A blind test the committee can take.",
             answers > 0, f"{pairs} pair(s), {answers} answer(s)" if pairs
             else "no pairs prepared yet"),
    ]


def next_step(path: list[Step]) -> tuple[Step, str]:
    """The first step not ready yet (Compare and Listen count as one once runs exist),
    and why it is next."""
    corpus, train, compare, listen, test = path
    if not corpus.ready:
        return corpus, "Start by preparing a corpus: a few chorales take seconds."
    if not train.ready:
        return train, ("Runs are training: watch them on the Train page." if "training"
                       in train.state else "Train a first run, or the thesis's four at once.")
    if not compare.ready:
        return train, "Train a second run (the other cell) to compare LSTM with GRU."
    if not listen.ready:
        return compare, "Compare the finished runs, then generate music on Listen."
    if not test.ready:
        return test, "Everything is ready: try the blind listening test."
    return compare, "Everything is ready: compare, listen, or build the defense report."


def main() -> None:
    st.title("LSTM vs GRU music lab")
    st.markdown(
        "This lab reproduces a master's thesis on **polyphonic music generation with "
        "recurrent networks**: two networks (Model 1 reads music one 16th note at a time, "
        "Model 2 as pitch + duration events), each built with **LSTM** or **GRU** cells, "
        "learn a lead melody and its accompaniment from Bach chorales or your own MIDI "
        "files, and generate new music. Its question: *is the LSTM really better than the "
        "GRU?* Every number comes from runs trained here, offline, on this computer. Words "
        "you may not know are in the **Glossary** in the sidebar.")
    path = steps()
    step, why = next_step(path)
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(f"**Next step: {step.title}.** {why}")
        if right.button(f"Go to {step.title}", type="primary", icon=step.icon,
                        key="home_next", width="stretch"):
            st.switch_page(step.page)
    verdict_line()
    st.subheader("The path")
    for column, item, number in zip(st.columns(len(path)), path, range(1, len(path) + 1)):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{number}. {item.title}**")
            st.caption(item.does)
            mark = ":material/check_circle:" if item.ready else ":material/radio_button_unchecked:"
            st.markdown(f"{mark} {item.state}")
    # The buttons in a row of their own, so they line up whatever each card says.
    for column, item, number in zip(st.columns(len(path)), path, range(1, len(path) + 1)):
        if column.button(f"Open {item.title}", key=f"home_open_{number}", width="stretch"):
            st.switch_page(item.page)
    demo()


@st.cache_data(show_spinner=False, max_entries=4)
def _headline(root: str, signature: tuple) -> str | None:
    """core.evidence.verdict.headline over every run, by the held-out loss; cached on the
    runs folder's signature."""
    return headline(verdict_table(settings_table()))


def verdict_line() -> None:
    """The verdict in one line, once a fair comparison has an interval (Compare shows it
    in full)."""
    root = runs_dir()
    line = _headline(str(root.resolve()), runs_signature(root))
    if line is None:
        return
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f":material/balance: **The verdict so far.** {line}")
        if right.button("See it on Compare", key="home_verdict", width="stretch"):
            st.switch_page(page("Compare").path)


def queue_demo() -> None:
    """Queue the defense demo on the selected corpus (core.evidence.experiments.
    defense_runs of the demo recipe), start the worker and open the Train page."""
    settings = corpus_settings()
    config = TrainConfig(**settings).validate()
    try:
        with st.spinner("Checking the demo's runs against the corpus…"):
            corpus = load_corpus(settings["corpus"], settings["max_pieces"],
                                 settings["chord_mode"], settings["lead_line"])
            queued = [enqueue(c, runs_dir(), cache_dir()) for c in defense_runs(config, corpus)]
    except (ConfigError, CorpusError) as exc:
        st.session_state[NOTICE_KEY] = ("error", f"The demo was not queued: {exc}")
    else:
        worker.ensure_worker(runs_dir(), cache_dir())
        st.session_state[NOTICE_KEY] = (
            "success", f"Queued the defense demo: {len(queued)} runs on "
                       f"{corpus_label(settings['corpus'])}. They train one at a time in the "
                       "background.")
    st.switch_page(page("Train").path)


def demo() -> None:
    """The defense demo in one button (README, 'Demo at a defense')."""
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(
            "**At a defense**: train the demo the day before. One button queues the fair "
            f"comparison with the demo recipe (LSTM, GRU at equal units and GRU at equal "
            f"parameters, {DEFENSE_SEEDS} seeds each) and an accompaniment that reads the "
            "lead: 10 runs, about 10 minutes on 2 cores. Then show Compare (curves against "
            "their baselines, the verdict, the report), Listen, and pass the laptop round "
            "for the listening test.")
        if right.button("Train the defense demo", key="home_demo", icon=":material/school:",
                        width="stretch"):
            queue_demo()


main()
