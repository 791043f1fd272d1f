"""Evidence on the pages, through Streamlit's AppTest: k seeds and the fair LSTM vs GRU plan on
Train, seed groups drawn as mean + band, the verdict and the defense report on Compare.

Train tests only queue (core.runs.worker.ensure_worker is replaced, so no worker trains
anything); Compare tests read 2 seeds x (LSTM, GRU) of one tiny setting from the run bank.
"""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.prepare import corpus_for
from core.evidence.evaluation import list_evaluations
from core.evidence.experiments import matched_gru_units
from core.files import read_json
from core.outputs.figures import series_colours
from core.runs.history import read_history
from core.runs.status import read_status
from tests.apptest import TIMEOUT, chart, click, open_page, page_path, rerun, texts, values
from tests.tiny import tiny_config

SUBMIT = "FormSubmitter:train_form-Queue this run"
FORM = {"tf_units": 8, "tf_layers": 1, "tf_dropout_layers": 0, "tf_epochs": 1, "tf_window": 8}
SEEDS = ("lstm_seed_0", "lstm_seed_1", "gru_seed_0", "gru_seed_1")


@pytest.fixture(scope="module")
def seed_runs(run_bank, tmp_path_factory) -> Path:
    """LSTM and GRU of one tiny setting, seeds 0 and 1 each, trained for real."""
    return run_bank.folder(tmp_path_factory.mktemp("seeds") / "runs", *SEEDS)


@pytest.fixture
def no_worker(app_env, monkeypatch):
    """app_env's folders; no worker starts: returns the list of ensure_worker calls."""
    calls = []
    monkeypatch.setattr("core.runs.worker.ensure_worker", lambda *args: calls.append(args))
    return calls


def configs(runs: Path) -> list[dict]:
    dirs = sorted(p for p in runs.iterdir() if p.is_dir()) if runs.exists() else []
    return [read_json(d / "config.json")["config"] | {"state": read_status(d)["state"]}
            for d in dirs]


# --------------------------------------------------------------------------- Train

def test_k_seeds_queue_k_runs_with_consecutive_seeds(no_worker, tmp_path):
    at = open_page("train", corpus_max_pieces=6)
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
    assert len(no_worker) == 1                     # the worker was asked for once, not started


def test_fair_button_shows_widths_then_queues_three_settings_of_k_seeds(no_worker, tmp_path,
                                                                        app_env, seed_runs):
    at = open_page("train", corpus_max_pieces=6)
    for key, value in FORM.items():
        at.number_input(key=key).set_value(value)
    click(at, "tf_fair")
    assert configs(tmp_path / "runs") == []          # nothing queued before confirming
    lstm = tiny_config(epochs=1, dropout_layers=0)
    matched = matched_gru_units(lstm, corpus_for(lstm, app_env.cache))
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

