"""Listen page, the choices every section shares: the decodings to compare (any strategy,
any number of times with other parameters; temperature 0 is greedy, and Model 2's duration
stream may have a temperature of its own), the random seed, and the generation method.
Every parameter's range comes from core.sampling.decoding.BOUNDS, as the CLI's does; every
choice is kept across pages and in the address (views.common.KEEP).
"""
from __future__ import annotations

import re

import streamlit as st

from core.nets.config import TrainConfig
from core.sampling.decoding import (
    BOUNDS,
    MEASURED_BEST,
    MEASURED_TEMPERATURE,
    STRATEGIES,
    Decoding,
    GenerationError,
    parse_help,
)
from core.sampling.generation import METHODS, pick_method
from views.common import KEEP

STRATEGY_TITLES = {"greedy": "greedy (argmax)", "temperature": "temperature sampling",
                   "top_k": "top-k sampling", "top_p": "top-p (nucleus) sampling",
                   "beam": "beam search"}
METHOD_TITLES = {"auto": "auto (stateful for sequence-trained runs, else window)",
                 "window": "window (thesis)", "stateful": "stateful"}
METHOD_KEY = "listen_method"
STEP = 0.05  # the sliders' step; top-p's open lower end is its first step


def temperature_slider(place, label: str, value: float, key: str, **options) -> float:
    """A temperature slider over BOUNDS["temperature"] (0 is greedy): the Listen and the
    Listening test pages' one widget for it."""
    bounds = BOUNDS["temperature"]
    return place.slider(label, float(bounds.low), float(bounds.high), value, STEP, key=key,
                        **KEEP, **options)


def whole_number_input(place, label: str, name: str, value: int, key: str, **options) -> int:
    """A number input over BOUNDS[name] (top_k, beam_width)."""
    bounds = BOUNDS[name]
    return place.number_input(label, int(bounds.low), int(bounds.high), value, key=key,
                              **KEEP, **options)


def parse_specs(text: str) -> tuple[list[Decoding], list[str]]:
    """Extra decodings typed as 'temperature:1.0, top_k:4' (core Decoding.parse; names are
    forgiving about case and '-'); returns them and one message per bad spec."""
    decodings, errors = [], []
    for spec in (s.strip() for s in re.split(r"[,;\n]+", text or "")):
        if not spec:
            continue
        name, colon, value = spec.partition(":")
        normal = name.strip().lower().replace("-", "_").replace(" ", "_") + colon + value.strip()
        try:
            decodings.append(Decoding.parse(normal))
        except GenerationError as exc:
            errors.append(f"`{spec}`: {exc}")
    return decodings, errors


def _strategy_settings(strategies: list[str], model2: bool) -> tuple[list[Decoding], int]:
    """The parameter widgets of the ticked strategies: (their decodings, random seed).
    With a Model 2 run chosen, the duration stream gets a temperature slider of its own."""
    c1, c2, c3, c4, c5 = st.columns(5)
    sampling = any(s in strategies for s in ("temperature", "top_k", "top_p"))
    temperature = temperature_slider(
        c1, "Temperature" + (" (pitch)" if model2 else ""), MEASURED_TEMPERATURE,
        "listen_temperature", disabled=not sampling,
        help=f"for temperature, top-k and top-p sampling; {MEASURED_TEMPERATURE:g} measured "
             "closest to held-out music of the plain temperatures (the thesis used 0.65); 0 "
             "is greedy: always the most likely symbol")
    duration = None
    if model2:
        duration = temperature_slider(
            c1, "Temperature (duration, Model 2)", float(temperature),
            "listen_duration_temperature", disabled=not sampling,
            help="Model 2 samples its duration stream at this temperature, its pitch stream "
                 "at the one above (Model 1 runs use the one above)")
    top_k = whole_number_input(c2, "top-k: k", "top_k", 8, "listen_top_k",
                               disabled="top_k" not in strategies)
    top_p = c3.slider("top-p: p", STEP, float(BOUNDS["top_p"].high), Decoding().top_p, STEP,
                      key="listen_top_p", disabled="top_p" not in strategies, **KEEP)
    beam = whole_number_input(c4, "beam width", "beam_width", 4, "listen_beam",
                              disabled="beam" not in strategies)
    seed = c5.number_input("Random seed", 0, 2**31 - 1, 0, key="listen_seed", **KEEP,
                           help="the same seed and settings give the same music")
    own = None if duration is None or duration == temperature else float(duration)
    return [Decoding(s, temperature=float(temperature), top_k=int(top_k), top_p=float(top_p),
                     beam_width=int(beam),
                     duration_temperature=own if Decoding(s).samples else None)
            for s in strategies], int(seed)


