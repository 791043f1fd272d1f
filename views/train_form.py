"""Train page, the form: every Table 1 setting with its bounds and choices read from
core.nets.config (BOUNDS, CHOICES), so the form can never offer what validation refuses; k
seeds of a setting; the thesis's runs 1-4 as presets. Its Fair button's plan is
views/train_fair.py.

Every field keeps its last value across page changes and in the address (views.common.KEEP,
only where it differs from the default), so a reload or a copied link reopens the form as
it was. Submitting only checks the settings against the corpus and records the runs as queued
(core.runs.training.enqueue); a detached worker (core.runs.worker.ensure_worker) trains them
one at a time (called through its module, so tests can replace it). Refusals are remembered
across the rerun and shown beside the field they name.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from core.data.corpus import CorpusError
from core.evidence.experiments import enqueue_seeds
from core.nets.config import (
    BOUNDS,
    CHOICES,
    CORPUS_FIELDS,
    RECIPES,
    SETTING_FIELDS,
    ConfigError,
    TrainConfig,
    recipe,
    thesis_runs,
)
from core.runs import worker
from core.runs.training import enqueue
from views import common

ERROR_KEY = "train_form_error"      # (field, message) of the last refused submit
NOTICE_KEY = "train_notice"         # ("success" | "error", message) after a submit/preset
QUEUE_BUTTON = "Queue this run"
FAIR_BUTTON = "Fair LSTM vs GRU…"
MAX_SEEDS = 20                      # seeds of one setting the form queues at most
LEARNING_RATE_STEP = 0.00001        # the smallest learning rate the form shows (5 decimals)
MODEL_LABELS = {1: "Model 1 — one token per 16th note", 2: "Model 2 — pitch + duration streams"}
OBJECTIVE_LABELS = {"window": "window → next symbol (thesis)",
                    "sequence": "whole sequence (fast)"}
OBJECTIVE_HELP = ("'window' trains on every window of n symbols, predicting symbol n+1 (the "
                  "thesis). 'sequence' predicts every next symbol of non-overlapping windows: "
                  "n times fewer samples, much faster.")
ENCODING_LABELS = {"auto": "auto (lookup on a CPU, one-hot on a GPU)",
                   "lookup": "lookup (fast on a CPU, same network)", "onehot": "one-hot (thesis)"}
ENCODING_HELP = ("How Model 1 feeds a symbol to the first recurrent layer. 'one-hot' builds "
                 "the thesis's one-hot vector and multiplies it by the input weights; 'lookup' "
                 "reads the matching row of those weights directly: the same network and "
                 "parameter count without multiplying zeros, so it trains faster on a CPU. On "
                 "a GPU one-hot is faster (every layer runs as cuDNN's fused kernel). 'auto' "
                 "picks for the machine that trains; the run records which. Model 2 always "
                 "uses its embeddings.")
RECIPE_LABELS = {"demo": "Demo recipe (learns in a minute)", "thesis": "Thesis's method"}
RECIPE_HELP = ("Fills the form. The demo recipe trains the sequence objective with a "
               "learning-rate schedule, early stopping, clipped gradients, pieces moved to C "
               "major / A minor and the bar position as an input: it clearly beats its "
               "baselines in about a minute on 2 cores. The thesis's method trains the same "
               "network on the window objective at one rate, every epoch, symbols alone.")
SCHEDULE_LABELS = {"constant": "constant (thesis)", "plateau": "halve on a plateau",
                   "cosine": "warm-up + cosine"}
SEEDS_HELP = ("k > 1 queues the same setting k times with seeds s, s+1, …, s+k-1 (labelled "
              "'seed i of k'); Compare draws them as one mean curve with a spread band. A "
              "verdict needs at least 2 seeds per side, 3 is better.")
NUMBERS = (  # (field, label, help) of the number inputs, column by column
    (("units", "Units per layer", "Thesis: 50, 100, 150, 256, 512, 1024"),
     ("layers", "Recurrent layers", "Thesis: 1-4"),
     ("dropout_layers", "Dropout layers (rate 0.2)",
      "One after each of the first k recurrent layers; at most the number of layers."),
     ("window", "Window (sequence length)", "Thesis: 32 or 64"),
     ("sequence_window", "Training window (sequence objective)",
      "0: the window. The sequence objective may train on shorter windows (16 with window "
      "32 reaches the same held-out loss sooner); held-out pieces and generation still read "
      "the window."),
     ("embedding_dim", "Embedding size (model 2)", None)),
    (("batch_size", "Batch size", "Thesis: 32, 64, 96"),
     ("epochs", "Epochs", "Thesis: 30, 50, 100")),
)


def field_error(name: str) -> None:
    """Show the last submit's error under the widget of the field it names."""
    error = st.session_state.get(ERROR_KEY)
    if error and error[0] == name:
        st.error(error[1], icon=":material/warning:")