def test_compare_groups_seeds_by_default_and_draws_the_verdict(seed_runs, app_env):
    runs = app_env.use_runs(seed_runs)
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir())
    at = open_page("compare", compare_selected=ids)          # grouped without asking
    assert at.toggle(key="compare_group_seeds").value is True
    loss = chart(at, "compare_loss_chart")
    bands = [t for t in loss["data"] if t.get("fill") == "toself"]
    means = [t for t in loss["data"] if t.get("fill") != "toself"
             and t.get("legendgroup") != "baseline"]
    assert len(bands) == len(means) == 4             # 2 settings x (train, held-out)
    # one short legend entry per setting, never run ids or dates
    entries = {t["name"] for t in means if t.get("showlegend", True)}
    assert entries == {"LSTM 8u", "GRU 8u"}
    lstm = [d for d in ids if "lstm" in d]
    held = [t for t in means if t["name"].startswith("LSTM") and t.get("xaxis") == "x2"]
    assert {t["line"]["dash"] for t in means if t["name"].startswith("LSTM")} == {"solid"}
    expected = np.mean([read_history(runs / d)["val_loss"] for d in lstm], axis=0)
    assert values(held[0]["y"]) == pytest.approx(expected.tolist())
    # the baseline is named in the legend, never written over the curves
    assert not [a for a in loss["layout"]["annotations"] if "always" in a["text"]]

    verdict = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(verdict.columns[:4]) == ["comparison", "verdict", "GRU \u2212 LSTM",
                                         "95% interval"]
    assert len(verdict) == 1 and verdict.iloc[0]["comparison"] == "equal units"
    assert verdict.iloc[0]["seeds LSTM / GRU"] == "2 / 2"
    assert verdict.iloc[0]["95% interval"] != "\u2013"
    body = texts(at, "markdown", "caption")
    assert "95% CI" in body and verdict.iloc[0]["verdict"] in body
    assert "Equal parameters" in body and "equal units" in body.lower()
    # the verdict as a picture: the difference and its interval against zero
    picture = chart(at, "compare_verdict_chart")
    (dot,) = [t for t in picture["data"] if t["name"] == verdict.iloc[0]["verdict"]
              and t.get("xaxis", "x") == "x"]                  # the loss, the first panel
    assert "held-out note accuracy" in picture["layout"]["annotations"][1]["text"]
    assert values(dot["x"]) == pytest.approx([verdict.iloc[0]["GRU \u2212 LSTM"]])
    assert "error_x" in dot and picture["layout"]["shapes"][0]["x0"] == 0

    at.toggle(key="compare_group_seeds").set_value(False).run()     # one curve per run again
    loss = chart(at, "compare_loss_chart")
    assert not any(t.get("fill") == "toself" for t in loss["data"])


def test_compare_says_how_to_get_a_verdict_with_one_seed(seed_runs, tmp_path, app_env):
    runs = tmp_path / "one-seed"
    for run in seed_runs.iterdir():
        if run.is_dir() and read_json(run / "config.json")["config"]["seed"] == 0:
            shutil.copytree(run, runs / run.name)
    app_env.use_runs(runs)
    at = open_page("compare", compare_selected=sorted(p.name for p in runs.iterdir()))
    verdict = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(verdict["verdict"]) == ["too few seeds"]
    assert "Fair LSTM vs GRU" in texts(at, "info")


def test_defense_report_button_offers_a_zip(seed_runs, app_env):
    app_env.use_runs(seed_runs)
    ids = sorted(p.name for p in seed_runs.iterdir() if p.is_dir())
    at = open_page("compare", compare_selected=ids[:2])
    at.checkbox(key="compare_report_pdf").uncheck()
    evaluate_first = at.checkbox(key="compare_report_evaluate")
    assert evaluate_first.value and "the 2 selected run(s)" in evaluate_first.label
    click(at, "compare_report_build")
    assert all(list_evaluations(seed_runs / r) for r in ids[:2])   # started from the page
    (download,) = at.get("download_button")
    assert download.proto.label.startswith("Download report-") and ".zip" in \
        download.proto.label
    assert "No PDF: not asked for" in texts(at, "caption")
    (folder,) = app_env.reports.iterdir()
    assert (folder / "report.html").is_file()
    archive = zipfile.ZipFile(io.BytesIO(at.session_state["compare_report"]["zip"]))
    assert f"{folder.name}/report.html" in archive.namelist()
    html = archive.read(f"{folder.name}/report.html").decode()
    assert all(run_id in html for run_id in ids[:2])
    assert "overlapping area" in html and "No selected run has an evaluation" not in html
    rerun(at)
    assert "Every selected run has an evaluation" in texts(at, "caption")
    # built inside Streamlit, whose plotly template has no colours: still the palette's
    colours = set(re.findall(r'"line":\{"color":"(#[0-9a-fA-F]{6})"', html))
    assert set(series_colours(ids[:2]).values()) <= colours
    assert not any(c.startswith("#00000") for c in colours)


def reopened(page: str, address: dict) -> AppTest:
    """A reload or a copied link: a new session whose address holds `address` (AppTest does
    not run the browser, which writes a bound widget's value into the address)."""
    at = AppTest.from_file(page_path(page), default_timeout=TIMEOUT)
    at.query_params.update(address)
    return rerun(at)


