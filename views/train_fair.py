"""Train page, the fair LSTM vs GRU plan (core.evidence.experiments.fair_pair): LSTM at the
form's units, GRU at the same units and GRU at the LSTM's parameter count, with their widths
and parameter counts shown before anything is queued, then k seeds of each.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.experiments import fair_pair, parameter_count
from core.nets.config import ConfigError, TrainConfig
from views import common
from views.train_form import ERROR_KEY, MAX_SEEDS, NOTICE_KEY, SEEDS_HELP, refused, submit

FAIR_KEY = "train_fair_plan"        # the planned fair comparison, shown until queued/discarded
FAIR_SEEDS = 3                      # seeds per setting the fair comparison offers by default


def plan_fair(config: TrainConfig, seeds: int) -> None:
    """Work out the fair comparison (matched GRU width, parameter counts) for the panel."""
    for key in (ERROR_KEY, NOTICE_KEY, FAIR_KEY):
        st.session_state.pop(key, None)
    try:
        with st.spinner("Building the LSTM and GRU networks to count their parameters and "
                        "find the GRU width that matches the LSTM (the first time a corpus is "
                        "used it is prepared first, which can take a while)…"):
            corpus = common.load_corpus(config.corpus, config.max_pieces, config.chord_mode,
                                        config.lead_line)
            settings = fair_pair(config, corpus)
            params = [parameter_count(c, corpus) for c in settings]
    except (ConfigError, CorpusError) as exc:
        refused(exc, "No fair comparison")
    else:
        st.session_state[FAIR_KEY] = {"configs": [c.to_dict() for c in settings],
                                      "params": params,
                                      "seeds": seeds if seeds > 1 else FAIR_SEEDS}
    st.rerun()


def _fair_summary(configs: list[TrainConfig], params: list[int]) -> None:
    """The three settings' widths and parameter counts, in words and as a table."""
    lstm, gru, matched = configs
    p_lstm, p_gru, p_matched = params
    st.markdown(
        f"At equal units ({lstm.units}) the GRU has **{p_gru:,}** parameters, "
        f"{p_gru / p_lstm:.0%} of the LSTM's **{p_lstm:,}**. The GRU with the LSTM's "
        f"parameter count is **{matched.units} units wide** ({p_matched:,} parameters, "
        f"{p_matched / p_lstm - 1:+.1%}).")
    table = pd.DataFrame({
        "setting": ["LSTM", "GRU, equal units", "GRU, equal parameters"],
        "cell": [c.cell.upper() for c in configs], "units": [c.units for c in configs],
        "layers": [c.layers for c in configs], "parameters": params,
        "vs LSTM": [f"{p / p_lstm:.0%}" for p in params]})
    st.dataframe(table, hide_index=True, width="content",
                 column_config={"parameters": st.column_config.NumberColumn(
                     "parameters", format="localized")})
    st.caption(f"Model {lstm.model}, {lstm.part}, {lstm.layers} layer(s), window "
               f"{lstm.window}, {lstm.epochs} epochs, objective {lstm.objective}, "
               f"first seed {lstm.seed}. The verdict on **Compare** judges each GRU "
               "against the LSTM by the 95% interval of the difference in best held-out "
               "loss across seeds.")


def fair_panel() -> None:
    """The planned fair comparison: widths and parameter counts, k, and Queue / Discard."""
    plan = st.session_state.get(FAIR_KEY)
    if not plan:
        return
    configs = [TrainConfig.from_dict(c) for c in plan["configs"]]
    with st.container(border=True):
        st.subheader("Fair LSTM vs GRU")
        _fair_summary(configs, plan["params"])
        left, middle, right = st.columns([1.2, 1.6, 1], vertical_alignment="bottom")
        seeds = int(left.number_input("Seeds per setting (k)", 1, MAX_SEEDS,
                                      int(plan["seeds"]), key="fair_seeds", help=SEEDS_HELP))
        if seeds < 2:
            st.warning("With 1 seed per setting there is no verdict: the interval needs at "
                       "least 2 seeds on each side.")
        if middle.button(f"Queue {3 * seeds} runs (3 settings × {seeds})", type="primary",
                         key="fair_queue", width="stretch"):
            st.session_state.pop(FAIR_KEY, None)
            submit(configs, f"fair LSTM vs GRU, {seeds} seed(s) each", seeds)
        if right.button("Discard", key="fair_discard", width="stretch"):
            st.session_state.pop(FAIR_KEY, None)
            st.rerun()
