"""The verdict on "LSTM beats GRU": every LSTM setting against every otherwise identical GRU
setting, at equal units and at equal parameters, judged by Welch's interval of the difference
in best held-out loss per seed. A winner is named only when the interval excludes zero.

How a verdict is shown is decided here too, so the CLI, the report and the Compare and Train
pages show the same columns (`shown_columns`: the settings that vary between its rows by one
rule) and the same words per comparison (`described`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.evidence.grouping import fair_pairs, group_runs, shared_settings
from core.evidence.statistics import welch

LSTM_BETTER, GRU_BETTER, WITHIN_NOISE, TOO_FEW = (
    "LSTM better", "GRU better", "difference within noise", "too few seeds")


def verdict_table(frame: pd.DataFrame, metric: str = "best_val_loss",
                  param_tolerance: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """Every LSTM setting against every GRU setting that is otherwise identical, at
    (a) equal units and (b) equal parameters: units differ and the counts are within
    `param_tolerance`, or within 1/units for a GRU too narrow for whole units to do better.

    Each side's sample is one value of `metric` per seed (lower is better for a loss,
    higher for an accuracy: `higher_is_better`): runs repeating a seed are averaged first,
    as they are not independent draws. A winner is named only when the `level` interval of
    GRU - LSTM excludes zero.
    """
    groups = group_runs(frame, metrics=(metric,))
    shared = shared_settings(groups)
    per_seed = _per_seed(frame, groups, metric)
    rows = []
    for _, block in groups.groupby(shared, dropna=False, sort=True):
        lstms, grus = block[block["cell"] == "lstm"], block[block["cell"] == "gru"]
        for i, j, kind in fair_pairs(lstms, grus, param_tolerance):
            lstm, gru = lstms.iloc[i], grus.iloc[j]
            rows.append({"comparison": kind, **{k: lstm[k] for k in shared},
                         **_compare(per_seed[lstms.index[i]], per_seed[grus.index[j]],
                                    lstm, gru, metric, level)})
    columns = ["comparison", *shared, "lstm_units", "gru_units", "lstm_params", "gru_params",
               "lstm_n", "gru_n", "lstm_mean", "gru_mean", "difference", "ci_low", "ci_high",
               "p_value", "verdict", "sentence"]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["metric"] = metric  # what each seed contributed, for the words about it
    return table


def _per_seed(frame: pd.DataFrame, groups: pd.DataFrame,
              metric: str) -> dict[object, list[float]]:
    """Each setting's sample: one `metric` value per seed, read once per setting."""
    runs = frame.set_index("run_id")
    return {index: [float(v) for v in
                    runs.loc[row.run_ids].groupby("seed")[metric].mean().dropna()]
            for index, row in groups.iterrows()}


# The metrics a verdict may judge by, in words: held-out loss (the default), then what the
# music is judged by (note and onset accuracy for Model 1, the heads' for Model 2).
METRIC_WORDS = {"best_val_loss": "best held-out loss",
                "best_val_note_accuracy": "best held-out note accuracy",
                "best_val_onset_accuracy": "best held-out onset accuracy",
                "best_val_pitch_accuracy": "best held-out pitch accuracy",
                "best_val_duration_accuracy": "best held-out duration accuracy",
                "final_val_loss": "final held-out loss",
                "final_loss": "final training loss", "best_loss": "best training loss"}


def higher_is_better(metric: str) -> bool:
    """Accuracies are better higher; losses (and anything else) lower."""
    return metric.endswith("accuracy")


SHAPE = ("model", "part", "layers")  # what every comparison names: its network's shape
SIDES = ("lstm_units", "gru_units", "lstm_params", "gru_params", "lstm_n", "gru_n",
         "lstm_mean", "gru_mean", "difference", "ci_low", "ci_high", "p_value")


def varying_settings(table: pd.DataFrame) -> list[str]:
    """The settings a verdict table's comparisons share beyond SHAPE whose values differ
    between its rows (a missing value counts as a value): what tells its rows apart."""
    shared = list(table.columns[1:table.columns.get_loc("lstm_units")])
    return [c for c in shared if c not in SHAPE and table[c].astype(str).nunique() > 1]


