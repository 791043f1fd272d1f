"""The top-level assets/ folder: every file the app and the report load is there, the
report's template has the fields the report fills, and the demo seed MIDI seeds a run."""
from __future__ import annotations

from string import Template

import pytest

from core.assets import (
    APP_STYLE,
    DEMO_SEED,
    ICON,
    REPORT_STYLE,
    REPORT_TEMPLATE,
    asset_path,
    read_asset,
)
from core.sampling.seeds import seed_from_file


def test_every_asset_the_code_names_is_there():
    for name in (REPORT_TEMPLATE, REPORT_STYLE, APP_STYLE, ICON, DEMO_SEED):
        assert asset_path(name).is_file(), name
    fields = set(Template(read_asset(REPORT_TEMPLATE)).get_identifiers())
    assert fields == {"title", "style", "plotlyjs", "meta", "nav", "body"}
    assert read_asset(ICON).lstrip().startswith("<svg")


def test_a_missing_asset_is_named():
    with pytest.raises(FileNotFoundError, match="nope.css"):
        read_asset("nope.css")


def test_demo_seed_has_a_lead_and_an_accompaniment_a_thesis_window_long():
    piece, source = seed_from_file(asset_path(DEMO_SEED))
    assert source == "file:demo-seed.mid"
    assert piece.accompaniment is not None
    assert min(len(piece.lead.steps), len(piece.accompaniment.steps)) >= 64
    assert any(s not in ("r", "_") for s in piece.lead.steps)