def decodings_form(model2: bool = False) -> tuple[list[Decoding], list[str], int]:
    """The decodings every section of the page uses, the extra specs it could not read, and
    the random seed; `model2` when a chosen run is Model 2 (its duration temperature)."""
    c1, c2 = st.columns([1.3, 1])
    strategies = c1.multiselect("Decodings to compare", list(STRATEGIES),
                                default=["greedy", "temperature"], key="listen_strategies",
                                format_func=STRATEGY_TITLES.get, **KEEP)
    extra = c2.text_input("More decodings (strategy:value, comma-separated)", key="listen_extra",
                          value=MEASURED_BEST.spec, **KEEP,
                          placeholder="temperature:1.0, top_k:4, top_p:0.8, beam:2",
                          help="Add any strategy again with another parameter: "
                               f"{parse_help()}. top-k and top-p typed here sample at "
                               f"temperature 1; {MEASURED_BEST.spec} measured closest to "
                               "held-out music of every decoding.")
    chosen, seed = _strategy_settings(strategies, model2)
    typed, errors = parse_specs(extra)
    decodings, repeated = [], []
    for decoding in chosen + typed:
        if any(d.label == decoding.label for d in decodings):
            repeated.append(decoding.title)
        else:
            decodings.append(decoding)
    if errors:
        st.error("Cannot read these decodings (use strategy:value with a strategy of "
                 f"{', '.join(STRATEGIES)}); fix or remove them to generate or evaluate:\n\n"
                 + "\n".join(f"- {e}" for e in errors))
    if decodings:
        note = f" (already listed, left out: {', '.join(repeated)})" if repeated else ""
        st.caption(f"Comparing {len(decodings)} decoding(s): "
                   f"**{' · '.join(d.title for d in decodings)}**{note}")
    return decodings, errors, seed


def methods_used(objectives: dict[str, str], decodings: list[Decoding], method: str) -> str:
    """'lead: stateful, accompaniment: window': what core's pick_method runs for each part
    with these decodings (beam search always re-feeds windows, said apart)."""
    others = [d for d in decodings if d.strategy != "beam"] or [Decoding()]
    parts = []
    for part, objective in objectives.items():
        config = TrainConfig(objective=objective)
        used = " + ".join(dict.fromkeys(pick_method(config, d, method) for d in others))
        parts.append(f"{part}: {used}")
    text = ", ".join(parts)
    if any(d.strategy == "beam" for d in decodings) and "stateful" in text:
        text += " (beam search: window)"
    return text


def method_form(objectives: dict[str, str], decodings: list[Decoding]) -> str:
    """The generation method radio, with what it means for the chosen runs."""
    method = st.radio("Generation method", METHODS, horizontal=True, key=METHOD_KEY,
                      format_func=METHOD_TITLES.get, **KEEP,
                      help="window: the thesis's iterative feed-forward, the whole window "
                           "re-run for every new symbol. stateful: the recurrent state is "
                           "carried and each symbol costs one step, exact for runs trained "
                           "with the 'sequence' objective. Beam search always uses windows.")
    if objectives:
        st.caption(f"Method per part with these runs and decodings: "
                   f"{methods_used(objectives, decodings, method)}.")
    windowed = [p for p, o in objectives.items() if o != "sequence"]
    if method == "stateful" and windowed:
        st.caption(f"Note: the {' and '.join(windowed)} run was trained on windows: stateful "
                   "generation carries its state past the window it learnt from, so it is "
                   "faster but not the thesis's method, and the music differs.")
    return method


def chosen_method() -> str:
    """The method picked in method_form (evaluation and conditioning use it too)."""
    return st.session_state.get(METHOD_KEY, "auto")