def shown_columns(table: pd.DataFrame) -> list[str]:
    """The columns every reader shows of a verdict table, in order: the comparison and its
    verdict, the shape, the varying settings, then both sides and the interval."""
    return ["comparison", "verdict", *SHAPE, *varying_settings(table), *SIDES]


def described(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Each comparison in words: (kind, what it compares, its sentence), e.g. ('equal
    units', 'model 1 lead, 1 layer(s), LSTM 8 vs GRU 8 units', 'GRU - LSTM ... : GRU
    better'); the sentence ends with the verdict after its last ': '."""
    varying = varying_settings(table)
    found = []
    for _, row in table.iterrows():
        about = [f"model {row['model']} {row['part']}", f"{row['layers']} layer(s)",
                 *(f"{c.replace('_', ' ')} {row[c]}" for c in varying),
                 f"LSTM {row['lstm_units']} vs GRU {row['gru_units']} units"]
        found.append((str(row["comparison"]), ", ".join(about), str(row["sentence"])))
    return found


def _compare(lstm_values: list[float], gru_values: list[float], lstm: pd.Series,
             gru: pd.Series, metric: str, level: float) -> dict:
    sign = 1 if higher_is_better(metric) else -1  # > 0: GRU better
    metric = METRIC_WORDS.get(metric, metric.replace("_", " "))
    row = {"lstm_units": lstm["units"], "gru_units": gru["units"],
           "lstm_params": lstm["params"], "gru_params": gru["params"],
           "lstm_n": len(lstm_values), "gru_n": len(gru_values),
           "lstm_mean": float(np.mean(lstm_values)) if lstm_values else math.nan,
           "gru_mean": float(np.mean(gru_values)) if gru_values else math.nan}
    if min(len(lstm_values), len(gru_values)) < 2:
        row.update(difference=row["gru_mean"] - row["lstm_mean"], ci_low=math.nan,
                   ci_high=math.nan, p_value=math.nan, verdict=TOO_FEW,
                   sentence=f"{len(lstm_values)} LSTM and {len(gru_values)} GRU seed(s) with "
                            f"a {metric} (a confidence interval needs 2 on each side): "
                            f"{TOO_FEW}")
        return row
    w = welch(gru_values, lstm_values, level)
    low, high = sorted((sign * w.ci_low, sign * w.ci_high))
    verdict = GRU_BETTER if low > 0 else LSTM_BETTER if high < 0 else WITHIN_NOISE
    row.update(difference=w.difference, ci_low=w.ci_low, ci_high=w.ci_high, p_value=w.p_value,
               verdict=verdict,
               sentence=f"GRU - LSTM {metric} = {w.difference:+.4f} ({level:.0%} CI "
                        f"{w.ci_low:+.4f} to {w.ci_high:+.4f}, Welch p = {w.p_value:.3g}, "
                        f"{w.n_y} LSTM vs {w.n_x} GRU seeds): {verdict}")
    return row


# --------------------------------------------------------------------------- for readers

# The metrics a verdict judges by in its picture: the held-out loss, then the music's.
JUDGED_METRICS = tuple(METRIC_WORDS)[:5]
MINUS = "\u2212"  # a real minus sign: '-0.043' reads as a dash beside a hyphenated word


def signed(value: float, digits: int = 3) -> str:
    """'+0.012', '−0.043' (a minus sign, never '−0.000')."""
    return f"{round(float(value), digits) + 0.0:+.{digits}f}".replace("-", MINUS)


def metric_name(metric: str) -> str:
    """'best_val_loss' -> 'held-out loss': what a seed contributes, without 'best'."""
    return METRIC_WORDS.get(metric, metric.replace("_", " ")).removeprefix("best ")


def verdict_tables(frame: pd.DataFrame, metrics: tuple[str, ...] = JUDGED_METRICS
                   ) -> dict[str, pd.DataFrame]:
    """verdict_table by each metric the runs measured ({metric: table}, in order), each
    without the comparisons neither side of which has a value of it (Model 1 runs have no
    pitch accuracy)."""
    tables = {}
    for metric in metrics:
        if metric not in frame or frame[metric].isna().all():
            continue
        table = verdict_table(frame, metric)
        table = table[(table["lstm_n"] > 0) | (table["gru_n"] > 0)]
        if len(table):
            tables[metric] = table.reset_index(drop=True)
    return tables


def comparison_names(table: pd.DataFrame) -> list[str]:
    """A short name per comparison, unique within the table: 'equal units: LSTM 128u vs
    GRU 128u', with the shape and the varying settings where comparisons differ in them."""
    apart = [c for c in SHAPE if table[c].astype(str).nunique() > 1] + varying_settings(table)
    names = []
    for _, row in table.iterrows():
        name = f"{row['comparison']}: LSTM {row['lstm_units']}u vs GRU {row['gru_units']}u"
        extra = [f"{c.replace('_', ' ')} {row[c]}" for c in apart]
        names.append(", ".join([name, *extra]))
    return names


def readable_verdict(table: pd.DataFrame) -> pd.DataFrame:
    """A verdict_table for a page or the report: the comparison and its verdict, the
    difference and its interval, the p-value and both means first, then each side's seeds,
    units and parameters as 'LSTM / GRU' pairs, then the shape and the varying settings;
    human headers, missing values left missing (each reader writes its dash)."""
    def pair(left: str, right: str, form) -> list[str]:
        return [f"{form(a)} / {form(b)}" for a, b in zip(table[left], table[right])]

    def whole(value) -> str:
        return "–" if pd.isna(value) else f"{int(value):,}"

    interval = ["–" if pd.isna(low) else f"{signed(low, 4)} to {signed(high, 4)}"
                for low, high in zip(table["ci_low"], table["ci_high"])]
    return pd.DataFrame({
        "comparison": table["comparison"], "verdict": table["verdict"],
        "GRU − LSTM": table["difference"], "95% interval": interval, "Welch p": table["p_value"],
        "LSTM mean": table["lstm_mean"], "GRU mean": table["gru_mean"],
        "seeds LSTM / GRU": pair("lstm_n", "gru_n", whole),
        "units LSTM / GRU": pair("lstm_units", "gru_units", whole),
        "parameters LSTM / GRU": pair("lstm_params", "gru_params", whole),
        **{c.replace("_", " "): table[c] for c in (*SHAPE, *varying_settings(table))}})


def headline(table: pd.DataFrame) -> str | None:
    """The verdict in one line, for the Start page: the LSTM setting judged with the most
    seeds against its GRUs, e.g. 'LSTM 128 units, 3 seeds a side: GRU beats LSTM at equal
    units (held-out loss −0.043, 95% CI −0.067 to −0.019); at equal parameters the
    difference is within noise (…)'. None until some comparison has an interval."""
    judged = table[table["verdict"] != TOO_FEW]
    if judged.empty:
        return None
    keys = [*SHAPE, *varying_settings(table), "lstm_units"]
    seeds = (judged["lstm_n"] + judged["gru_n"]).groupby(
        [judged[k].astype(str) for k in keys]).sum()
    chosen = judged[(judged[keys].astype(str) == pd.Series(seeds.idxmax(), index=keys)
                     ).all(axis=1)]
    words = metric_name(table.attrs.get("metric", "best_val_loss"))
    clauses = []
    for _, row in chosen.sort_values("comparison", ascending=False).iterrows():
        numbers = (f"{words} {signed(row['difference'])}, 95% CI {signed(row['ci_low'])} "
                   f"to {signed(row['ci_high'])}")
        kind = f"at {row['comparison']}"
        if row["verdict"] == WITHIN_NOISE:
            clauses.append(f"{kind} the difference is within noise ({numbers})")
        else:
            winner, loser = ("GRU", "LSTM") if row["verdict"] == GRU_BETTER else ("LSTM", "GRU")
            clauses.append(f"{winner} beats {loser} {kind} ({numbers})")
    first = chosen.iloc[0]
    side = int(min(first["lstm_n"], first["gru_n"]))
    return (f"LSTM {first['lstm_units']} units, {side} seeds a side: "
            + "; ".join(clauses) + ".")
