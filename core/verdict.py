"""Seeds, fair budgets and a verdict on "LSTM beats GRU" that the numbers decide.

The thesis trained one run per setting and compared LSTM and GRU at equal units, which gives
the GRU about 3/4 of the LSTM's parameters. Here a setting is trained with several seeds, a
GRU is also trained at the width whose parameter count matches the LSTM's, and each LSTM/GRU
pair is judged by Welch's t interval of the difference in best held-out loss: a winner is
named only when the interval excludes zero.

Runs are "the same setting" when every TrainConfig field except `seed` and `label` is equal.
Student's t distribution is implemented here (regularised incomplete beta by continued
fraction) because the project does not depend on scipy.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .comparison import split_metric
from .config import ConfigError, TrainConfig
from .corpus import Corpus
from .runs import list_runs, read_history, read_json

SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig)
                       if f.name not in ("seed", "label"))
INT_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if str(f.type) == "int")
GROUP_METRICS = ("best_val_loss", "final_loss")
STATISTICS = ("mean", "std", "min", "max")
TIME_COLUMNS = ("epoch", "seconds", "elapsed")
LSTM_BETTER, GRU_BETTER, WITHIN_NOISE, TOO_FEW = (
    "LSTM better", "GRU better", "difference within noise", "too few seeds")


# --------------------------------------------------------------------------- seeds

def seed_configs(config: TrainConfig, k: int = 3) -> list[TrainConfig]:
    """The same setting with seeds config.seed .. config.seed + k - 1, labelled by seed."""
    if k < 1:
        raise ConfigError("k", f"the number of seeds must be >= 1, got {k}")
    prefix = f"{config.label}, " if config.label else ""
    return [dataclasses.replace(config, seed=config.seed + i,
                                label=f"{prefix}seed {i + 1} of {k}").validate()
            for i in range(k)]


def train_seeds(config: TrainConfig, k: int = 3, runs_root: Path | str = "runs",
                cache_dir: Path | str = "cache",
                on_epoch: Callable[[dict], None] | None = None) -> list[Path]:
    """Train the k seeds of a setting one after the other in this process."""
    from .training import train

    return [train(c, runs_root, cache_dir, on_epoch) for c in seed_configs(config, k)]


def enqueue_seeds(config: TrainConfig, k: int = 3, runs_root: Path | str = "runs",
                  cache_dir: Path | str = "cache") -> list[Path]:
    """Record the k seeds as queued runs for the background worker (the dashboard's way)."""
    from .training import enqueue

    return [enqueue(c, runs_root, cache_dir) for c in seed_configs(config, k)]


# --------------------------------------------------------------------------- fair budgets

def parameter_count(config: TrainConfig, corpus: Corpus) -> int:
    """Parameters of the network `config` builds for this corpus's vocabularies, untrained."""
    from .models import build_model
    from .windows import corpus_vocabularies

    sizes = {k: len(v) for k, v in corpus_vocabularies(corpus, config).items()}
    return int(build_model(config, sizes).count_params())


def matched_gru_units(lstm_config: TrainConfig, corpus: Corpus) -> int:
    """The GRU width whose whole model has the parameter count closest to the LSTM's.

    Every weight matrix of these networks is (something x units) or (units x units), so the
    count is an exact quadratic in units: three builds fit it, the root gives the width, and
    the two whole widths around the root are built to pick the closer one.
    """
    target = parameter_count(dataclasses.replace(lstm_config, cell="lstm"), corpus)
    gru = dataclasses.replace(lstm_config, cell="gru")

    def count(units: int) -> int:
        return parameter_count(dataclasses.replace(gru, units=units), corpus)

    p1, p2, p3 = count(1), count(2), count(3)
    a = (p3 - 2 * p2 + p1) / 2
    b = p2 - p1 - 3 * a
    c = p1 - a - b
    root = (-b + math.sqrt(b * b - 4 * a * (c - target))) / (2 * a)
    candidates = sorted({min(max(u, 1), 4096) for u in (math.floor(root), math.ceil(root))})
    return min(candidates, key=lambda u: (abs(count(u) - target), u))


def fair_pair(config: TrainConfig,
              corpus: Corpus) -> tuple[TrainConfig, TrainConfig, TrainConfig]:
    """LSTM at `config.units`, GRU at the same units, GRU at the LSTM's parameter count."""
    units = config.units
    prefix = f"{config.label}: " if config.label else ""
    lstm = dataclasses.replace(config, cell="lstm", label=f"{prefix}LSTM {units} units")
    matched = matched_gru_units(lstm, corpus)
    return (lstm.validate(),
            dataclasses.replace(config, cell="gru",
                                label=f"{prefix}GRU {units} units (equal units)").validate(),
            dataclasses.replace(config, cell="gru", units=matched,
                                label=f"{prefix}GRU {matched} units "
                                      f"(parameters of LSTM {units})").validate())


# --------------------------------------------------------------------------- grouping

def runs_table(runs_root: Path | str = "runs") -> pd.DataFrame:
    """core.runs.list_runs plus every TrainConfig field of each run, so that settings which
    differ only in a field list_runs leaves out (dropout rate, max pieces, ...) stay apart."""
    frame = list_runs(runs_root)
    if frame.empty:
        return frame
    root = Path(runs_root)
    fields = pd.DataFrame([_config_fields(root / run_id) for run_id in frame["run_id"]])
    return pd.concat([frame.drop(columns=[c for c in fields if c in frame]), fields], axis=1)


def _config_fields(run_dir: Path) -> dict:
    try:
        config = read_json(run_dir / "config.json")["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    defaults = TrainConfig().to_dict()  # a run recorded before a field existed used its default
    fields = {k: config.get(k, defaults[k]) for k in SETTING_FIELDS + ("seed", "label")}
    fields["extra"] = json.dumps(fields.get("extra") or {}, sort_keys=True)  # hashable
    return fields


def group_runs(frame: pd.DataFrame, metrics: Sequence[str] = GROUP_METRICS,
               states: Sequence[str] = ("finished",)) -> pd.DataFrame:
    """One row per setting: n runs, distinct seeds, parameters, mean/std/min/max of each
    metric, and the run ids.

    `frame` is list_runs or runs_table output; settings are told apart by whichever
    TrainConfig fields it has (runs_table has them all). Only runs in `states` count: a
    cancelled or failed run stopped early and its loss is not comparable.
    """
    runs = frame[frame["state"].isin(states)] if "state" in frame else frame
    runs = _whole_numbers(runs.assign(**{m: runs.get(m, np.nan) for m in metrics},
                                      params=runs.get("params", np.nan)))
    keys = [c for c in SETTING_FIELDS if c in runs]
    spec = {f"{m}_{s}": (m, s) for m in metrics for s in STATISTICS}
    columns = [*keys, "n", "seeds", "params", *spec, "run_ids"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    grouped = runs.groupby(keys, dropna=False, sort=True).agg(
        n=("run_id", "size"), seeds=("seed", "nunique"), params=("params", "max"), **spec,
        run_ids=("run_id", list))
    return grouped.reset_index()[columns]


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer settings read back as floats when a broken run left a gap in the column."""
    whole = {c: "int64" for c in INT_FIELDS
             if c in frame and frame[c].notna().all() and frame[c].dtype != "int64"}
    return frame.astype(whole) if whole else frame


def curve_bands(run_dirs: Iterable[Path | str], columns: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Per epoch, mean/std/min/max across runs of each loss and accuracy column of their
    history.csv (the spread bands of a seed group). `seeds` counts the runs that reached
    the epoch: where it drops, the band describes fewer runs."""
    histories = [read_history(Path(d)) for d in run_dirs]
    histories = [h for h in histories if not h.empty and "epoch" in h]
    if not histories:
        return pd.DataFrame(columns=["epoch", "seeds"])
    data = pd.concat(histories, ignore_index=True)
    metrics = list(columns) if columns else [
        c for c in data if c not in TIME_COLUMNS and c.endswith(("loss", "accuracy"))]
    bands = data.groupby("epoch")[metrics].agg(list(STATISTICS))
    bands.columns = [f"{m}_{s}" for m, s in bands.columns]
    bands.insert(0, "seeds", data.groupby("epoch").size())
    return bands.reset_index()


SPREADS = ("minmax", "std")
BAND_COLUMNS = ("epoch", "seeds", "metric", "split", "mean", "low", "high")


def bands_long(bands: pd.DataFrame, spread: str = "minmax") -> pd.DataFrame:
    """curve_bands output as long rows (epoch, seeds, metric, split, mean, low, high), the
    way core.comparison names metrics and splits, ready to draw a mean line inside a band.

    spread "minmax": the band runs from the lowest to the highest seed; "std": mean -/+ one
    sample standard deviation (zero width where a single run reached the epoch).
    """
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {SPREADS}, got {spread!r}")
    columns = [c[: -len("_mean")] for c in bands.columns if c.endswith("_mean")]
    rows = []
    for column in columns:
        mean = bands[f"{column}_mean"]
        if spread == "std":
            std = bands[f"{column}_std"].fillna(0.0)
            low, high = mean - std, mean + std
        else:
            low, high = bands[f"{column}_min"], bands[f"{column}_max"]
        split, metric = split_metric(column)
        rows.append(pd.DataFrame({"epoch": bands["epoch"], "seeds": bands["seeds"],
                                  "metric": metric, "split": split, "mean": mean,
                                  "low": low, "high": high}))
    if not rows:
        return pd.DataFrame(columns=list(BAND_COLUMNS))
    long = pd.concat(rows, ignore_index=True).dropna(subset=["mean"])
    return long.astype({"epoch": int, "seeds": int}).reset_index(drop=True)


# --------------------------------------------------------------------------- statistics

def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), by the continued fraction on whichever side converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float, max_terms: int = 500) -> float:
    """The incomplete beta's continued fraction by the modified Lentz method."""
    tiny = 1e-300

    def nonzero(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / nonzero(1.0 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, max_terms + 1):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for coefficient in (even, odd):
            d = 1.0 / nonzero(1.0 + coefficient * d)
            c = nonzero(1.0 + coefficient / c)
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` (not necessarily whole) degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / (df + t * t), df / 2, 0.5)
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF (monotonic, so it cannot miss)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


@dataclass(frozen=True)
class Welch:
    """Welch's comparison of mean(x) - mean(y) without assuming equal variances."""

    n_x: int
    n_y: int
    mean_x: float
    mean_y: float
    difference: float
    t: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def welch(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Welch:
    """Welch's t statistic, Welch-Satterthwaite degrees of freedom, the `level` confidence
    interval of mean(x) - mean(y) and the two-sided p-value; each sample needs >= 2 values."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("Welch's test needs at least two values on each side")
    vx, vy = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    difference = float(x.mean() - y.mean())
    se = math.sqrt(vx + vy)
    if se == 0.0:  # identical values within each side: the difference is exact
        df = float(len(x) + len(y) - 2)
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        low = high = difference
    else:
        df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))
        t = difference / se
        margin = t_quantile(0.5 + level / 2, df) * se
        low, high = difference - margin, difference + margin
    p = min(1.0, 2.0 * (1.0 - student_t_cdf(abs(t), df)))
    return Welch(len(x), len(y), float(x.mean()), float(y.mean()), difference, t, df,
                 low, high, p)


# --------------------------------------------------------------------------- verdict

def verdict_table(frame: pd.DataFrame, metric: str = "best_val_loss",
                  param_tolerance: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """Every LSTM setting against every GRU setting that is otherwise identical, at
    (a) equal units and (b) equal parameters: units differ and the counts are within
    `param_tolerance`, or within 1/units for a GRU too narrow for whole units to do better.

    Each side's sample is one value of `metric` (lower is better) per seed: runs repeating
    a seed are averaged first, as they are not independent draws. A winner is named only
    when the `level` interval of GRU - LSTM excludes zero.
    """
    groups = group_runs(frame, metrics=(metric,))
    shared = [k for k in SETTING_FIELDS if k in groups and k not in ("cell", "units")]
    per_seed = _per_seed(frame, groups, metric)
    rows = []
    for _, block in groups.groupby(shared, dropna=False, sort=True):
        lstms, grus = block[block["cell"] == "lstm"], block[block["cell"] == "gru"]
        for i, j, kind in _pairs(lstms, grus, param_tolerance):
            lstm, gru = lstms.iloc[i], grus.iloc[j]
            rows.append({"comparison": kind, **{k: lstm[k] for k in shared},
                         **_compare(per_seed[lstms.index[i]], per_seed[grus.index[j]],
                                    lstm, gru, metric, level)})
    columns = ["comparison", *shared, "lstm_units", "gru_units", "lstm_params", "gru_params",
               "lstm_n", "gru_n", "lstm_mean", "gru_mean", "difference", "ci_low", "ci_high",
               "p_value", "verdict", "sentence"]
    return pd.DataFrame(rows, columns=columns)


def _pairs(lstms: pd.DataFrame, grus: pd.DataFrame,
           tolerance: float) -> list[tuple[int, int, str]]:
    """(LSTM row, GRU row, kind) of every comparable pair, found with whole-array tests
    (hundreds of runs make tens of thousands of candidate pairs)."""
    if lstms.empty or grus.empty:
        return []
    l_units = lstms["units"].to_numpy(float)[:, None]
    g_units = grus["units"].to_numpy(float)[None, :]
    l_params = pd.to_numeric(lstms["params"], errors="coerce").to_numpy(float)[:, None]
    g_params = pd.to_numeric(grus["params"], errors="coerce").to_numpy(float)[None, :]
    equal_units = l_units == g_units
    # One unit more or less moves a GRU's count by at most about params / units, so a narrow
    # GRU that fair_pair matched as closely as whole units allow still counts as matched.
    allowed = np.maximum(tolerance, 1.0 / g_units) * l_params
    with np.errstate(invalid="ignore"):
        equal_params = ~equal_units & (np.abs(g_params - l_params) <= allowed)
    found = [(int(i), int(j), "equal units") for i, j in zip(*np.nonzero(equal_units))]
    found += [(int(i), int(j), "equal parameters") for i, j in zip(*np.nonzero(equal_params))]
    return sorted(found)


def _per_seed(frame: pd.DataFrame, groups: pd.DataFrame,
              metric: str) -> dict[object, list[float]]:
    """Each setting's sample: one `metric` value per seed, read once per setting."""
    runs = frame.set_index("run_id")
    return {index: [float(v) for v in
                    runs.loc[row.run_ids].groupby("seed")[metric].mean().dropna()]
            for index, row in groups.iterrows()}


METRIC_WORDS = {"best_val_loss": "best held-out loss", "final_val_loss": "final held-out loss",
                "final_loss": "final training loss", "best_loss": "best training loss"}


def _compare(lstm_values: list[float], gru_values: list[float], lstm: pd.Series,
             gru: pd.Series, metric: str, level: float) -> dict:
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
    verdict = (LSTM_BETTER if w.ci_low > 0 else GRU_BETTER if w.ci_high < 0 else WITHIN_NOISE)
    row.update(difference=w.difference, ci_low=w.ci_low, ci_high=w.ci_high, p_value=w.p_value,
               verdict=verdict,
               sentence=f"GRU - LSTM {metric} = {w.difference:+.4f} ({level:.0%} CI "
                        f"{w.ci_low:+.4f} to {w.ci_high:+.4f}, Welch p = {w.p_value:.3g}, "
                        f"{w.n_y} LSTM vs {w.n_x} GRU seeds): {verdict}")
    return row