def test_compare_reopens_on_the_runs_and_options_in_its_address(seed_runs, app_env, tmp_path):
    runs = app_env.use_runs(tmp_path / "runs")
    shutil.copytree(seed_runs, runs)
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir())
    picker = open_page("compare", compare_selected=ids[:3]).multiselect(key="compare_selected")
    names = [picker.options[i] for i in picker.indices]   # how the address names the runs
    address = {"compare_selected": names, "compare_spread": "±1 std",
               "compare_filter_cell": ["lstm", "gru"]}

    again = reopened("compare", address)
    assert again.session_state["compare_selected"] == ids[:3]
    assert again.radio(key="compare_spread").value == "std"
    assert again.multiselect(key="compare_filter_cell").value == ["lstm", "gru"]
    assert again.toggle(key="compare_group_seeds").value is True
    assert chart(again, "compare_loss_chart")             # drawn without re-ticking

    shutil.rmtree(runs / ids[0])                          # deleted since: dropped quietly
    assert reopened("compare", address).session_state["compare_selected"] == ids[1:3]


def test_the_train_form_keeps_its_settings_across_pages_and_in_the_address(no_worker):
    at = open_page("app", corpus_max_pieces=6)
    at.switch_page("views/train.py")
    rerun(at)
    for key, value in {**FORM, "tf_units": 24, "tf_seeds": 2}.items():
        at.number_input(key=key).set_value(value)
    at.selectbox(key="tf_objective").set_value("sequence")
    at.button(key=SUBMIT).click().run()
    assert "Queued 2 seeds" in texts(at, "success")
    objective = at.selectbox(key="tf_objective")
    title = objective.options[objective.index]            # how the address names it
    for page in ("compare", "train"):                     # another page and back
        at.switch_page(f"views/{page}.py")
        rerun(at)
    assert (at.number_input(key="tf_units").value, at.number_input(key="tf_seeds").value,
            at.selectbox(key="tf_objective").value) == (24, 2, "sequence")

    again = reopened("train", {"tf_units": "24", "tf_seeds": "2", "tf_objective": title})
    assert (again.number_input(key="tf_units").value, again.number_input(key="tf_seeds").value,
            again.selectbox(key="tf_objective").value) == (24, 2, "sequence")


def test_start_gives_the_verdict_headline_and_lines_up_its_open_buttons(seed_runs, app_env,
                                                                        tmp_path):
    app_env.use_runs(seed_runs)
    at = open_page("home")
    (line,) = [m for m in texts(at, "markdown").splitlines() if "The verdict so far." in m]
    assert "LSTM 8 units, 2 seeds a side:" in line and "95% CI" in line
    assert "val_" not in line
    # the Open buttons in a row of their own, one per column, whatever each card says
    opens = [c for c in at.columns
             if any(getattr(e, "key", "") and str(e.key).startswith("home_open_")
                    for e in c.children.values())]
    assert len(opens) >= 4 and all(len(c.children) == 1 for c in opens)

    one = tmp_path / "one-seed"                            # no interval yet: no headline
    for run in seed_runs.iterdir():
        if run.is_dir() and read_json(run / "config.json")["config"]["seed"] == 0:
            shutil.copytree(run, one / run.name)
    app_env.use_runs(one)
    assert "The verdict so far." not in texts(open_page("home"))


def test_compare_keeps_its_runs_and_options_when_the_user_goes_to_another_page(seed_runs,
                                                                             app_env):
    app_env.use_runs(seed_runs)
    ids = sorted(p.name for p in seed_runs.iterdir() if p.is_dir())
    at = open_page("app")
    at.switch_page("views/compare.py")
    rerun(at)
    at.multiselect(key="compare_selected").set_value(ids[:2])
    rerun(at)
    at.toggle(key="compare_group_seeds").set_value(False)
    rerun(at)
    at.switch_page("views/home.py")                       # Start, then back: nothing re-ticked
    rerun(at)
    at.switch_page("views/compare.py")
    rerun(at)
    assert at.multiselect(key="compare_selected").value == ids[:2]
    assert at.toggle(key="compare_group_seeds").value is False
    assert chart(at, "compare_loss_chart")