def number_field(name: str, label: str, default: int, help: str | None = None) -> int:
    """A whole-number setting, bounded by core.nets.config.BOUNDS[name]."""
    bounds = BOUNDS[name]
    value = st.number_input(label, int(bounds.low), int(bounds.high), default,
                            key=f"tf_{name}", help=help, **common.KEEP)
    field_error(name)
    return int(value)


def choice_field(name: str, label: str, default, **kwargs):
    """A setting with a fixed set of values, core.nets.config.CHOICES[name]."""
    options = list(CHOICES[name])
    value = st.selectbox(label, options, index=options.index(default), key=f"tf_{name}",
                         **common.KEEP, **kwargs)
    field_error(name)
    return value


def queue_runs(configs: list[TrainConfig], seeds: int = 1) -> list[Path]:
    """Enqueue each configuration on the selected corpus (`seeds` > 1: that many seeds of it,
    enqueue_seeds), then make sure a worker runs. A ConfigError / CorpusError stops at the
    first refused run (runs before it stay queued)."""
    queued = []
    for config in configs:
        if seeds > 1:
            queued.extend(enqueue_seeds(config, seeds, common.runs_dir(), common.cache_dir()))
        else:
            queued.append(enqueue(config, common.runs_dir(), common.cache_dir()))
    if queued:
        worker.ensure_worker(common.runs_dir(), common.cache_dir())
    return queued


def _kind_column(defaults: TrainConfig) -> dict:
    """Model, cell, part, objective, input encoding, conditioning."""
    model = st.radio("Model", CHOICES["model"], format_func=MODEL_LABELS.get, key="tf_model",
                     **common.KEEP)
    field_error("model")
    kind = dict(
        model=int(model),
        cell=choice_field("cell", "Cell", defaults.cell, format_func=str.upper),
        part=choice_field("part", "Part", defaults.part),
        objective=choice_field("objective", "Objective", defaults.objective,
                               format_func=OBJECTIVE_LABELS.get, help=OBJECTIVE_HELP),
        input_encoding=choice_field("input_encoding", "Input encoding (model 1)",
                                    defaults.input_encoding, format_func=ENCODING_LABELS.get,
                                    help=ENCODING_HELP),
        conditioned=bool(st.checkbox(
            "Condition on the lead", value=defaults.conditioned, key="tf_conditioned",
            **common.KEEP,
            help="Accompaniment runs of Model 1 only: the network also reads the lead's "
                 "window, aligned to the step it predicts.")))
    field_error("conditioned")
    return kind


