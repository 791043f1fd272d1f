"""The one set of helpers for driving pages with Streamlit's AppTest.

Pages are run as scripts (`AppTest.from_file('views/<page>.py')`), the way st.navigation runs
them; `open_page("app")` opens the whole app. Every helper fails the test on an uncaught
exception in the page, so a page that crashes never passes silently.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # a first render imports TensorFlow and may prepare a tiny corpus
TEXT_KINDS = ("title", "subheader", "markdown", "caption", "info", "warning", "error",
              "success")


def page_path(name: str) -> str:
    """'compare' -> views/compare.py; 'app' -> app.py; a path is used as it is."""
    if name == "app":
        return str(REPO / "app.py")
    if name.endswith(".py"):
        return name
    return str(REPO / "views" / f"{name}.py")


def open_page(name: str, **state: Any) -> AppTest:
    """Run a page once with `state` preset in session_state; no exception allowed."""
    at = AppTest.from_file(page_path(name), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return rerun(at)


def texts(at: AppTest, *kinds: str) -> str:
    """All text of the given element kinds (default: every text kind), one per line."""
    return "\n".join(str(e.value) for kind in kinds or TEXT_KINDS for e in at.get(kind)
                     if isinstance(getattr(e, "value", None), str))


def charts(at: AppTest) -> dict[str, dict]:
    """Every plotly chart's figure spec by element id."""
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def chart(at: AppTest, key: str) -> dict:
    """The first plotly chart whose id contains `key`."""
    found = [spec for chart_id, spec in charts(at).items() if key in chart_id]
    assert found, f"no chart {key}"
    return found[0]


def values(array: Any) -> list[float]:
    """A plotly JSON array: a plain list or a base64 typed array."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def downloads(at: AppTest) -> list[str]:
    """The labels of every download button."""
    return [b.proto.label for b in at.get("download_button")]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe shown that has `column`."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]
