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
from core.nets.config import TrainConfig
from core.nets.training import train

ROOT = Path(__file__).resolve().parents[1]
LISTEN = str(ROOT / "views" / "listen.py")


@dataclass(frozen=True)
class EvidenceRuns:
    runs: Path          # trained_runs' four runs plus `conditioned`
    conditioned: str    # a Model 1 accompaniment run conditioned on the lead


@pytest.fixture(scope="module")
def evidence_runs(trained_runs, tmp_path_factory) -> EvidenceRuns:
    """A copy of trained_runs' folder with a conditioned accompaniment run trained into it."""
    runs = tmp_path_factory.mktemp("evidence") / "runs"
    shutil.copytree(trained_runs.runs, runs)
    config = TrainConfig(part="accompaniment", conditioned=True, units=8, layers=1, epochs=1,
                         window=8, max_pieces=6).validate()
    return EvidenceRuns(runs, train(config, runs_root=runs, cache_dir=trained_runs.cache).name)


@pytest.fixture
def runs(monkeypatch, tmp_path, trained_runs, evidence_runs) -> Path:
    """A private copy of evidence_runs the page may write samples and evaluations into."""
    target = tmp_path / "runs"
    shutil.copytree(evidence_runs.runs, target)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(target))
    monkeypatch.setenv("MUSIC_CACHE_DIR", str(trained_runs.cache))
    monkeypatch.setenv("MUSIC_UPLOADS_DIR", str(tmp_path / "uploads"))
    return target


def page() -> AppTest:
    at = AppTest.from_file(LISTEN, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def pick(at: AppTest, lead: str, accompaniment: str = "none", strategies=("greedy",),
         extra: str = "") -> None:
    at.selectbox(key="listen_lead").set_value(lead)
    at.selectbox(key="listen_accompaniment").set_value(accompaniment)
    at.multiselect(key="listen_strategies").set_value(list(strategies))
    at.text_input(key="listen_extra").set_value(extra)


def texts(at: AppTest, *kinds: str) -> str:
    kinds = kinds or ("markdown", "caption", "error", "warning", "info")
    return "\n".join(e.value for kind in kinds for e in at.get(kind)
                     if isinstance(getattr(e, "value", None), str))


def downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_three_decodings_side_by_side_with_temperature_twice(runs, trained_runs):
    at = page()
    pick(at, trained_runs.lead_lstm.name, trained_runs.accompaniment.name,
         ["temperature", "top_k"], extra="temperature:1.0, Temperature:0.65")
    at.number_input(key="listen_steps").set_value(16)
    run(at)
    assert "already listed, left out: temperature t=0.65" in texts(at, "caption")
    at.button(key="listen_generate").click()
    run(at)
    assert not at.error, [e.value for e in at.error]
    names = ["temperature t=0.65", "top_k k=8 t=0.65", "temperature t=1"]
    assert [s.value for s in at.subheader][:3] == names
    assert len(at.get("audio")) == 3
    assert frame_with(at, "decoding")["decoding"].tolist() == names
    assert len(list((runs / trained_runs.lead_lstm.name / "samples").iterdir())) == 3
    assert "Last generation took" in texts(at, "caption")
    assert "method auto (lead: window, accompaniment: window)" in texts(at, "caption")


def test_a_bad_extra_decoding_is_named_and_blocks_generating(runs, trained_runs):
    at = page()
    pick(at, trained_runs.lead_lstm.name, extra="temperature:1.0, wobble:3, top_p:7")
    run(at)
    assert at.error, "no error shown"
    message = at.error[0].value
    assert "wobble:3" in message and "top_p:7" in message
    assert "temperature:1.0" not in message
    assert at.button(key="listen_generate").disabled
    assert at.button(key="listen_evaluate").disabled


def test_stateful_generation_is_timed_beside_the_window_method(runs, trained_runs):
    at = page()
    pick(at, trained_runs.lead_lstm.name)
    at.number_input(key="listen_steps").set_value(12)
    for method in ("window", "stateful"):
        at.radio(key="listen_method").set_value(method)
        run(at)
        at.button(key="listen_generate").click()
        run(at)
        assert not at.error, [e.value for e in at.error]
        assert len(at.get("audio")) == 1
    captions = texts(at, "caption")
    assert "method stateful (lead: stateful)" in captions
    assert "trained on windows" in captions  # stateful on a window-trained run is flagged
    timings = frame_with(at, "seconds")
    assert timings["method"].tolist() == ["stateful", "window"]
    assert (timings["seconds"] > 0).all()


def test_corpus_evaluation_table_chart_and_csvs(runs, trained_runs):
    at = page()
    pick(at, trained_runs.lead_lstm.name, trained_runs.accompaniment.name,
         ["greedy", "temperature"])
    at.number_input(key="listen_eval_pieces").set_value(3)
    at.number_input(key="listen_eval_steps").set_value(16)
    run(at)
    at.button(key="listen_evaluate").click()
    run(at)
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

    again = page()  # a fresh session reopens it from the run folder
    again.selectbox(key="listen_lead").set_value(trained_runs.lead_lstm.name)
    run(again)
    assert again.selectbox(key="listen_eval_earlier").value == str(folders[0])
    assert len(again.selectbox(key="listen_eval_earlier").options) == 1
    again.button(key="listen_eval_open").click()
    run(again)
    assert "greedy overlap" in frame_with(again, "held-out pieces").columns
    assert "comparison.csv" in downloads(again)


def test_conditioned_vs_unconditioned_accompaniment(runs, trained_runs, evidence_runs,
                                                    monkeypatch):
    at = page()
    assert at.button(key="listen_condition")
    at.selectbox(key="listen_cond_lead").set_value(trained_runs.lead_lstm.name)
    at.selectbox(key="listen_cond_plain").set_value(trained_runs.accompaniment.name)
    at.selectbox(key="listen_cond_conditioned").set_value(evidence_runs.conditioned)
    at.number_input(key="listen_cond_pieces").set_value(2)
    at.number_input(key="listen_cond_steps").set_value(16)
    run(at)
    at.button(key="listen_condition").click()
    run(at)
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
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(trained_runs.runs))
    plain = page()
    assert not [b for b in plain.button if b.key == "listen_condition"]
    assert len(plain.tabs) == 2