def _recipe_column(defaults: TrainConfig) -> dict:
    """How the run learns (schedule, early stop, clipping) and what it reads (keys moved to
    C major / A minor, transpositions, the bar position)."""
    fields = {"lr_schedule": choice_field("lr_schedule", "Learning-rate schedule",
                                          defaults.lr_schedule,
                                          format_func=SCHEDULE_LABELS.get),
              "early_stopping": number_field(
                  "early_stopping", "Early stop after (epochs)", defaults.early_stopping,
                  "Stop once this many epochs bring no better held-out loss (0: never); the "
                  "best epoch is kept and generation uses it."),
              "transpose_augment": number_field(
                  "transpose_augment", "Transpose training windows (±semitones)",
                  defaults.transpose_augment,
                  "Each training window moved by a random interval up to this (0: none); "
                  "held-out pieces are never moved.")}
    clip = BOUNDS["clip_norm"]
    fields["clip_norm"] = float(st.number_input(
        "Clip gradient norm (0: off)", clip.low, clip.high, float(defaults.clip_norm),
        step=0.5, key="tf_clip_norm", **common.KEEP))
    field_error("clip_norm")
    for name, label, help in (
            ("key_normalisation", "Train in C major / A minor",
             "Each piece moved to one key for training; generated music is moved back into "
             "its seed's key."),
            ("bar_position", "Read the bar position",
             "The network is told where in the bar the symbol it predicts falls.")):
        fields[name] = bool(st.checkbox(label, getattr(defaults, name), key=f"tf_{name}",
                                        **common.KEEP,
                                        help=help))
        field_error(name)
    return fields


def apply_recipe(name: str) -> None:
    """Fill the form's widgets with a recipe's settings for the model chosen (a button's
    callback): the demo recipe resets every other field to TrainConfig's defaults, the
    thesis's method only the settings it names (the network's shape stays)."""
    model = int(st.session_state.get("tf_model", TrainConfig.model))
    settings = recipe(name, model)
    filled = TrainConfig(model=model, **settings)
    for field in settings if RECIPES[name] else SETTING_FIELDS:
        if field not in CORPUS_FIELDS:
            st.session_state[f"tf_{field}"] = getattr(filled, field)


def recipe_buttons() -> None:
    """One button per named recipe (core.nets.config.RECIPES)."""
    columns = st.columns(len(RECIPES) + 2)
    columns[0].markdown("**Start from**", help=RECIPE_HELP)
    for column, name in zip(columns[1:], RECIPES):
        column.button(RECIPE_LABELS[name], key=f"tf_recipe_{name}", on_click=apply_recipe,
                      args=(name,), width="stretch")


def _training_column(defaults: TrainConfig) -> tuple[dict, int]:
    """Batch size, epochs, learning rate, seed, k seeds and label: (fields, k)."""
    fields = {name: number_field(name, label, getattr(defaults, name), help)
              for name, label, help in NUMBERS[1]}
    rate = BOUNDS["learning_rate"]
    fields["learning_rate"] = float(st.number_input(
        "Learning rate (Adam)", rate.low + LEARNING_RATE_STEP if rate.low_open else rate.low,
        rate.high, defaults.learning_rate, step=0.0005, format="%.5f",
        key="tf_learning_rate", **common.KEEP))
    field_error("learning_rate")
    s1, s2 = st.columns(2)
    fields["seed"] = int(s1.number_input("Seed", int(BOUNDS["seed"].low),
                                         int(BOUNDS["seed"].high), defaults.seed, key="tf_seed",
                                         **common.KEEP,
                                         help="The first seed; k seeds use seed … seed+k-1."))
    seeds = int(s2.number_input("Seeds (k)", 1, MAX_SEEDS, 1, key="tf_seeds", **common.KEEP,
                                help=SEEDS_HELP))
    field_error("k")
    fields["label"] = st.text_input("Label (optional)", defaults.label, max_chars=80,
                                    key="tf_label", **common.KEEP,
                                    placeholder="e.g. 3 GRU layers, small").strip()
    return fields, seeds


