"""The blind listening test page through AppTest on tiny real runs: pairs prepared with a
progress bar, a listener answers under their name, the next listener takes over, the results
test the share found against chance."""
from __future__ import annotations

import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from core.evidence.listening import list_pairs, read_answers, real_position
from core.sampling.decoding import MEASURED_BEST
from tests.apptest import (
    TIMEOUT,
    click,
    frame_with,
    open_page,
    page_path,
    rerun,
    texts,
)

pytestmark = pytest.mark.slow  # renders audio with FluidSynth


def test_listeners_take_the_test_in_turn_and_see_the_binomial_test(app_env, runs_copy,
                                                                   trained_runs):
    app_env.use_runs(runs_copy)
    at = open_page("listening")
    assert "No pairs yet" in texts(at, "info")
    at.selectbox(key="listening_lead_run").set_value(trained_runs.lead_lstm.name)
    at.selectbox(key="listening_accompaniment_run").set_value(trained_runs.accompaniment.name)
    assert at.selectbox(key="listening_strategy").value == MEASURED_BEST.strategy
    at.selectbox(key="listening_strategy").set_value("temperature")
    at.slider(key="listening_temperature").set_value(0.0)
    at.number_input(key="listening_steps").set_value(16)
    rerun(at)
    click(at, "listening_prepare")
    assert not at.error, [e.value for e in at.error]
    assert "Prepared 1 pair(s) with temperature t=0 (greedy)" in texts(at, "success")
    assert "Fewer pairs than asked: 6 asked, 1 made: the runs' corpus holds out 1 piece(s)" \
        in texts(at, "warning")                        # six chorales, one held out
    (pair,) = list_pairs(runs_copy)

    at.text_input(key="listening_name_box").set_value("Ana")
    rerun(at)
    click(at, "listening_start")
    assert "Listener: **Ana** · 0 answered, 1 to go" in texts(at, "markdown")
    assert len(at.get("audio")) == 2
    real = real_position("Ana", pair.pair_id)
    click(at, f"listening_{real}")                            # Ana finds the real one
    answers = read_answers(runs_copy)
    assert answers[["listener", "answer", "correct"]].values.tolist() == [["Ana", real, 1]]
    assert answers.iloc[0]["decoding_title"] == "temperature t=0 (greedy)"
    assert "you have answered every pair and found the real music in 1 of 1" in \
        texts(at, "success")

    click(at, "listening_next")                               # the laptop goes round
    assert at.text_input(key="listening_name_box").value == ""
    at.text_input(key="listening_name_box").set_value("Ben")
    rerun(at)
    click(at, "listening_start")
    assert "Listener: **Ben** · 0 answered, 1 to go" in texts(at, "markdown")
    wrong = "B" if real_position("Ben", pair.pair_id) == "A" else "A"
    click(at, f"listening_{wrong}")

    table = frame_with(at, "share right")
    assert list(table.columns)[:3] == ["decoding", "share right", "p-value"]  # never off-screen
    overall = table.iloc[-1]
    assert overall["share right"] == "50%"
    assert (overall["answers"], overall["right"], overall["listeners"]) == (2, 1, 2)
    assert overall["p-value"] == f"{stats.binomtest(1, 2, 0.5).pvalue:.3f}"
    assert "1 of 2 right (50%)" in texts(at, "markdown")
    assert not table.isin([None, "None", "nan"]).any().any()


def test_the_listening_tests_choices_survive_a_page_change_and_a_reload(app_env, runs_copy,
                                                                       trained_runs):
    """The runs, decoding and counts chosen for the pairs: kept when the user goes to another
    page and back, and read back from the address (where the browser keeps them) on a reload."""
    app_env.use_runs(runs_copy)
    at = open_page("app")
    at.switch_page("views/listening.py")
    rerun(at)
    at.selectbox(key="listening_accompaniment_run").set_value("none")
    at.selectbox(key="listening_strategy").set_value("top_k")
    at.number_input(key="listening_pieces").set_value(3)
    at.number_input(key="listening_steps").set_value(20)
    rerun(at)
    chosen = ("none", "top_k", 3, 20)
    for page in ("compare", "listening"):
        at.switch_page(f"views/{page}.py")
        rerun(at)
    assert (at.selectbox(key="listening_accompaniment_run").value,
            at.selectbox(key="listening_strategy").value,
            at.number_input(key="listening_pieces").value,
            at.number_input(key="listening_steps").value) == chosen

    reloaded = AppTest.from_file(page_path("listening"), default_timeout=TIMEOUT)
    reloaded.query_params.update({"listening_accompaniment_run": "none",
                                  "listening_strategy": "top-k sampling",
                                  "listening_pieces": "3", "listening_steps": "20"})
    rerun(reloaded)
    assert (reloaded.selectbox(key="listening_accompaniment_run").value,
            reloaded.selectbox(key="listening_strategy").value,
            reloaded.number_input(key="listening_pieces").value,
            reloaded.number_input(key="listening_steps").value) == chosen
