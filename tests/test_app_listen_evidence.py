"""The Listen page's evidence, rendered with Streamlit's AppTest on tiny really trained runs:
any number of decodings side by side (a strategy twice with different parameters), the
generation method with its timing, the corpus-level evaluation (table, chart, CSVs, reopening)
and the conditioned vs unconditioned accompaniment comparison."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.evidence.conditioning import describe_conditioning
from core.evidence.evaluation import list_evaluations
from tests.apptest import downloads, frame_with, open_page, rerun, texts
from tests.tiny import STANDARD


@dataclass(frozen=True)
class EvidenceRuns:
    runs: Path          # trained_runs' four runs plus `conditioned`
    conditioned: str    # a Model 1 accompaniment run conditioned on the lead


@pytest.fixture(scope="module")
def evidence_runs(run_bank, tmp_path_factory) -> EvidenceRuns:
    """The four standard runs and a conditioned accompaniment run in one folder."""
    runs = run_bank.folder(tmp_path_factory.mktemp("evidence") / "runs", *STANDARD,
                           "conditioned")
    return EvidenceRuns(runs, run_bank.path("conditioned").name)


@pytest.fixture
def runs(app_env, tmp_path, evidence_runs) -> Path:
    """A private copy of evidence_runs the page may write samples and evaluations into."""
    target = tmp_path / "runs"
    shutil.copytree(evidence_runs.runs, target)
    return app_env.use_runs(target)


def pick(at: AppTest, lead: str, accompaniment: str = "none", strategies=("greedy",),
         extra: str = "") -> None:
    at.selectbox(key="listen_lead").set_value(lead)
    at.selectbox(key="listen_accompaniment").set_value(accompaniment)
    at.multiselect(key="listen_strategies").set_value(list(strategies))
    at.text_input(key="listen_extra").set_value(extra)


def test_three_decodings_side_by_side_with_temperature_twice(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, trained_runs.accompaniment.name,
         ["temperature", "top_k"], extra="temperature:1.0, Temperature:0.65")
    at.number_input(key="listen_steps").set_value(16)
    rerun(at)
    assert "already listed, left out: temperature t=0.65" in texts(at, "caption")
    at.button(key="listen_generate").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    names = ["temperature t=0.65", "top_k k=8 t=0.65", "temperature t=1"]
    assert [s.value for s in at.subheader][:3] == names
    assert len(at.get("audio")) == 3
    assert frame_with(at, "decoding")["decoding"].tolist() == names
    assert len(list((runs / trained_runs.lead_lstm.name / "samples").iterdir())) == 3
    assert "Last generation took" in texts(at, "caption")
    assert "method auto (lead: window, accompaniment: window)" in texts(at, "caption")


def test_a_bad_extra_decoding_is_named_and_blocks_generating(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, extra="temperature:1.0, wobble:3, top_p:7")
    rerun(at)
    assert at.error, "no error shown"
    message = at.error[0].value
    assert "wobble:3" in message and "top_p:7" in message
    assert "temperature:1.0" not in message
    assert at.button(key="listen_generate").disabled
    assert at.button(key="listen_evaluate").disabled


def test_stateful_generation_is_timed_beside_the_window_method(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name)
    at.number_input(key="listen_steps").set_value(12)
    for method in ("window", "stateful"):
        at.radio(key="listen_method").set_value(method)
        rerun(at)
        at.button(key="listen_generate").click()
        rerun(at)
        assert not at.error, [e.value for e in at.error]
        assert len(at.get("audio")) == 1
    captions = texts(at, "caption")
    assert "method stateful (lead: stateful)" in captions
    assert "trained on windows" in captions  # stateful on a window-trained run is flagged
    timings = frame_with(at, "seconds")
    assert timings["method"].tolist() == ["stateful", "window"]


def test_corpus_evaluation_table_chart_and_csvs(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, trained_runs.accompaniment.name,
         ["greedy", "temperature"])
    at.number_input(key="listen_eval_pieces").set_value(3)
    at.number_input(key="listen_eval_steps").set_value(16)
    rerun(at)
    at.button(key="listen_evaluate").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    table = frame_with(at, "held-out pieces")
    assert {"greedy", "greedy overlap", "temperature t=0.65",
            "temperature t=0.65 overlap"} <= set(table.columns)
    assert "scale consistency" in table["metric"].tolist()
    assert "Yang & Lerch 2018" in texts(at, "caption")
    chart = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
             if "listen_eval_chart" in c.proto.id]
    assert [t["name"] for t in chart[0]["data"]] == ["greedy", "temperature t=0.65"]
    assert {"generated.csv", "reference.csv", "comparison.csv"} <= set(downloads(at))

    folders = list_evaluations(runs / trained_runs.lead_lstm.name)
    assert len(folders) == 1
    comparison = pd.read_csv(folders[0] / "comparison.csv")
    assert comparison["decoding"].unique().tolist() == ["greedy", "temperature-t0.65"]
    generated = pd.read_csv(folders[0] / "generated.csv")
    assert len(generated) == 2 * 3 and (generated["measured_symbols"] == 16).all()
    assert (folders[0] / "reference.csv").exists()

    again = open_page("listen")  # a fresh session reopens it from the run folder
    again.selectbox(key="listen_lead").set_value(trained_runs.lead_lstm.name)
    rerun(again)
    assert again.selectbox(key="listen_eval_earlier").value == str(folders[0])
    assert len(again.selectbox(key="listen_eval_earlier").options) == 1
    again.button(key="listen_eval_open").click()
    rerun(again)
    assert "greedy overlap" in frame_with(again, "held-out pieces").columns
    assert "comparison.csv" in downloads(again)


def test_conditioned_vs_unconditioned_accompaniment(runs, trained_runs, evidence_runs,
                                                    app_env):
    at = open_page("listen")
    assert at.button(key="listen_condition")
    at.selectbox(key="listen_cond_lead").set_value(trained_runs.lead_lstm.name)
    at.selectbox(key="listen_cond_plain").set_value(trained_runs.accompaniment.name)
    at.selectbox(key="listen_cond_conditioned").set_value(evidence_runs.conditioned)
    at.number_input(key="listen_cond_pieces").set_value(2)
    at.number_input(key="listen_cond_steps").set_value(16)
    rerun(at)
    at.button(key="listen_condition").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    table = frame_with(at, "pair")
    assert table["pair"].tolist() == ["unconditioned", "conditioned"]
    assert {"consonance mean", "consonance std", "best held-out loss"} <= set(table.columns)
    saved = pd.read_csv(list_evaluations(runs / trained_runs.lead_lstm.name)[0] /
                        "conditioning.csv")
    assert saved["accompaniment_run"].tolist() == [trained_runs.accompaniment.name,
                                                   evidence_runs.conditioned]
    assert table["best held-out loss"].tolist() == pytest.approx(saved["best_val_loss"].tolist())
    assert describe_conditioning(saved) in texts(at, "markdown")
    assert "conditioning.csv" in downloads(at)

    # without a conditioned accompaniment run the comparison is not offered
    app_env.use_runs(trained_runs.runs)
    plain = open_page("listen")
    assert not [b for b in plain.button if b.key == "listen_condition"]
    assert len(plain.tabs) == 2
