"""Listening test: a blind test the committee can take on this laptop. Each pair plays a held-out
piece's real continuation and a generated one from the same opening, in an order drawn for
each listener; the listener picks the real one. Answers go to runs/.listening/answers.csv with
the settings of each clip; the results tab tests the share found against guessing, per run
and decoding (core.evidence.listening).

Several listeners share one machine: each types a name, answers the pairs they have not
answered yet (in an order of their own), and presses "Next listener" to pass the laptop on.
The runs and decoding chosen for the pairs are kept across pages and in the address
(views.common.KEEP); when fewer pairs than asked can be made, the page says why.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.listening import (
    POSITIONS,
    answers_path,
    describe,
    list_pairs,
    listener_queue,
    make_pairs,
    read_answers,
    real_position,
    record_answer,
    results,
)
from core.rendering.score import RenderError
from core.runs.record import Run, RunError
from core.sampling.decoding import MEASURED_BEST, STRATEGIES, Decoding, GenerationError
from views.common import (
    KEEP,
    cache_dir,
    load_runs_table,
    readable,
    run_names,
    runs_dir,
    show_no_runs,
    usable_runs,
)
from views.listen_decodings import STRATEGY_TITLES, temperature_slider

LISTENER = "listening_listener"      # session_state: who is answering now
NAME_BOX = "listening_name_box"      # the name field (cleared for the next listener)
LAST = "listening_last"              # the last answer's message, shown after its rerun
PREPARED = "listening_prepared"      # what the last Prepare made (and why not more)
NONE = "none"
# The results table: what a listener came for (share right, p-value) first, so it shows
# without scrolling at 1400 px; the run names, long, last and in medium-width columns.
RUN_COLUMNS = ("lead run", "accompaniment run")
RESULT_COLUMNS = ["decoding", "share right", "p-value", "right", "answers", "listeners",
                  *RUN_COLUMNS]


def take_test() -> None:
    """Name, then one pair at a time until this listener has answered them all."""
    pairs = list_pairs(runs_dir())
    if not pairs:
        st.info("No pairs yet: prepare some in the **Prepare pairs** tab (a few seconds "
                "each).", icon=":material/hearing:")
        return
    listener = st.session_state.get(LISTENER, "")
    if not listener:
        st.markdown("Type your name or initials: your answers are kept under it, and you "
                    "hear the pairs in an order of your own.")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input("Your name", key=NAME_BOX, max_chars=40)
        if right.button("Start", type="primary", key="listening_start",
                        disabled=not name.strip(), width="stretch"):
            st.session_state[LISTENER] = name.strip()
            st.rerun()
        return
    answers = read_answers(runs_dir())
    queue = listener_queue(pairs, listener, answers)
    mine = answers[answers["listener"].str.strip().str.lower() == listener.lower()]
    top, button = st.columns([4, 1], vertical_alignment="center")
    top.markdown(f"Listener: **{listener}** · {len(mine)} answered, {len(queue)} to go")
    if button.button("Next listener", key="listening_next", icon=":material/group:",
                     width="stretch"):
        next_listener()
    last = st.session_state.pop(LAST, None)
    if last:
        st.success(last)
    if not queue:
        right = int(mine["correct"].sum()) if len(mine) else 0
        st.success(f"Thank you, {listener}: you have answered every pair and found the real "
                   f"music in {right} of {len(mine)}. Press **Next listener** to pass the "
                   "laptop on, or see the **Results** tab.")
        return
    ask(queue[0], listener, len(mine) + 1, len(mine) + len(queue))


def ask(pair, listener: str, number: int, total: int) -> None:
    """One pair: clips A and B (the real one where this listener's draw put it) and the
    two answers."""
    real = real_position(listener, pair.pair_id)
    clips = {real: pair.clip("real"),
             next(p for p in POSITIONS if p != real): pair.clip("generated")}
    st.markdown(f"#### Pair {number} of {total}: which clip continues the piece as it was "
                "really written?")
    st.caption("Both start with the same opening bars of a piece the networks never trained "
               "on; after that, one goes on as the composer wrote it and the other as a "
               "network generated it. Same piano, tempo and loudness.")
    for column, position in zip(st.columns(2), POSITIONS):
        with column.container(border=True):
            st.markdown(f"**Clip {position}**")
            st.audio(clips[position].read_bytes(), format="audio/wav")
            if st.button(f"{position} is the real one", key=f"listening_{position}",
                         type="primary", width="stretch"):
                record_answer(runs_dir(), listener, pair, position)
                st.session_state[LAST] = f"Answer {number} saved."
                st.rerun()


def next_listener() -> None:
    """Forget this listener (their answers stay saved) and ask the next one's name."""
    for key in (LISTENER, NAME_BOX, LAST):
        st.session_state.pop(key, None)
    st.rerun()


def show_results() -> None:
    """Share found per run and decoding, the exact binomial test, and the answers CSV."""
    answers = read_answers(runs_dir())
    if answers.empty:
        st.info("Nobody has answered yet.")
        return
    table = results(answers)
    labels = run_names(load_runs_table())
    shown = table.assign(**{c: table[c].map(lambda r: labels.get(r, r)) for c in RUN_COLUMNS},
                         **{"share right": table["share right"].map("{:.0%}".format)})
    st.dataframe(readable(shown[RESULT_COLUMNS]), hide_index=True, width="stretch",
                 key="listening_results",
                 column_config={c: st.column_config.TextColumn(width="medium")
                                for c in RUN_COLUMNS})
    for _, row in table.iterrows():
        what = (f"{labels.get(row['lead run'], row['lead run'])}, {row['decoding']}"
                if row["lead run"] != "all" else "All pairs")
        st.markdown(f"- **{what}**: {describe(row)}")
    st.caption("Share right: how often listeners picked the real continuation; 50% is what "
               "guessing gets. p-value: the exact two-sided binomial test of that share "
               "against 50% (scipy). A small p with a share above 50% means listeners hear "
               "the difference; a share near 50% means the generated music passes.")
    st.download_button("Download answers.csv", answers_path(runs_dir()).read_bytes(),
                       file_name="listening-answers.csv", mime="text/csv",
                       key="listening_download", icon=":material/download:")
    st.caption(f"Every answer with its pair's settings: `{answers_path(runs_dir())}`")


def _decoding(model2: bool) -> Decoding:
    """The decoding the pairs are generated with."""
    c1, c2, c3 = st.columns(3)
    strategy = c1.selectbox("Decoding", list(STRATEGIES),
                            index=STRATEGIES.index(MEASURED_BEST.strategy),
                            format_func=STRATEGY_TITLES.get, key="listening_strategy", **KEEP,
                            help=f"Preselected: {MEASURED_BEST.title}, the decoding that "
                                 "measured closest to held-out music (README, 'The demo "
                                 "recipe').")
    sampling = strategy in ("temperature", "top_k", "top_p")
    temperature = temperature_slider(c2, "Temperature" + (" (pitch)" if model2 else ""),
                                     MEASURED_BEST.temperature, "listening_temperature",
                                     disabled=not sampling, help="0 is greedy")
    duration = temperature_slider(c3, "Temperature (duration, Model 2)", float(temperature),
                                  "listening_duration", disabled=not (sampling and model2))
    own = float(duration) if model2 and sampling and duration != temperature else None
    return Decoding(strategy, temperature=float(temperature), duration_temperature=own)


def prepare() -> None:
    """Runs, decoding, pieces and length; make the pairs with a progress bar."""
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    usable = usable_runs(runs)
    if usable.empty:
        st.info("No run has saved weights yet.")
        return
    labels = run_names(runs)
    st.caption("Each pair starts from the first window of a held-out piece of the lead run's "
               "corpus: the real continuation against the one generated from it. Both are cut "
               "to the same length and rendered the same way.")
    chosen = {}
    for column, part in zip(st.columns(2), ("lead", "accompaniment")):
        ids = usable[usable["part"] == part]["run_id"].tolist()
        run = column.selectbox(f"{part.capitalize()} run", [NONE, *ids],
                               index=1 if ids else 0, key=f"listening_{part}_run", **KEEP,
                               format_func=lambda r: "none" if r == NONE else labels.get(r, r))
        if run != NONE:
            chosen[part] = run
    model2 = any(Run(runs_dir() / r).settings.get("model") == 2 for r in chosen.values())
    decoding = _decoding(model2)
    c1, c2, c3 = st.columns(3)
    pieces = c1.number_input("Pairs (held-out pieces)", 1, 50, 6, key="listening_pieces",
                             help="one pair per held-out piece, as many as the corpus holds",
                             **KEEP)
    steps = c2.number_input("Steps generated after the opening", 4, 256, 32,
                            key="listening_steps", **KEEP,
                            help="16th notes for Model 1 (32 = two bars), events for Model 2")
    seed = c3.number_input("Random seed", 0, 2**31 - 1, 0, key="listening_seed", **KEEP)
    if st.button("Prepare pairs", type="primary", disabled=not chosen,
                 key="listening_prepare"):
        bar = st.progress(0.0, text="Loading the runs…")
        try:
            made = make_pairs({p: runs_dir() / r for p, r in chosen.items()}, decoding,
                              int(pieces), int(steps), int(seed), cache_dir(), runs_dir(),
                              progress=lambda done, total, what: bar.progress(
                                  done / total, text=f"{what}…"))
        except (GenerationError, RunError, CorpusError, RenderError, ValueError) as exc:
            st.error(f"No pairs: {exc}")
        else:  # rerun, so the test tab (drawn first) offers the new pairs at once
            st.session_state[PREPARED] = (f"Prepared {len(made.pairs)} pair(s) with "
                                          f"{decoding.title}.", made.shortfall())
            st.rerun()
        finally:
            bar.empty()
    prepared = st.session_state.pop(PREPARED, None)
    if prepared:
        done, shortfall = prepared
        st.success(done)
        if shortfall:
            st.warning(f"Fewer pairs than asked: {shortfall}", icon=":material/info:")
    pairs = list_pairs(runs_dir())
    if pairs:
        counts = pd.Series([p.group for p in pairs]).value_counts()
        st.caption(f"{len(pairs)} pair(s) ready: " + "; ".join(f"{n} × {g}"
                                                                for g, n in counts.items()))


def main() -> None:
    st.title("Blind listening test")
    st.markdown("Real or generated? Each pair plays the opening of a piece the networks "
                "never trained on, continued once as it was written and once by a network. "
                "Pick the real one. Pass the laptop round: everyone answers under their own "
                "name.")
    test, outcome, setup = st.tabs(["Take the test", "Results", "Prepare pairs"])
    with test:
        take_test()
    with outcome:
        show_results()
    with setup:
        prepare()


main()
