"""Seeds, matched parameter budgets, Welch's and the binomial test, and verdicts the numbers
decide."""
import dataclasses
import json
import math
from pathlib import Path

import pytest
from scipy import stats

from core.data.prepare import corpus_for
from core.evidence.experiments import (
    fair_pair,
    matched_gru_units,
    parameter_count,
    seed_configs,
)
from core.evidence.grouping import BAND_COLUMNS, bands_long, curve_bands, group_runs
from core.evidence.statistics import binomial_test, welch
from core.evidence.verdict import (
    GRU_BETTER,
    LSTM_BETTER,
    TOO_FEW,
    WITHIN_NOISE,
    headline,
    readable_verdict,
    verdict_table,
    verdict_tables,
)
from core.outputs.figures import VERDICT_COLOURS, verdict_figure
from core.nets.config import ConfigError, TrainConfig
from core.runs.listing import list_runs, runs_table
from tests.tiny import tiny_config


@pytest.fixture(scope="module")
def cache(run_bank):
    """The run bank's prepared corpus cache (the tiny corpus is prepared once)."""
    return run_bank.cache


# --------------------------------------------------------------------------- statistics

def test_welch_matches_r_t_test():
    # R: t.test(c(1, 2, 3), c(4, 5, 6)) -> t = -3.6742, df = 4, p-value = 0.02131,
    # 95 percent confidence interval -5.266958 -0.733042
    w = welch([1, 2, 3], [4, 5, 6])
    assert w.difference == -3.0 and w.df == pytest.approx(4.0)
    assert w.t == pytest.approx(-3.6742, abs=1e-4)
    assert w.p_value == pytest.approx(0.02131, abs=1e-5)
    assert (w.ci_low, w.ci_high) == pytest.approx((-5.266958, -0.733042), abs=1e-6)


def test_welch_unequal_variances_uses_satterthwaite_df():
    x, y = [10.0, 12.0, 14.0], [5.0, 5.5, 6.0, 6.5, 7.0]
    w = welch(x, y)
    vx, vy = 4.0 / 3, 0.625 / 5
    assert w.df == pytest.approx((vx + vy) ** 2 / (vx ** 2 / 2 + vy ** 2 / 4))
    half = stats.t.ppf(0.975, w.df) * math.sqrt(vx + vy)
    assert (w.ci_low, w.ci_high) == pytest.approx((6.0 - half, 6.0 + half))
    with pytest.raises(ValueError):
        welch([1.0], [2.0, 3.0])


