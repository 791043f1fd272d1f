"""Listen page, conditioned vs unconditioned accompaniment: the same lead played with an
accompaniment trained on its own (the thesis) and with one trained conditioned on the lead,
both generating from the same held-out seeds (core.evidence.conditioning); the result is
saved as an evaluation folder of the lead run and shown like one. The lead is the one chosen
at the top of the page, and the accompaniment pickers start from the accompaniment chosen
there, so the tab always follows the page's choice.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.conditioning import (
    DEFAULT_CONDITIONING_DECODING,
    conditioning_comparison,
)
from core.evidence.evaluation import evaluation_folder, write_evaluation
from core.files import now_iso
from core.runs.record import RunError
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import MAX_STEPS
from views.common import cache_dir, is_conditioned, runs_dir
from views.listen_decodings import chosen_method
from views.listen_evaluation import show_evaluation

CONDITIONING = "listen_conditioning"  # session_state: the conditioning comparison shown


def _pick(column, title: str, options: list[str], preferred: str | None, key: str,
          labels: dict[str, str]) -> str:
    """A run picker that starts at `preferred`, and starts again when it changes (the key
    carries it: a kept widget state would ignore the page's new choice)."""
    index = options.index(preferred) if preferred in options else 0
    return column.selectbox(title, options, index=index, key=f"{key}_{preferred}",
                            format_func=lambda r: labels.get(r, r))


def conditioning_section(usable: pd.DataFrame, chosen: dict[str, str],
                         labels: dict[str, str], decodings: list[Decoding], seed: int) -> None:
    """Pick the lead and both accompaniments, a decoding, pieces and steps; compare."""
    accompaniments = usable[usable["part"] == "accompaniment"]
    flags = accompaniments["conditioned"].map(is_conditioned)
    conditioned = accompaniments[flags]["run_id"].tolist()
    plain = accompaniments[~flags]["run_id"].tolist()
    leads = usable[usable["part"] == "lead"]["run_id"].tolist()
    st.caption("The thesis plays an independently trained accompaniment under the lead. An "
               "accompaniment trained conditioned on the lead reads it while it plays: does "
               "that make the parts agree more, and predict the held-out music better? Both "
               "pairs share the lead and generate from the same held-out seeds.")
    missing = [what for what, ids in (("a lead run", leads), ("an unconditioned accompaniment "
                                                               "run", plain)) if not ids]
    if missing:
        st.info(f"To compare, train {' and '.join(missing)} on the **Train** page too.")
        return
    lead = chosen.get("lead")
    if lead is None:
        st.info("Choose the lead run both pairs play in **Lead run** at the top of the page.")
        return
    st.markdown(f"Lead run (both pairs, chosen above): **{labels.get(lead, lead)}**")
    c2, c3 = st.columns(2)
    unconditioned = _pick(c2, "Unconditioned accompaniment", plain,
                          chosen.get("accompaniment"), "listen_cond_plain", labels)
    accompaniment = _pick(c3, "Conditioned accompaniment", conditioned,
                          chosen.get("accompaniment"), "listen_cond_conditioned", labels)
    options = decodings or [DEFAULT_CONDITIONING_DECODING]
    default = next((i for i, d in enumerate(options) if d.strategy == "temperature"), 0)
    c1, c2, c3, c4 = st.columns([1.4, 1, 1, 1.4], vertical_alignment="bottom")
    decoding = c1.selectbox("Decoding", options, index=default, format_func=lambda d: d.title,
                            key="listen_cond_decoding", help="one of the decodings above")
    n_pieces = c2.number_input("Pieces", 1, 256, 8, key="listen_cond_pieces")
    steps = c3.number_input("Steps", 1, MAX_STEPS, 64, key="listen_cond_steps")
    if c4.button("Compare the two pairs", type="primary", key="listen_condition",
                 width="stretch"):
        try:
            compare_pairs(lead, unconditioned, accompaniment, decoding, int(n_pieces),
                          int(steps), seed)
        except (GenerationError, RunError, CorpusError, ValueError) as exc:
            st.error(f"Cannot compare: {exc}")
        except Exception as exc:  # noqa: BLE001
            st.error(f"Comparison failed ({type(exc).__name__}): {exc}")
    shown = st.session_state.get(CONDITIONING)
    if shown and Path(shown).is_dir():
        st.divider()
        show_evaluation(Path(shown), labels)


def compare_pairs(lead: str, unconditioned: str, conditioned: str, decoding: Decoding,
                  n_pieces: int, steps: int, seed: int) -> None:
    """core's conditioning_comparison of the two pairs, written as an evaluation folder of
    the lead run, which the section then shows."""
    pair = {"lead": runs_dir() / lead}
    with st.spinner(f"Generating {n_pieces} pieces with each pair..."):
        table = conditioning_comparison(
            {**pair, "accompaniment": runs_dir() / unconditioned},
            {**pair, "accompaniment": runs_dir() / conditioned}, decoding,
            n_pieces, steps, seed, cache_dir(), method=chosen_method())
    folder = evaluation_folder(runs_dir() / lead)
    write_evaluation(folder, {
        "created": now_iso(), "kind": "conditioning",
        "runs": {"lead": lead, "accompaniment": unconditioned, "conditioned": conditioned},
        "decodings": [asdict(decoding)], "n_pieces": n_pieces, "steps": steps,
        "seed": seed}, conditioning=table)
    st.session_state[CONDITIONING] = str(folder)
