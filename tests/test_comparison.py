"""Reading runs and samples back (curves, tables, sample metrics, decodings) on small
hand-written run folders and samples (no training, no Streamlit)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.timeline import PartSymbols
from core.evidence.curves import (
    LONG_COLUMNS,
    history_long,
    load_histories_long,
    metric_column,
    smooth,
    split_metric,
)
from core.evidence.measure import (
    SAMPLE_METRICS,
    generated_notes,
    generated_quarters,
    sample_metrics,
)
from core.evidence.tables import hyperparameter_frame, summary_table
from core.files import RunFileError, file_stamp
from core.runs.history import read_history
from core.runs.listing import filter_runs, list_runs, run_labels
from core.runs.samples import read_sample, sample_file
from core.sampling.decoding import Decoding

M1_HISTORY = """epoch,accuracy,loss,val_loss,val_accuracy,seconds,elapsed
1,0.40,2.00,2.20,0.35,1.5,1.6
2,0.55,1.50,1.90,0.45,1.0,2.6
3,0.70,1.00,2.05,0.44,1.0,3.6
"""
M2_HISTORY = """epoch,duration_accuracy,duration_loss,loss,pitch_accuracy,pitch_loss,val_loss,val_pitch_loss,val_pitch_accuracy,val_duration_loss,val_duration_accuracy,seconds,elapsed
1,0.60,1.00,3.00,0.20,2.00,3.50,2.30,0.15,1.20,0.55,2.0,2.0
2,0.70,0.80,2.40,0.30,1.60,3.10,2.00,0.25,1.10,0.60,2.0,4.0
"""


def write_run(root: Path, run_id: str, history: str | None = None, state: str = "finished",
              **settings) -> Path:
    """A run folder as core.runs writes one: config.json, status.json, history.csv."""
    run = root / run_id
    run.mkdir(parents=True)
    config = {"model": 1, "cell": "lstm", "part": "lead", "units": 16, "layers": 1,
              "dropout_layers": 1, "window": 16, "batch_size": 64, "epochs": 3,
              "learning_rate": 0.002, "label": "", **settings}
    (run / "config.json").write_text(json.dumps({"run_id": run_id, "created": "2026-01-01",
                                                 "config": config, "parameters": 123}))
    (run / "status.json").write_text(json.dumps({"state": state}))
    if history is not None:
        (run / "history.csv").write_text(history)
    return run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root, "20260101-100000-m1-lead-lstm-1x16-s0", M1_HISTORY)
    write_run(root, "20260101-110000-m1-lead-gru-1x16-s0", M1_HISTORY.replace("1.00,2.05",
                                                                              "1.20,2.50"),
              cell="gru", units=32)
    write_run(root, "20260101-120000-m2-lead-lstm-1x16-s0", M2_HISTORY, model=2, epochs=2)
    write_run(root, "20260101-130000-m1-lead-lstm-1x16-s1", None, state="queued")
    broken = root / "20260101-140000-broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "status.json").write_text(json.dumps({"state": "finished"}))
    return root


# --------------------------------------------------------------------------- histories

def test_split_metric_and_column_are_inverse():
    assert split_metric("val_loss") == ("held-out", "loss")
    assert split_metric("pitch_accuracy") == ("train", "pitch_accuracy")
    assert split_metric("val_duration_accuracy") == ("held-out", "duration_accuracy")
    for column in ("loss", "val_pitch_loss", "accuracy"):
        assert metric_column(*reversed(split_metric(column))) == column
    with pytest.raises(ValueError):
        metric_column("loss", "test")


def test_read_history(runs: Path):
    history = read_history(runs / "20260101-100000-m1-lead-lstm-1x16-s0")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["val_loss"].tolist() == [2.2, 1.9, 2.05]
    assert read_history(runs / "20260101-130000-m1-lead-lstm-1x16-s1").empty


@pytest.mark.parametrize("text", ["garbage\x00\x01,,\n\"unclosed", "loss\n1.0\n",
                                  "epoch,loss\n1,abc\n"])
def test_read_history_refuses_what_is_not_a_history(tmp_path: Path, text: str):
    (tmp_path / "history.csv").write_text(text)
    with pytest.raises(RunFileError):
        read_history(tmp_path)


def test_read_history_header_only_or_empty_is_no_epoch(tmp_path: Path):
    (tmp_path / "history.csv").write_text("epoch,loss\n")
    assert read_history(tmp_path).empty
    (tmp_path / "history.csv").write_text("")
    assert read_history(tmp_path).empty


def test_history_long_one_row_per_epoch_metric_split():
    history = pd.read_csv(pd.io.common.StringIO(M1_HISTORY))
    long = history_long(history, "r1")
    assert list(long.columns) == list(LONG_COLUMNS)
    assert len(long) == 3 * 4  # loss, accuracy x train, held-out
    assert set(long["metric"]) == {"loss", "accuracy"}
    held = long[(long["metric"] == "loss") & (long["split"] == "held-out")]
    assert held["value"].tolist() == [2.2, 1.9, 2.05]
    assert held["elapsed"].tolist() == [1.6, 2.6, 3.6]
    assert (long["run_id"] == "r1").all()


def test_history_long_model2_heads_and_elapsed_from_seconds():
    history = pd.read_csv(pd.io.common.StringIO(M2_HISTORY)).drop(columns=["elapsed"])
    long = history_long(history, "m2")
    assert set(long["metric"]) == {"loss", "pitch_loss", "duration_loss", "pitch_accuracy",
                                   "duration_accuracy"}
    pitch = long[(long["metric"] == "pitch_accuracy")]
    assert pitch.set_index(["split", "epoch"])["value"].to_dict() == {
        ("train", 1): 0.2, ("train", 2): 0.3, ("held-out", 1): 0.15, ("held-out", 2): 0.25}
    assert sorted(set(long["elapsed"])) == [2.0, 4.0]  # running sum of `seconds`


def test_history_long_drops_missing_values_never_fills():
    history = pd.DataFrame({"epoch": [1, 2], "loss": [1.0, 0.5], "val_loss": [np.nan, 0.7],
                            "seconds": [1.0, 1.0], "elapsed": [1.0, 2.0]})
    long = history_long(history, "r")
    held = long[long["split"] == "held-out"]
    assert held["epoch"].tolist() == [2] and held["value"].tolist() == [0.7]
    assert history_long(pd.DataFrame(), "r").empty


def test_load_histories_long_joins_settings_and_reports_broken(runs: Path):
    (runs / "20260101-110000-m1-lead-gru-1x16-s0" / "history.csv").write_text("epoch,loss\n1,x\n")
    table = list_runs(runs)
    long, errors = load_histories_long(sorted(runs.iterdir()), table)
    assert set(errors) == {"20260101-110000-m1-lead-gru-1x16-s0"}
    assert set(long["run_id"]) == {"20260101-100000-m1-lead-lstm-1x16-s0",
                                   "20260101-120000-m2-lead-lstm-1x16-s0"}
    assert set(long["cell"]) == {"lstm"} and set(long["model"]) == {1, 2}


# --------------------------------------------------------------------------- smoothing

def _curve(values, run="r", metric="loss", split="train"):
    return pd.DataFrame({"run_id": run, "epoch": range(1, len(values) + 1),
                         "elapsed": range(1, len(values) + 1), "metric": metric,
                         "split": split, "value": values})


def test_smooth_ema_is_bias_corrected():
    out = smooth(_curve([1.0, 0.0, 0.0]), "ema", 0.5)
    # acc: .5, .25, .125; norm: .5, .75, .875
    assert out["value"].tolist() == pytest.approx([1.0, 1 / 3, 1 / 7])
    assert out["raw"].tolist() == [1.0, 0.0, 0.0]


def test_smooth_rolling_and_identity():
    out = smooth(_curve([1.0, 0.0, 2.0]), "rolling", 2)
    assert out["value"].tolist() == [1.0, 0.5, 1.0]
    same = smooth(_curve([1.0, 0.0, 2.0]), "ema", 0)
    assert same["value"].tolist() == [1.0, 0.0, 2.0]
    assert smooth(_curve([1.0, 0.0]), "rolling", 1)["value"].tolist() == [1.0, 0.0]


def test_smooth_keeps_curves_apart():
    long = pd.concat([_curve([0.0, 0.0], run="a"), _curve([10.0, 10.0], run="b"),
                      _curve([4.0, 4.0], run="a", split="held-out")])
    out = smooth(long, "ema", 0.9)
    for (run, split), group in out.groupby(["run_id", "split"]):
        assert group["value"].tolist() == pytest.approx(group["raw"].tolist())


@pytest.mark.parametrize("method, amount", [("ema", 1.0), ("ema", -0.1), ("rolling", 0),
                                            ("rolling", 1.5), ("median", 2)])
def test_smooth_refuses_bad_settings(method, amount):
    with pytest.raises(ValueError):
        smooth(_curve([1.0, 2.0]), method, amount)


# --------------------------------------------------------------------------- tables

def _histories(runs: Path) -> dict[str, pd.DataFrame]:
    return {p.name: read_history(p) for p in sorted(runs.iterdir())
            if p.name != "20260101-140000-broken"}


def test_summary_table_model1_final_is_the_last_epoch(runs: Path):
    table = summary_table(_histories(runs), list_runs(runs), model=1)
    assert table["run_id"].tolist() == ["20260101-100000-m1-lead-lstm-1x16-s0",
                                        "20260101-110000-m1-lead-gru-1x16-s0"]
    lstm = table.iloc[0]
    assert (lstm["epoch"], lstm["epochs"]) == (3, 3)
    assert (lstm["loss"], lstm["accuracy"]) == (1.0, 0.70)
    assert (lstm["held-out loss"], lstm["held-out accuracy"]) == (2.05, 0.44)
    assert table.iloc[1]["cell"] == "gru" and table.iloc[1]["held-out loss"] == 2.5
    assert list(table.columns[-8:]) == ["loss", "held-out loss", "accuracy",
                                        "held-out accuracy", "note acc", "held-out note acc",
                                        "onset acc", "held-out onset acc"]
    assert pd.isna(lstm["note acc"])  # recorded before note accuracy existed: no number


def test_summary_table_best_is_the_lowest_held_out_loss(runs: Path):
    table = summary_table(_histories(runs), list_runs(runs), model=1, at="best")
    lstm = table.iloc[0]
    assert lstm["epoch"] == 2 and lstm["held-out loss"] == 1.9 and lstm["loss"] == 1.5


def test_summary_table_model2_has_both_heads(runs: Path):
    table = summary_table(_histories(runs), list_runs(runs), model=2)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["loss"], row["pitch acc"], row["duration acc"]) == (2.4, 0.3, 0.7)
    assert (row["held-out loss"], row["held-out pitch acc"],
            row["held-out duration acc"]) == (3.1, 0.25, 0.6)


def test_summary_table_without_held_out_columns_gives_nan(tmp_path: Path):
    write_run(tmp_path, "r", "epoch,loss,accuracy\n1,2.0,0.3\n2,1.0,0.6\n")
    histories = {"r": read_history(tmp_path / "r")}
    table = summary_table(histories, list_runs(tmp_path), model=1, at="best")
    assert table.iloc[0]["epoch"] == 2 and math.isnan(table.iloc[0]["held-out loss"])
    with pytest.raises(ValueError):
        summary_table(histories, list_runs(tmp_path), model=3)


def test_filter_runs(runs: Path):
    table = list_runs(runs)
    assert len(filter_runs(table)) == 5
    assert len(filter_runs(table, model=[1], cell=["gru"])) == 1
    assert set(filter_runs(table, state=["broken", "queued"])["state"]) == {"broken",
                                                                                "queued"}
    assert len(filter_runs(table, cell=[])) == 5


def test_hyperparameter_frame(runs: Path):
    frame = hyperparameter_frame(list_runs(runs))
    assert len(frame) == 3  # no broken run, no run without an epoch
    by_id = frame.set_index("run_id")
    assert by_id.loc["20260101-110000-m1-lead-gru-1x16-s0", "cell"] == 1
    assert by_id.loc["20260101-100000-m1-lead-lstm-1x16-s0", "cell"] == 0
    assert by_id.loc["20260101-100000-m1-lead-lstm-1x16-s0", "best loss"] == 1.9
    assert by_id.loc["20260101-110000-m1-lead-gru-1x16-s0", "units"] == 32
    assert (frame["loss_split"] == "held-out").all()
    assert hyperparameter_frame(list_runs(runs / "none")).empty


def test_hyperparameter_frame_of_only_broken_runs_is_empty(tmp_path: Path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("[")
    table = list_runs(tmp_path)
    assert table["state"].tolist() == ["broken"]
    assert hyperparameter_frame(table).empty


def test_hyperparameter_frame_falls_back_to_training_loss(tmp_path: Path):
    write_run(tmp_path, "r", "epoch,loss\n1,2.0\n2,1.5\n")
    frame = hyperparameter_frame(list_runs(tmp_path))
    assert frame.iloc[0]["best loss"] == 1.5 and frame.iloc[0]["loss_split"] == "train"


def test_run_labels_are_short_and_unique():
    table = pd.DataFrame({"run_id": ["20260101-100000-m1-lead-lstm-1x16-s0",
                                     "20260102-100000-m1-lead-lstm-1x16-s0", "odd",
                                     "20260103-093000-m1-lead-gru-1x16-s0"],
                          "label": ["", "", None, "thesis run 4"]})
    labels = run_labels(table)
    assert labels["odd"] == "odd"
    assert labels["20260103-093000-m1-lead-gru-1x16-s0"] == \
        "thesis run 4 (m1-lead-gru-1x16-s0 09:30:00)"
    # same settings and clock on two days: the full ids keep them apart
    assert labels["20260101-100000-m1-lead-lstm-1x16-s0"] == \
        "20260101-100000-m1-lead-lstm-1x16-s0"
    assert len(set(labels.values())) == 4


# --------------------------------------------------------------------------- samples

def write_sample(folder: Path, symbols: dict, seed_quarters: dict, notes: list[tuple],
                 decoding: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    pd.DataFrame(notes, columns=["part", "start", "end", "pitch", "name"]).to_csv(
        folder / "piece_notes.csv", index=False)
    (folder / "sample.json").write_text(json.dumps({
        "sample_id": folder.name, "seed": 0, "seed_source": "piece:x", "steps": 8,
        "decoding": decoding or {"strategy": "temperature", "temperature": 0.65, "top_k": 8,
                                 "top_p": 0.9, "beam_width": 4},
        "seed_quarters": seed_quarters, "symbols": symbols,
        "files": {"notes": "piece_notes.csv", "wav": "piece.wav"}}))
    return folder


def test_symbols_after_the_seed():
    steps = PartSymbols({"steps": [str(60 + i) for i in range(20)]}, 1, "pitch_class")
    assert steps.between(1.0) == steps.main[4:]
    durations = {"pitch": ["60", "62", "64", "65"], "duration": ["1.0", "0.5", "0.5", "2.0"]}
    assert PartSymbols(durations, 2, "pitch_class").between(2.0) == ["65"]
    assert PartSymbols(durations, 2, "pitch_class").between(1.0, 2.0) == ["62", "64"]
    assert PartSymbols({"pitch": ["60"], "duration": ["1/3"]}, 2, "voicing").between(1 / 3) == []


def test_sample_metrics_leave_the_seed_out(tmp_path: Path):
    # Model 1 lead: seed 60 held 1 quarter, then C major arpeggio; accompaniment C3 throughout
    lead_steps = ["60", "_", "_", "_", "64", "_", "67", "_", "72", "_", "_", "_"]
    notes = [("Lead", 0.0, 1.0, 60, "C4"), ("Lead", 1.0, 1.5, 64, "E4"),
             ("Lead", 1.5, 2.0, 67, "G4"), ("Lead", 2.0, 3.0, 73, "C#5"),
             ("Accompaniment", 0.0, 3.0, 48, "C3")]
    sample = read_sample(write_sample(tmp_path / "s", {"lead": {"steps": lead_steps},
                                                           "accompaniment": {"steps": ["48"]}},
                                          {"lead": 1.0, "accompaniment": 1.0}, notes))
    generated = sample_metrics(sample)
    assert generated["pitch_range"] == 73 - 48
    assert generated["consonance"] == pytest.approx(2 / 3)  # C#5 against C3 is a clash
    assert generated["polyphony"] == 2.0
    assert generated["loop_share"] == 0.0
    whole = sample_metrics(sample, generated_only=False)
    assert whole["consonance"] == pytest.approx(3 / 4)
    assert list(generated) == list(SAMPLE_METRICS)
    assert generated_quarters(sample) == {"lead": 2.0, "accompaniment": 2.0}
    assert sample_file(sample, "wav") is None  # named but never written
    assert sample_file(sample, "notes").name == "piece_notes.csv"


def test_generated_notes_cuts_each_part_at_its_own_seed():
    notes = pd.DataFrame({"part": ["lead", "lead", "accompaniment"], "start": [0.0, 4.0, 0.0],
                          "end": [6.0, 8.0, 8.0], "pitch": [60, 62, 48]})
    cut = generated_notes(notes, {"lead": 5.0, "accompaniment": 1.0})
    assert cut[["start", "end"]].values.tolist() == [[5.0, 6.0], [5.0, 8.0], [1.0, 8.0]]


def test_sample_that_is_all_seed_gives_nan_not_an_error(tmp_path: Path):
    notes = [("Lead", 0.0, 4.0, 60, "C4")]
    sample = read_sample(write_sample(
        tmp_path / "s", {"lead": {"pitch": ["60"], "duration": ["4.0"]}}, {"lead": 4.0}, notes))
    metrics = sample_metrics(sample)
    assert all(math.isnan(v) for v in metrics.values())
    assert generated_quarters(sample) == {"lead": 0.0}


def test_read_sample_and_its_decoding(tmp_path: Path):
    with pytest.raises(RunFileError):
        read_sample(tmp_path / "missing")
    sample = read_sample(write_sample(tmp_path / "s", {"lead": {"steps": ["60"]}},
                                      {"lead": 0.25}, [("lead", 0.0, 0.25, 60, "C4")]))
    decoding = Decoding.from_dict(sample["decoding"])  # as sample.json records it
    assert (decoding.label, decoding.title) == ("temperature-t0.65", "temperature t=0.65")


def test_file_stamp_changes_when_an_epoch_is_appended(runs: Path):
    run = runs / "20260101-100000-m1-lead-lstm-1x16-s0"
    before = file_stamp(run)
    import os
    os.utime(run / "history.csv", ns=(before + 10**9, before + 10**9))
    assert file_stamp(run) == before + 10**9
    assert file_stamp(run, "nothing.csv") == 0
