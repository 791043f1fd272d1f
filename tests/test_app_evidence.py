"""Evidence on the pages, through Streamlit's AppTest: k seeds and the fair LSTM vs GRU plan on
Train, seed groups drawn as mean + band, the verdict and the defense report on Compare.

Train tests only queue (core.queue.ensure_worker is replaced, so no worker trains anything);
Compare tests read a runs folder trained for real once per module: 2 seeds x (LSTM, GRU) with
core.verdict.train_seeds (about 12 s on 2 cores).
"""
from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.prepare import corpus_for
from core.evidence.experiments import matched_gru_units, train_seeds
from core.nets.config import TrainConfig
from core.runs.files import read_json
from core.runs.history import read_history
from core.runs.record import read_status

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 90
SUBMIT = "FormSubmitter:train_form-Queue this run"
TINY = dict(units=8, layers=1, epochs=2, window=8, max_pieces=6)
FORM = {"tf_units": 8, "tf_layers": 1, "tf_dropout_layers": 0, "tf_epochs": 1, "tf_window": 8}


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory) -> tuple[Path, Path]:
    """(runs, cache): LSTM and GRU at 8 units, seeds 0 and 1 each, trained for real."""
    root = tmp_path_factory.mktemp("seeds")
    runs, cache = root / "runs", root / "cache"
    for cell in ("lstm", "gru"):
        train_seeds(TrainConfig(cell=cell, **TINY).validate(), 2, runs, cache)
    return runs, cache


