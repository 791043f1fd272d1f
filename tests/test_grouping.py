"""Seed groups as the Compare page draws them (core.evidence.grouping.seed_groups and
group_bands): which runs share a setting, what each group is called, and its mean and band
per epoch, smoothed or not. Runs tables are built in memory, as runs_table returns them."""
from __future__ import annotations

import pandas as pd
import pytest

from core.evidence.grouping import SEED_GROUP_COLUMNS, group_bands, seed_groups


def runs(*rows: dict) -> pd.DataFrame:
    """A runs table: each row's settings over a common default (LSTM 1x8, model 1 lead)."""
    base = dict(state="finished", model=1, part="lead", cell="lstm", layers=1, units=8,
                seed=0, label="")
    return pd.DataFrame([{**base, **row} for row in rows])


def test_seeds_of_a_setting_form_one_group_named_by_its_setting():
    table = runs(dict(run_id="a", seed=0, label="fair: LSTM 8 units, seed 1 of 2"),
                 dict(run_id="b", seed=1, label="fair: LSTM 8 units, seed 2 of 2"),
                 dict(run_id="c", cell="gru", label=""),
                 dict(run_id="d", cell="gru", units=16, state="running"))
    groups = seed_groups(table, ["a", "b", "c", "d"]).set_index("group")
    assert list(groups.columns) == list(SEED_GROUP_COLUMNS[1:])
    # one short legend entry per setting, whatever the runs' labels say
    assert sorted(groups.index) == ["GRU 16u", "GRU 8u", "LSTM 8u"]
    lstm = groups.loc["LSTM 8u"]
    assert (lstm["cell"], lstm["n"], sorted(lstm["run_ids"])) == ("lstm", 2, ["a", "b"])
    assert groups.loc["GRU 16u", "run_ids"] == ["d"]  # still running


def test_a_gru_as_wide_as_the_lstm_in_parameters_and_what_else_differs_are_named():
    table = runs(dict(run_id="l0", params=1000), dict(run_id="l1", seed=1, params=1000),
                 dict(run_id="g", cell="gru", params=760),
                 dict(run_id="m", cell="gru", units=10, params=1010),
                 dict(run_id="wide", cell="gru", units=30, params=5000))
    names = set(seed_groups(table, ["l0", "l1", "g", "m", "wide"])["group"])
    assert names == {"LSTM 8u", "GRU 8u", "GRU 10u (=params)", "GRU 30u"}
    deeper = runs(dict(run_id="a"), dict(run_id="b", layers=2, learning_rate=0.01),
                  dict(run_id="c", learning_rate=0.002))
    named = seed_groups(deeper.assign(learning_rate=deeper["learning_rate"].fillna(0.002)),
                        ["a", "b", "c"])
    assert sorted(named["group"]) == ["LSTM 1×8u, lr 0.002", "LSTM 2×8u, lr 0.01"]


def test_only_the_chosen_runs_count():
    table = runs(dict(run_id="a", label="same"), dict(run_id="b", label="same", units=16),
                 dict(run_id="c", label="left out", units=32))
    groups = seed_groups(table, ["a", "b"])
    assert sorted(groups["group"]) == ["LSTM 16u", "LSTM 8u"]
    assert seed_groups(table, []).empty


def fake_bands(dirs) -> pd.DataFrame:
    """curve_bands of a group whose held-out loss falls 3, 2, 1 with a spread of 1 - 3."""
    return pd.DataFrame({"epoch": [1, 2, 3], "seeds": [len(dirs)] * 3,
                         "val_loss_mean": [3.0, 2.0, 1.0], "val_loss_std": [1.0, 1.0, 1.0],
                         "val_loss_min": [2.0, 1.0, 0.0], "val_loss_max": [4.0, 3.0, 2.0]})


def test_group_bands_are_long_rows_per_group_and_smooth_like_curves(tmp_path):
    groups = seed_groups(runs(dict(run_id="a", seed=0), dict(run_id="b", seed=1)), ["a", "b"])
    seen = []
    bands = group_bands(groups, tmp_path, "minmax",
                        bands_of=lambda dirs: seen.append(dirs) or fake_bands(dirs))
    assert seen == [(tmp_path / "a", tmp_path / "b")]
    assert set(bands["group"]) == {groups["group"].iloc[0]}
    assert bands["split"].unique().tolist() == ["held-out"]
    assert bands["seeds"].tolist() == [2, 2, 2]
    assert (bands["low"].tolist(), bands["high"].tolist()) == ([2.0, 1.0, 0.0],
                                                               [4.0, 3.0, 2.0])
    smoothed = group_bands(groups, tmp_path, "std", ("rolling", 2), bands_of=fake_bands)
    smoothed = smoothed.sort_values("epoch")
    # a rolling mean of 2 epochs: 3, 2.5, 1.5; the band (mean -/+ std) is smoothed alike
    assert smoothed["mean"].tolist() == pytest.approx([3.0, 2.5, 1.5])
    assert smoothed["low"].tolist() == pytest.approx([2.0, 1.5, 0.5])
    assert smoothed["high"].tolist() == pytest.approx([4.0, 3.5, 2.5])
    assert group_bands(groups.iloc[0:0], tmp_path, bands_of=fake_bands).empty