def train_form(defaults: TrainConfig) -> tuple[str, TrainConfig, int] | None:
    """The form; when submitted returns (button, configuration not yet validated, seeds):
    button is "queue" or "fair"."""
    recipe_buttons()
    with st.form("train_form"):
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            kind = _kind_column(defaults)
        with c2:
            shape = {name: number_field(name, label, getattr(defaults, name), help)
                     for name, label, help in NUMBERS[0]}
        with c3:
            training, seeds = _training_column(defaults)
        with c4:
            recipe = _recipe_column(defaults)
        b1, b2, _ = st.columns([1.2, 1.6, 3])
        queue = b1.form_submit_button(QUEUE_BUTTON, type="primary", width="stretch",
                                      help="Queue this setting (k runs when Seeds (k) > 1).")
        fair = b2.form_submit_button(FAIR_BUTTON, key="tf_fair", width="stretch",
                                     help="Plan LSTM at these units, GRU at these units and "
                                          "GRU at the LSTM's parameter count (the Cell above "
                                          "is ignored), each with k seeds (3 when k is 1). "
                                          "You see the widths and parameter counts before "
                                          "anything is queued.")
        for name in ("corpus", "max_pieces", "chord_mode", "lead_line"):
            field_error(name)
    if not (queue or fair):
        return None
    config = TrainConfig(**kind, **shape, **training, **recipe, **common.corpus_settings())
    return ("fair" if fair else "queue"), config, seeds


def refused(exc: ConfigError | CorpusError, what: str = "Not queued") -> None:
    """Remember why: beside the field it names, and at the top of the page."""
    if isinstance(exc, ConfigError):
        message = str(exc).removeprefix(f"{exc.field}: ")
        st.session_state[ERROR_KEY] = (exc.field, f"**{exc.field}**: {message}")
        st.session_state[NOTICE_KEY] = ("error", f"{what} — **{exc.field}**: {message}")
    else:
        st.session_state[NOTICE_KEY] = ("error", f"{what} — the corpus cannot be used: {exc}")


def submit(configs: list[TrainConfig], what: str, seeds: int = 1) -> None:
    """Queue, remember the outcome for the next rerun (so errors sit beside their field)."""
    st.session_state.pop(ERROR_KEY, None)
    try:
        with st.spinner("Checking the settings against the corpus (the first time a corpus "
                        "is used it is prepared, which can take a while)…"):
            queued = queue_runs(configs, seeds)
    except (ConfigError, CorpusError) as exc:
        refused(exc)
    else:
        names = ", ".join(f"`{p.name}`" for p in queued)
        st.session_state[NOTICE_KEY] = ("success", f"Queued {what}: {names}. They train one "
                                                   "at a time in the background.")
    st.rerun()


def presets() -> None:
    """The thesis's runs 1-4 (Tables 2 and 3) on the selected corpus, small or full."""
    st.subheader("Thesis runs 1–4")
    st.write("1 LSTM layer × 512 · 3 LSTM × 512 · 3 LSTM × 1024 · 3 GRU × 512, window 32, "
             "dropout after every layer. **Small** divides the units by 8 and trains 5 epochs "
             "(minutes on 2 cores); **full** is the thesis's 50 epochs (many hours on a CPU).")
    a, b, c, d = st.columns(4)
    model = a.selectbox("Model", CHOICES["model"], format_func=MODEL_LABELS.get,
                        key="preset_model")
    part = b.selectbox("Part", CHOICES["part"], key="preset_part")
    objective = c.selectbox("Objective", CHOICES["objective"], format_func=OBJECTIVE_LABELS.get,
                            key="preset_objective", help=OBJECTIVE_HELP)
    encoding = d.selectbox("Input encoding (model 1)", CHOICES["input_encoding"],
                           format_func=ENCODING_LABELS.get, key="preset_input_encoding",
                           help=ENCODING_HELP)
    e, f, _ = st.columns([1, 1, 2])
    for column, scale in ((e, "small"), (f, "full")):
        if column.button(f"Queue runs 1–4 ({scale})", key=f"preset_{scale}", width="stretch",
                         type="primary" if scale == "small" else "secondary"):
            configs = [dataclasses.replace(cfg, objective=objective, input_encoding=encoding,
                                           **common.corpus_settings())
                       for cfg in thesis_runs(int(model), part, scale)]
            submit(configs, f"thesis runs 1–4 ({scale})")
