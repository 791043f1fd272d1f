"""The trivial baselines of a run's data (core.evidence.baselines), measured on real tiny runs
and checked against the held-out pieces read straight from the corpus."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from core.data.prepare import corpus_for
from core.evidence.baselines import (
    Baseline,
    BaselineError,
    baseline_columns,
    baseline_lines,
    run_baseline,
    run_baselines,
    target_baseline,
)
from core.files import read_json, write_json
from core.runs.listing import runs_table
from core.runs.record import open_run


def test_target_baseline_is_the_most_frequent_share_and_the_entropy():
    accuracy, entropy, best = target_baseline(np.array([2, 2, 2, 5]))
    assert (accuracy, best) == (0.75, 2)
    assert entropy == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))


def test_model_1_baseline_counts_the_symbol_after_each_held_out_window(trained_runs):
    run = open_run(trained_runs.lead_lstm)
    baseline = run_baseline(trained_runs.lead_lstm, trained_runs.cache)
    corpus = corpus_for(run.config, trained_runs.cache)
    n = run.config.window
    targets = Counter(s for piece in corpus.split("validation") for s in piece.lead.steps[n:])
    symbol, count = targets.most_common(1)[0]
    total = sum(targets.values())
    assert baseline.split == "held-out" and baseline.windows == total
    assert baseline.symbol == {"steps": symbol} and symbol == "_"      # mostly holds
    assert baseline.metrics()["accuracy"] == pytest.approx(count / total)
    shares = np.array(list(targets.values())) / total
    assert baseline.metrics()["loss"] == pytest.approx(-(shares * np.log(shares)).sum())
    assert "always “_”" in baseline.describe("accuracy")
    assert "nats" in baseline.describe("loss")


def test_model_2_has_a_baseline_per_head_and_their_sum_for_the_loss(trained_runs):
    baseline = run_baseline(trained_runs.model2, trained_runs.cache)
    metrics = baseline.metrics()
    assert set(metrics) == {"loss", "pitch_loss", "duration_loss", "pitch_accuracy",
                            "duration_accuracy"}
    assert metrics["loss"] == pytest.approx(metrics["pitch_loss"] + metrics["duration_loss"])
    assert 0 < metrics["pitch_accuracy"] < 1 and 0 < metrics["duration_accuracy"] < 1


def test_runs_of_one_data_share_one_measurement(trained_runs):
    calls = []

    def measure(run_dir, cache):
        calls.append(run_dir.name)
        return run_baseline(run_dir, cache)

    table = runs_table(trained_runs.runs)
    ids = [trained_runs.lead_lstm, trained_runs.lead_gru, trained_runs.accompaniment]
    found = run_baselines(ids, table, trained_runs.cache, measure=measure)
    assert len(calls) == 2                        # LSTM and GRU lead runs: the same data
    assert found[trained_runs.lead_lstm.name] == found[trained_runs.lead_gru.name]
    assert found[trained_runs.accompaniment.name] != found[trained_runs.lead_lstm.name]
    lines = baseline_lines(found, [p.name for p in ids], "accuracy")
    assert len(lines) == 2 and all(0 < value < 1 for _, value in lines)
    columns = baseline_columns(found, [p.name for p in ids] + ["unknown"], model=1)
    assert list(columns.columns) == ["baseline loss", "baseline accuracy", "baseline note acc"]
    assert 0 < columns["baseline note acc"].iloc[0] < columns["baseline accuracy"].iloc[0]
    assert columns["baseline accuracy"].iloc[0] == lines[0][1]
    assert math.isnan(columns["baseline loss"].iloc[3])            # no baseline: NaN, no row lost


def test_a_run_whose_corpus_changed_has_no_baseline(trained_runs, runs_copy):
    run = runs_copy / trained_runs.lead_lstm.name
    record = read_json(run / "config.json")
    record["corpus"]["key"] = "0" * 64
    write_json(run / "config.json", record)
    with pytest.raises(BaselineError, match="corpus has changed"):
        run_baseline(run, trained_runs.cache)
    found = run_baselines([run], pd.DataFrame({"run_id": []}), trained_runs.cache)
    assert "corpus has changed" in found[run.name]


def test_baseline_columns_of_model_2():
    baseline = Baseline("held-out", 10, {"pitch": 0.2, "duration": 0.6},
                        {"pitch": 2.0, "duration": 1.0}, {"pitch": "67", "duration": "1.0"})
    columns = baseline_columns({"r": baseline}, ["r"], model=2)
    assert columns.iloc[0].to_dict() == {"baseline loss": 3.0, "baseline pitch acc": 0.2,
                                         "baseline duration acc": 0.6}