@pytest.fixture
def env(tmp_path, monkeypatch, seed_runs):
    """MUSIC_* folders in tmp (the corpus cache shared with seed_runs); no worker starts:
    returns the list of ensure_worker calls."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MUSIC_CACHE_DIR", str(seed_runs[1]))
    monkeypatch.setenv("MUSIC_UPLOADS_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("MUSIC_REPORTS_DIR", str(tmp_path / "reports"))
    calls = []
    monkeypatch.setattr("core.runs.worker.ensure_worker", lambda *args: calls.append(args))
    return calls


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "views" / f"{name}.py"), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest, *kinds: str) -> str:
    kinds = kinds or ("markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def configs(runs: Path) -> list[dict]:
    dirs = sorted(p for p in runs.iterdir() if p.is_dir()) if runs.exists() else []
    return [read_json(d / "config.json")["config"] | {"state": read_status(d)["state"]}
            for d in dirs]


def values(array) -> list[float]:
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


# --------------------------------------------------------------------------- Train

def test_k_seeds_queue_k_runs_with_consecutive_seeds(env, tmp_path):
    at = page("train", corpus_max_pieces=6)
    for key, value in {**FORM, "tf_seed": 5, "tf_seeds": 3}.items():
        at.number_input(key=key).set_value(value)
    at.selectbox(key="tf_objective").set_value("sequence")
    at.selectbox(key="tf_input_encoding").set_value("onehot")
    at.button(key=SUBMIT).click().run()
    assert not at.exception and not at.error, texts(at, "error")
    assert "Queued 3 seeds" in texts(at, "success")
    queued = configs(tmp_path / "runs")
    assert sorted(c["seed"] for c in queued) == [5, 6, 7]
    assert {c["state"] for c in queued} == {"queued"}
    assert sorted(c["label"] for c in queued) == [f"seed {i} of 3" for i in (1, 2, 3)]
    assert {(c["objective"], c["input_encoding"], c["units"]) for c in queued} == \
        {("sequence", "onehot", 8)}
    assert len(env) == 1                     # the worker was asked for once, not started


def test_fair_button_shows_widths_then_queues_three_settings_of_k_seeds(env, tmp_path,
                                                                        seed_runs):
    at = page("train", corpus_max_pieces=6)
    for key, value in FORM.items():
        at.number_input(key=key).set_value(value)
    click(at, "tf_fair")
    assert configs(tmp_path / "runs") == []          # nothing queued before confirming
    lstm = TrainConfig(**{**TINY, "epochs": 1, "dropout_layers": 0})
    matched = matched_gru_units(lstm, corpus_for(lstm, seed_runs[1]))
    assert f"**{matched} units wide**" in texts(at, "markdown")
    plan = at.dataframe[0].value
    assert list(plan["units"]) == [8, 8, matched]
    assert plan["parameters"].iloc[1] < plan["parameters"].iloc[0]   # GRU: 3 gates to 4
    assert at.number_input(key="fair_seeds").value == 3              # k = 1: 3 offered

    at.number_input(key="fair_seeds").set_value(2).run()
    click(at, "fair_queue")
    assert "Queued fair LSTM vs GRU, 2 seed(s) each" in texts(at, "success")
    queued = configs(tmp_path / "runs")
    assert len(queued) == 6 and {c["state"] for c in queued} == {"queued"}
    settings = sorted((c["cell"], c["units"], c["seed"]) for c in queued)
    assert settings == sorted([("lstm", 8, 0), ("lstm", 8, 1), ("gru", 8, 0), ("gru", 8, 1),
                               ("gru", matched, 0), ("gru", matched, 1)])
    assert any(f"GRU {matched} units (parameters of LSTM 8)" in c["label"] for c in queued)
    assert "fair_seeds" not in [w.key for w in at.number_input]     # the plan is done


# --------------------------------------------------------------------------- Compare

def test_compare_groups_seeds_into_mean_and_band_and_gives_a_verdict(env, monkeypatch,
                                                                     seed_runs):
    runs = seed_runs[0]
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(runs))
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir())
    at = page("compare", compare_selected=ids, compare_group_seeds=True)
    (loss,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if "compare_loss_chart" in c.proto.id]
    bands = [t for t in loss["data"] if t.get("fill") == "toself"]
    means = [t for t in loss["data"] if t.get("fill") != "toself"]
    assert len(bands) == len(means) == 4             # 2 settings x (train, held-out)
    assert all("2 seeds" in t["name"] for t in means)
    lstm = [d for d in ids if "lstm" in d]
    held = [t for t in means if t["name"].startswith("LSTM") and t["line"]["dash"] == "dash"]
    expected = np.mean([read_history(runs / d)["val_loss"] for d in lstm], axis=0)
    assert values(held[0]["y"]) == pytest.approx(expected.tolist())

    verdict = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert len(verdict) == 1 and verdict.iloc[0]["comparison"] == "equal units"
    assert (verdict.iloc[0]["lstm_n"], verdict.iloc[0]["gru_n"]) == (2, 2)
    assert np.isfinite(verdict.iloc[0]["ci_low"])
    body = texts(at, "markdown", "caption")
    assert "95% CI" in body and verdict.iloc[0]["verdict"] in body
    assert "Equal parameters" in body and "equal units" in body.lower()

    at.toggle(key="compare_group_seeds").set_value(False).run()     # one curve per run again
    (loss,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if "compare_loss_chart" in c.proto.id]
    assert not any(t.get("fill") == "toself" for t in loss["data"])


def test_compare_says_how_to_get_a_verdict_with_one_seed(env, monkeypatch, seed_runs,
                                                         tmp_path):
    runs = tmp_path / "one-seed"
    for run in seed_runs[0].iterdir():
        if run.is_dir() and read_json(run / "config.json")["config"]["seed"] == 0:
            shutil.copytree(run, runs / run.name)
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(runs))
    at = page("compare")
    verdict = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(verdict["verdict"]) == ["too few seeds"]
    assert "Fair LSTM vs GRU" in texts(at, "info")


def test_defense_report_button_offers_a_zip(env, monkeypatch, seed_runs, tmp_path):
    monkeypatch.setenv("MUSIC_RUNS_DIR", str(seed_runs[0]))
    ids = sorted(p.name for p in seed_runs[0].iterdir() if p.is_dir())
    at = page("compare", compare_selected=ids[:2])
    at.checkbox(key="compare_report_pdf").uncheck()
    click(at, "compare_report_build")
    (download,) = at.get("download_button")
    assert download.proto.label.startswith("Download report-") and ".zip" in \
        download.proto.label
    assert "No PDF: not asked for" in texts(at, "caption")
    (folder,) = (tmp_path / "reports").iterdir()
    assert (folder / "report.html").is_file()
    archive = zipfile.ZipFile(io.BytesIO(at.session_state["compare_report"]["zip"]))
    assert f"{folder.name}/report.html" in archive.namelist()
    html = archive.read(f"{folder.name}/report.html").decode()
    assert all(run_id in html for run_id in ids[:2])
