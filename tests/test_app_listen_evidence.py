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
from core.runs.listing import list_runs, run_labels
from core.runs.samples import list_samples
from core.sampling.decoding import BOUNDS
from tests.apptest import click, downloads, frame_with, open_page, rerun, texts
from tests.tiny import STANDARD


@dataclass(frozen=True)
class EvidenceRuns:
    runs: Path          # trained_runs' four runs plus `conditioned` and `window`
    conditioned: str    # a Model 1 accompaniment run conditioned on the lead
    window: str         # a lead run trained on the thesis's window objective


@pytest.fixture(scope="module")
def evidence_runs(run_bank, tmp_path_factory) -> EvidenceRuns:
    """The four standard runs, a conditioned accompaniment run and a window-objective lead
    run in one folder."""
    runs = run_bank.folder(tmp_path_factory.mktemp("evidence") / "runs", *STANDARD,
                           "conditioned", "lead_window")
    return EvidenceRuns(runs, run_bank.path("conditioned").name,
                        run_bank.path("lead_window").name)


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
    at.slider(key="listen_temperature").set_value(0.65)
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
    assert "method auto (lead: stateful, accompaniment: stateful)" in texts(at, "caption")


def test_five_decodings_stay_readable_with_downloads_named_in_full(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, trained_runs.accompaniment.name,
         ["greedy", "temperature", "top_k", "top_p", "beam"])
    at.number_input(key="listen_steps").set_value(16)
    rerun(at)
    click(at, "listen_generate")
    assert not at.error, [e.value for e in at.error]
    assert at.radio(key="listen_layout").value == "rows"   # 5 samples: a row each
    scores = [m.value for m in at.markdown if "score-frame" in m.value]
    assert len(scores) == 5
    assert all('viewBox="0 0 ' in score for score in scores)  # shrinks, never cut to a bar
    assert downloads(at) == ["MIDI", "MusicXML", "WAV"] * 5
    metrics = frame_with(at, "decoding")
    assert len(metrics) == 5 and not metrics.isin([None, "None", "nan"]).any().any()
    at.radio(key="listen_layout").set_value("columns")
    rerun(at)
    assert len([m for m in at.markdown if "score-frame" in m.value]) == 5
    assert downloads(at) == ["MIDI", "MusicXML", "WAV"] * 5


def test_temperature_reaches_zero_greedy_and_model_2_has_two(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, strategies=["temperature"])
    rerun(at)
    slider = at.slider(key="listen_temperature")
    assert slider.min == 0.0
    assert not [s for s in at.slider if s.key == "listen_duration_temperature"]  # Model 1
    slider.set_value(0.0)
    rerun(at)
    assert "temperature t=0 (greedy)" in texts(at, "caption")
    pick(at, trained_runs.model2.name, strategies=["temperature"])
    rerun(at)
    at.slider(key="listen_temperature").set_value(0.5)
    at.slider(key="listen_duration_temperature").set_value(1.2)
    at.number_input(key="listen_steps").set_value(8)
    rerun(at)
    assert "temperature t=0.5 duration t=1.2" in texts(at, "caption")
    click(at, "listen_generate")
    assert not at.error, [e.value for e in at.error]
    (sample,) = list_samples(runs / trained_runs.model2.name)
    assert sample["decoding"]["duration_temperature"] == 1.2


def test_the_decoding_widgets_take_their_ranges_from_core_and_typed_ones_are_checked(
        runs, trained_runs):
    """One table of bounds for the page and the CLI (core.sampling.decoding.BOUNDS); a typed
    decoding out of it, or with a value its strategy does not take, is listed, not run."""
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name, strategies=["temperature", "top_k", "beam"],
         extra="beam:100, greedy:3, top_k:4")
    rerun(at)
    assert (at.slider(key="listen_temperature").max, at.number_input(key="listen_top_k").max,
            at.number_input(key="listen_beam").max) == \
        (BOUNDS["temperature"].high, BOUNDS["top_k"].high, BOUNDS["beam_width"].high)
    (error,) = [e.value for e in at.error]
    assert "`beam:100`: beam_width must be in [1, 16], got 100" in error
    assert "`greedy:3`: greedy takes no value, got 'greedy:3'" in error
    assert "top_k k=4" in texts(at, "caption")


def test_earlier_samples_are_deleted_after_a_confirmation(runs, trained_runs):
    at = open_page("listen")
    pick(at, trained_runs.lead_lstm.name)
    at.number_input(key="listen_steps").set_value(8)
    rerun(at)
    click(at, "listen_generate")
    (sample,) = list_samples(runs / trained_runs.lead_lstm.name)
    at.checkbox(key=f"listen_earlier_0_{sample['folder']}").check()
    rerun(at)
    assert at.button(key="listen_delete").disabled          # not before the confirmation
    at.checkbox(key="listen_earlier_sure_0").check()
    rerun(at)
    click(at, "listen_delete")
    assert list_samples(runs / trained_runs.lead_lstm.name) == []
    assert not Path(sample["folder"]).exists() and (runs / trained_runs.lead_lstm.name).is_dir()
    assert not at.get("audio")                               # no longer shown either
    assert not at.query_params.get("samples")                # nor named in the address


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


def test_stateful_generation_is_timed_beside_the_window_method(runs, evidence_runs):
    at = open_page("listen")
    pick(at, evidence_runs.window)
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
    at.slider(key="listen_temperature").set_value(0.65)
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
    # the tab follows the lead chosen at the top of the page
    labels = run_labels(list_runs(runs))
    for lead in (trained_runs.lead_gru.name, trained_runs.lead_lstm.name):
        pick(at, lead, trained_runs.accompaniment.name)
        rerun(at)
        assert f"Lead run (both pairs, chosen above): **{labels[lead]}**" in \
            texts(at, "markdown")
    accompaniment = trained_runs.accompaniment.name     # its pickers start from the page's
    assert at.selectbox(key=f"listen_cond_plain_{accompaniment}").value == accompaniment
    at.selectbox(key=f"listen_cond_conditioned_{accompaniment}").set_value(
        evidence_runs.conditioned)
    at.number_input(key="listen_cond_pieces").set_value(2)
    at.number_input(key="listen_cond_steps").set_value(16)
    rerun(at)
    at.button(key="listen_condition").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    table = frame_with(at, "pair")
    assert table["pair"].tolist() == ["unconditioned", "conditioned"]
    assert {"consonance mean", "consonance std", "best held-out loss"} <= set(table.columns)
    assert not table.isin([None, "None", "nan"]).any().any()      # dashes, never "None"
    saved = pd.read_csv(list_evaluations(runs / trained_runs.lead_lstm.name)[0] /
                        "conditioning.csv")
    assert saved["accompaniment_run"].tolist() == [trained_runs.accompaniment.name,
                                                   evidence_runs.conditioned]
    assert table["best held-out loss"].tolist() == [f"{v:.3f}" for v in saved["best_val_loss"]]
    assert describe_conditioning(saved) in texts(at, "markdown")
    assert "conditioning.csv" in downloads(at)

    # without a conditioned accompaniment run the comparison is not offered
    app_env.use_runs(trained_runs.runs)
    plain = open_page("listen")
    assert not [b for b in plain.button if b.key == "listen_condition"]
    assert len(plain.tabs) == 2