def test_welch_without_spread_is_exact():
    same = welch([0.5, 0.5], [0.5, 0.5, 0.5])
    assert (same.t, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    apart = welch([0.1, 0.1], [0.3, 0.3])
    assert apart.difference == pytest.approx(-0.2) and apart.t == -math.inf
    assert apart.ci_low == apart.ci_high == apart.difference and apart.p_value == 0.0


def test_binomial_test_matches_r():
    # R: binom.test(7, 10)$p.value = 0.34375; binom.test(9, 10) = 0.02148438
    assert binomial_test(7, 10) == pytest.approx(0.34375)
    assert binomial_test(9, 10) == pytest.approx(0.02148438, abs=1e-8)
    assert binomial_test(10, 10) == pytest.approx(2 / 1024)
    assert binomial_test(5, 10) == 1.0
    with pytest.raises(ValueError):
        binomial_test(11, 10)


# --------------------------------------------------------------------------- seeds, budgets

def test_seed_configs_change_only_seed_and_label():
    base = TrainConfig(seed=5, label="wide")
    configs = seed_configs(base, 3)
    assert [c.seed for c in configs] == [5, 6, 7]
    assert [c.label for c in configs] == ["wide, seed 1 of 3", "wide, seed 2 of 3",
                                          "wide, seed 3 of 3"]
    assert all(dataclasses.replace(c, seed=5, label="wide") == base for c in configs)
    with pytest.raises(ConfigError):
        seed_configs(base, 0)


def test_matched_gru_has_the_lstm_parameter_budget(cache):
    lstm = tiny_config(units=64, layers=2)
    corpus = corpus_for(lstm, cache)
    target = parameter_count(lstm, corpus)
    units = matched_gru_units(lstm, corpus)
    matched = parameter_count(dataclasses.replace(lstm, cell="gru", units=units), corpus)
    equal = parameter_count(dataclasses.replace(lstm, cell="gru"), corpus)
    assert units > 64 and equal < matched
    assert abs(matched - target) / target < 0.02
    for neighbour in (units - 1, units + 1):  # no other width is closer
        other = parameter_count(dataclasses.replace(lstm, cell="gru", units=neighbour), corpus)
        assert abs(other - target) >= abs(matched - target)
    cells = [(c.cell, c.units) for c in fair_pair(lstm, corpus)]
    assert cells == [("lstm", 64), ("gru", 64), ("gru", units)]


# --------------------------------------------------------------------------- synthetic runs

def write_run(root: Path, run_id: str, losses: list[float], params: int = 1000,
              state: str = "finished", **settings) -> Path:
    """A run directory as core.runs writes it, whose held-out loss reaches min(losses)."""
    run = root / run_id
    run.mkdir(parents=True)
    config = TrainConfig(**settings).validate()
    (run / "config.json").write_text(json.dumps({"run_id": run_id, "config": config.to_dict(),
                                                 "parameters": params}))
    (run / "status.json").write_text(json.dumps({"state": state}))
    rows = ["epoch,loss,accuracy,val_loss,val_accuracy,seconds"]
    rows += [f"{i + 1},{v + 0.1},0.5,{v},0.4,1.0" for i, v in enumerate(losses)]
    (run / "history.csv").write_text("\n".join(rows) + "\n")
    return run


def write_pair(root: Path, lstm: list[float], gru: list[float], gru_units: int = 64,
               gru_params: int = 1000, lstm_units: int = 64, **settings) -> None:
    for seed, loss in enumerate(lstm):
        write_run(root, f"lstm-{seed}", [loss + 0.5, loss], cell="lstm", units=lstm_units,
                  seed=seed, **settings)
    for seed, loss in enumerate(gru):
        write_run(root, f"gru{gru_units}-{seed}", [loss + 0.5, loss], params=gru_params,
                  cell="gru", units=gru_units, seed=seed, **settings)


def test_group_runs_one_row_per_setting(tmp_path):
    write_pair(tmp_path, [1.0, 1.2, 1.4], [2.0])
    write_run(tmp_path, "lstm-other-rate", [0.5], cell="lstm", units=64, dropout_rate=0.3)
    write_run(tmp_path, "lstm-cancelled", [0.1], cell="lstm", units=64, state="cancelled")
    groups = group_runs(runs_table(tmp_path)).set_index(["cell", "dropout_rate"])
    assert len(groups) == 3  # dropout rate is a different setting; cancelled runs are left out
    lstm = groups.loc[("lstm", 0.2)]
    assert (lstm["n"], lstm["seeds"]) == (3, 3)
    assert lstm["best_val_loss_mean"] == pytest.approx(1.2)
    assert lstm["best_val_loss_std"] == pytest.approx(0.2)
    assert (lstm["best_val_loss_min"], lstm["best_val_loss_max"]) == pytest.approx((1.0, 1.4))
    assert lstm["final_loss_mean"] == pytest.approx(1.3)
    assert sorted(lstm["run_ids"]) == ["lstm-0", "lstm-1", "lstm-2"]
    assert groups.loc[("gru", 0.2), "n"] == 1
    assert len(group_runs(list_runs(tmp_path))) == 2  # list_runs cannot see dropout_rate


@pytest.mark.parametrize("lstm, gru, verdict", [
    ([1.00, 1.02, 0.98], [1.50, 1.52, 1.49], LSTM_BETTER),
    ([1.50, 1.52, 1.49], [1.00, 1.02, 0.98], GRU_BETTER),
    ([1.00, 1.30, 0.90], [1.10, 0.95, 1.20], WITHIN_NOISE),
    ([1.00], [1.50], TOO_FEW),
])
def test_verdict_follows_the_interval(tmp_path, lstm, gru, verdict):
    write_pair(tmp_path, lstm, gru)
    table = verdict_table(runs_table(tmp_path))
    assert len(table) == 1
    row = table.iloc[0]
    assert row["comparison"] == "equal units" and row["verdict"] == verdict
    assert (row["lstm_n"], row["gru_n"]) == (len(lstm), len(gru))
    assert row["difference"] == pytest.approx(sum(gru) / len(gru) - sum(lstm) / len(lstm))
    assert verdict in row["sentence"]
    if verdict == TOO_FEW:
        assert math.isnan(row["ci_low"]) and math.isnan(row["p_value"])
    else:
        assert (row["ci_low"] > 0) == (verdict == LSTM_BETTER)
        assert (row["ci_high"] < 0) == (verdict == GRU_BETTER)
        assert (row["p_value"] < 0.05) == (verdict != WITHIN_NOISE)


def test_equal_parameters_pairs_wider_gru_within_tolerance(tmp_path):
    write_pair(tmp_path / "near", [1.0, 1.1, 1.2], [0.5, 0.6, 0.55], gru_units=74,
               gru_params=1030)
    write_pair(tmp_path / "far", [1.0, 1.1], [1.0, 1.1], gru_units=90, gru_params=1300)
    table = verdict_table(runs_table(tmp_path / "near"))
    assert list(table["comparison"]) == ["equal parameters"]
    assert (table.iloc[0]["lstm_units"], table.iloc[0]["gru_units"]) == (64, 74)
    assert table.iloc[0]["verdict"] == GRU_BETTER
    assert verdict_table(runs_table(tmp_path / "far")).empty  # 30% more is not a fair budget
    # 8 LSTM units: no whole GRU width comes within 5%, so the closest (9) is accepted
    write_pair(tmp_path / "narrow", [1.0, 1.1], [1.0, 1.1], lstm_units=8, gru_units=9,
               gru_params=1063)
    assert list(verdict_table(runs_table(tmp_path / "narrow"))["comparison"]) == [
        "equal parameters"]


def write_trio(root: Path) -> None:
    """LSTM 64 units; a GRU at equal units clearly better; a GRU at equal parameters
    within noise (3 seeds each)."""
    for seed, loss in enumerate([1.50, 1.52, 1.49]):
        write_run(root, f"lstm-{seed}", [loss + 0.5, loss], cell="lstm", units=64, seed=seed)
    for seed, loss in enumerate([1.00, 1.02, 0.98]):
        write_run(root, f"gru64-{seed}", [loss + 0.5, loss], params=750, cell="gru",
                  units=64, seed=seed)
    for seed, loss in enumerate([1.50, 1.30, 1.65]):
        write_run(root, f"gru74-{seed}", [loss + 0.5, loss], params=1030, cell="gru",
                  units=74, seed=seed)


def test_the_headline_says_the_verdict_of_each_fair_comparison_in_one_line(tmp_path):
    write_trio(tmp_path)
    tables = verdict_tables(runs_table(tmp_path))
    assert list(tables) == ["best_val_loss"]     # these runs measured no note accuracy
    line = headline(tables["best_val_loss"])
    assert line.startswith("LSTM 64 units, 3 seeds a side: GRU beats LSTM at equal units "
                           "(held-out loss \u22120.503, 95% CI \u2212")
    assert "; at equal parameters the difference is within noise (held-out loss " in line
    assert "-" not in line.replace("held-out", "")   # real minus signs, no Keras names
    write_pair(tmp_path / "one", [1.0], [1.5])
    assert headline(verdict_table(runs_table(tmp_path / "one"))) is None  # no interval yet


def test_the_readable_verdict_puts_the_verdict_and_its_interval_first(tmp_path):
    write_trio(tmp_path)
    shown = readable_verdict(verdict_table(runs_table(tmp_path)))
    assert list(shown.columns[:5]) == ["comparison", "verdict", "GRU \u2212 LSTM",
                                       "95% interval", "Welch p"]
    assert not any("_" in c for c in shown.columns)     # human headers
    row = shown.set_index("comparison").loc["equal units"]
    assert row["seeds LSTM / GRU"] == "3 / 3" and row["parameters LSTM / GRU"] == "1,000 / 750"
    assert row["95% interval"].startswith("\u22120.") and " to \u22120." in row["95% interval"]
    write_pair(tmp_path / "one", [1.0], [1.5])
    assert readable_verdict(verdict_table(runs_table(tmp_path / "one")))[
        "95% interval"].tolist() == ["\u2013"]


def test_the_verdict_picture_draws_each_difference_and_interval_against_zero(tmp_path):
    write_trio(tmp_path)
    tables = verdict_tables(runs_table(tmp_path))
    table = tables["best_val_loss"]
    fig = verdict_figure(tables)
    by_verdict = {t.name: t for t in fig.data}
    assert set(by_verdict) == {GRU_BETTER, WITHIN_NOISE}
    for verdict, trace in by_verdict.items():
        row = table[table["verdict"] == verdict].iloc[0]
        assert trace.marker.color == VERDICT_COLOURS[verdict]
        assert trace.x[0] == pytest.approx(row["difference"])
        low = trace.x[0] - trace.error_x.arrayminus[0]
        high = trace.x[0] + trace.error_x.array[0]
        assert (low, high) == pytest.approx((row["ci_low"], row["ci_high"]))
    assert "equal units<br>LSTM 64u vs GRU 64u" in by_verdict[GRU_BETTER].y[0]
    (zero,) = fig.layout.shapes
    assert zero.x0 == zero.x1 == 0 and zero.line.dash == "dot"
    title = fig.layout.annotations[0].text
    assert title.startswith("held-out loss (nats)") and "\u2190 GRU better" in title


def test_repeated_seed_counts_once(tmp_path):
    write_pair(tmp_path, [1.0, 1.1], [1.5, 1.6])
    write_run(tmp_path, "lstm-0-again", [1.0], cell="lstm", units=64, seed=0)
    row = verdict_table(runs_table(tmp_path)).iloc[0]
    assert row["lstm_n"] == 2


def test_curve_bands_spread_across_seeds(tmp_path):
    runs = [write_run(tmp_path, f"r{i}", losses) for i, losses in
            enumerate([[2.0, 1.0, 0.5], [3.0, 2.0], [4.0, 3.0]])]
    bands = curve_bands(runs).set_index("epoch")
    assert list(bands["seeds"]) == [3, 3, 1]
    assert bands.loc[1, "val_loss_mean"] == pytest.approx(3.0)
    assert bands.loc[1, "val_loss_std"] == pytest.approx(1.0)
    assert (bands.loc[2, "loss_min"], bands.loc[2, "loss_max"]) == pytest.approx((1.1, 3.1))
    assert {"accuracy_mean", "val_accuracy_max"} <= set(bands.columns)
    assert "seconds_mean" not in bands


def test_bands_long_min_max_and_std(tmp_path):
    runs = [write_run(tmp_path, f"r{i}", losses) for i, losses in
            enumerate([[2.0, 1.0, 0.5], [3.0, 2.0], [4.0, 3.0]])]
    bands = curve_bands(runs)
    wide = bands_long(bands).set_index(["metric", "split", "epoch"]).sort_index()
    held = wide.loc[("loss", "held-out")]
    assert list(held["seeds"]) == [3, 3, 1]
    assert (held.loc[1, "low"], held.loc[1, "mean"], held.loc[1, "high"]) == \
        pytest.approx((2.0, 3.0, 4.0))
    assert held.loc[3, "low"] == held.loc[3, "high"] == pytest.approx(0.5)
    assert ("accuracy", "train") in {k[:2] for k in wide.index}
    std = bands_long(bands, "std").set_index(["metric", "split", "epoch"])
    assert (std.loc[("loss", "held-out", 1), "low"],
            std.loc[("loss", "held-out", 1), "high"]) == pytest.approx((2.0, 4.0))
    assert std.loc[("loss", "held-out", 3), "high"] == pytest.approx(0.5)  # one seed
    with pytest.raises(ValueError):
        bands_long(bands, "iqr")
    assert list(bands_long(curve_bands([])).columns) == list(BAND_COLUMNS)


# --------------------------------------------------------------------------- end to end

@pytest.mark.slow
def test_real_seeds_give_a_finite_verdict(tmp_path, run_bank):
    run_bank.folder(tmp_path, "lstm_seed_0", "lstm_seed_1", "gru_seed_0", "gru_seed_1")
    table = verdict_table(runs_table(tmp_path))
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["lstm_n"], row["gru_n"]) == (2, 2)
    assert math.isfinite(row["difference"]) and math.isfinite(row["ci_low"])
    assert row["verdict"] in (LSTM_BETTER, GRU_BETTER, WITHIN_NOISE)
