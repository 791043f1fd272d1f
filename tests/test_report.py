"""The defense report on real tiny runs: LSTM and GRU with two seeds each, a rendered sample
and an evaluation, then report.html read back as text (and report.pdf where chromium is):
every run's colour distinct and never grey, LSTM and GRU told apart by line style, the
baselines in Tables 2/3 and on the curves, the glossary, progress while it is written."""
import html
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from core.assets import REPORT_STYLE, read_asset
from core.cli import main
from core.evidence.baselines import run_baseline
from core.evidence.evaluation import evaluate, evaluation_folder
from core.evidence.verdict import verdict_table
from core.files import read_json, write_json
from core.glossary import GLOSSARY
from core.outputs.figures import CELL_DASH, series_colours
from core.outputs.report import REPORT_FILE, build_report
from core.outputs.report.html import split_shared
from core.outputs.report.pdf import PDF_FILE, find_chromium, zip_report
from core.outputs.report.samples import FILES_DIR
from core.runs.listing import runs_table
from core.runs.record import RunError
from core.runs.samples import list_samples
from core.sampling.decoding import Decoding
from core.sampling.generation import generate

pytestmark = pytest.mark.slow  # every test but one reads runs trained for real

EVIL = '<script>alert("label")</script>'
# A tag that fetches something when the page opens, with an http(s) address.
REMOTE = re.compile(r"<(script|link|img|audio|source|iframe|video|embed)\b[^>]*"
                    r"\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def runs(run_bank, tmp_path_factory):
    """Two seeds each of a tiny LSTM and GRU setting; the LSTM runs labelled with markup a
    report must escape, the first with a sample and an evaluation."""
    root = run_bank.folder(tmp_path_factory.mktemp("runs"), "lstm_seed_0", "lstm_seed_1",
                           "gru_seed_0", "gru_seed_1")
    lstm, gru = ([root / run_bank.path(f"{cell}_seed_{i}").name for i in range(2)]
                 for cell in ("lstm", "gru"))
    for i, run in enumerate(lstm):
        record = read_json(run / "config.json")
        record["config"]["label"] = f"{EVIL}, seed {i + 1} of 2"
        write_json(run / "config.json", record)
    cache = run_bank.cache
    generate({"lead": lstm[0]}, 16, [Decoding("greedy")], render=True, cache_dir=cache)
    evaluate({"lead": lstm[0]}, [Decoding("greedy")], 2, 8, 0, cache,
             evaluation_folder(lstm[0]))
    return {"root": root, "lstm": lstm, "gru": gru, "all": lstm + gru}


@pytest.fixture(scope="module")
def report(runs, run_bank, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    steps = []
    paths = build_report([r.name for r in runs["all"]], out, runs_root=runs["root"],
                         cache_dir=run_bank.cache, progress=lambda *step: steps.append(step))
    return {"out": out, "paths": paths, "html": paths["html"].read_text(encoding="utf-8"),
            "steps": steps}


def section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start:page.index("</section>", start)]


def test_report_names_every_run_and_its_settings(runs, report):
    page = report["html"]
    dates = re.findall(r"<td>(\d{4}-\d\d-\d\d[^<]*)</td>", section(page, "runs"))
    assert len(dates) == len(runs["all"])            # dates as dates, never ISO stamps
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", d) for d in dates)
    assert report["paths"]["html"] == report["out"] / "report.html"
    for run_dir in runs["all"]:
        assert run_dir.name in section(page, "runs")
    settings = section(page, "settings")
    assert "seed" in settings and "dropout_rate" in settings and "bach-chorales" in settings
    assert "held-out pieces" in settings and "tensorflow" in settings


def test_table_2_holds_the_final_epoch_of_each_history_and_its_baseline(runs, report,
                                                                       run_bank):
    table = section(report["html"], "tables")
    assert "Table 2" in table and "Table 3" not in table
    for run_dir in runs["all"]:
        final = pd.read_csv(run_dir / "history.csv").iloc[-1]
        for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert f">{final[column]:.3f}<" in table
    assert "<th>baseline loss</th>" in table and "<th>baseline accuracy</th>" in table
    # the held-out numbers first, beside their baselines, then the thesis's training ones
    headers = re.findall(r"<th>([^<]*)</th>", table)
    assert headers[:5] == ["run", "cell", "layers x units", "held-out loss",
                           "held-out accuracy"]
    assert headers.index("baseline loss") < headers.index("training loss")
    baseline = run_baseline(runs["lstm"][0], run_bank.cache).metrics()
    assert f">{baseline['accuracy']:.3f}<" in table and f">{baseline['loss']:.3f}<" in table


def test_curves_embed_plotly_once_and_nothing_is_fetched(report):
    page = report["html"]
    assert page.count(get_plotlyjs()[:200]) == 1  # the library, inline, once
    assert page.count("Plotly.newPlot") == 4 + 1  # Model 1: loss, accuracy, note and onset
    # acc; the verdict
    assert "LSTM" in section(page, "curves") and "GRU" in section(page, "curves")
    assert not REMOTE.search(page)


def plotted_traces(page: str) -> list[dict]:
    """The traces of every chart of a page, as plotly.js receives them."""
    decoder = json.JSONDecoder()
    return [trace for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page)
            for trace in decoder.raw_decode(page, match.end())[0]]


def run_traces(page: str) -> list[dict]:
    """The runs' curves of a page's charts, without the baselines' legend entries."""
    return [t for t in plotted_traces(page) if t.get("legendgroup") != "baseline"]


def test_curves_give_each_run_its_own_colour_never_grey(runs, report):
    """Every curve has a colour; the runs' colours are distinct, saturated (no grey or
    near-black) and those the Compare page gives the same runs."""
    traces = run_traces(section(report["html"], "curves"))
    assert len(traces) == 4 * 2 * 4  # 4 charts (loss, 3 accuracies) x 2 splits x 4 runs
    colours = {t["legendgroup"]: t["line"]["color"] for t in traces}
    assert colours == series_colours(r.name for r in runs["all"])
    assert len(set(colours.values())) == 4
    for colour in colours.values():
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        assert max(rgb) - min(rgb) > 60, f"{colour} is grey"
    assert sum(t.get("showlegend", True) for t in traces) == 4 * 4  # one per run and chart


def test_lstm_and_gru_are_told_apart_by_line_style_and_the_baseline_is_drawn(runs, report):
    traces = run_traces(section(report["html"], "curves"))
    lstm = {r.name for r in runs["lstm"]}
    for trace in traces:
        cell = "lstm" if trace["legendgroup"] in lstm else "gru"
        assert trace["line"]["dash"] == CELL_DASH[cell]
    assert {t["line"]["dash"] for t in traces} == {CELL_DASH["lstm"], CELL_DASH["gru"]}
    curves = section(report["html"], "curves")
    assert "unigram entropy" in curves and "cross-entropy loss (nats)" in curves
    for text in ("always “_”", "LSTM solid"):       # inside plotly's JSON: \u-escaped
        assert json.dumps(text)[1:-1] in curves


def test_progress_is_told_from_the_baselines_to_the_pdf(report):
    steps = report["steps"]
    assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1]          # from 0 to all
    assert [s[0] for s in steps] == sorted(s[0] for s in steps)
    assert any("curves" in s[2] for s in steps) and any("PDF" in s[2] for s in steps)


def test_the_glossary_closes_the_report_and_nothing_sends_to_the_command_line(report):
    glossary = section(report["html"], "glossary")
    for term, _ in GLOSSARY:
        assert html.escape(term, quote=True) in glossary
    assert "python -m core" not in report["html"]


def test_styles_come_from_assets_inline(report):
    page = report["html"]
    assert f"<style>{read_asset(REPORT_STYLE)}</style>" in page
    assert "<link" not in page and page.startswith("<!DOCTYPE html>")


def test_verdict_sentence_is_that_of_the_selected_runs(runs, report):
    expected = verdict_table(runs_table(runs["root"]))["sentence"].iloc[0]
    assert "Welch" in expected
    assert html.escape(expected) in section(report["html"], "verdict")


def test_samples_are_copied_and_linked_relatively(report):
    samples, out = section(report["html"], "samples"), report["out"]
    sources = re.findall(r'<(?:img|audio)[^>]*\bsrc="([^"]+)"', samples)
    assert any(s.endswith(".svg") for s in sources) and any(s.endswith(".wav") for s in sources)
    assert "<audio" in samples and ".mid" in samples
    for source in sources:
        assert not Path(source).is_absolute() and (out / source).is_file()
    metrics = section(report["html"], "metrics")
    assert "Overlapping area" in metrics and "pitch-class entropy (bits)" in metrics


def test_the_music_metrics_are_compact_grouped_and_in_words(report):
    metrics = section(report["html"], "metrics")
    headers = re.findall(r"<th>([^<]*)</th>", metrics)
    assert not [h for h in headers if "_" in h]                # no snake_case headers
    assert {"pitch and harmony", "rhythm and texture", "repetition"} <= set(headers)
    cells = re.findall(r"<td>([^<]*)</td>", metrics)
    assert "pitch and harmony" in cells and "loop share" in cells   # grouped rows, in words
    assert not [c for c in cells if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", c)]
    # one summary row per run and decoding; each run's full table folded away
    summary = metrics[metrics.index('id="overlap-summary"'):]
    summary = summary[:summary.index("</table>")]
    assert summary.count("<tr>") == 1 + 1                      # header + the one evaluation
    assert metrics.count("<details>") == 1


def test_the_report_says_sample_files_only_when_its_zip_holds_them(runs, run_bank, report,
                                                                   tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(zip_report(report["out"])))
    copied = [n for n in archive.namelist() if f"/{FILES_DIR}/" in n]
    assert copied and f"{len(copied)} sample file(s) in {FILES_DIR}/" in report["html"]
    bare = build_report([runs["gru"][0]], tmp_path / "bare", pdf=False,
                        cache_dir=run_bank.cache)["html"]        # a run without samples
    names = zipfile.ZipFile(io.BytesIO(zip_report(bare.parent))).namelist()
    assert not [n for n in names if FILES_DIR in n]
    assert f"in {FILES_DIR}/" not in bare.read_text() and "no sample files" in bare.read_text()


def test_the_verdict_is_drawn_with_its_headline_and_a_table_in_words(runs, report):
    verdict = section(report["html"], "verdict")
    assert '<p class="headline"><b>LSTM ' in verdict and "seeds a side" in verdict
    traces = [t for t in plotted_traces(verdict) if "error_x" in t]
    assert traces and all(t["name"] in ("GRU better", "LSTM better",
                                        "difference within noise") for t in traces)
    headers = re.findall(r"<th>([^<]*)</th>", verdict)
    assert headers[:4] == ["comparison", "verdict", "GRU \u2212 LSTM", "95% interval"]
    assert not [h for h in headers if "_" in h]


def test_user_strings_are_escaped(report):
    assert EVIL not in report["html"] and "<script>alert" not in report["html"]
    assert "&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt;" in report["html"]


def test_pdf_is_printed_with_chromium(report):
    assert find_chromium() is not None, "chromium is missing (scripts/setup.sh --tests)"
    assert report["paths"]["pdf"] == report["out"] / PDF_FILE
    assert report["paths"]["pdf"].read_bytes()[:5] == b"%PDF-"


def test_missing_chromium_skips_only_the_pdf(runs, run_bank, tmp_path, monkeypatch):
    for name, data in ((REPORT_FILE, b"<html>an earlier build"), (PDF_FILE, b"%PDF- of it")):
        (tmp_path / name).write_bytes(data)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    paths = build_report([runs["gru"][0]], tmp_path, pdf=True, cache_dir=run_bank.cache)
    assert "chromium" in paths["pdf_skipped"] and paths["html"].is_file()
    assert not (tmp_path / PDF_FILE).exists() and "files" not in paths  # GRU has no sample


def test_chosen_samples_and_unknown_runs(runs, run_bank, tmp_path):
    sample_id = list_samples(runs["lstm"][0])[0]["sample_id"]
    paths = build_report(runs["all"], tmp_path, pdf=False, sample_ids=[sample_id],
                         cache_dir=run_bank.cache)
    assert paths["pdf_skipped"] == "not asked for"
    assert sample_id in paths["html"].read_text()
    with pytest.raises(RunError, match="no sample"):
        build_report(runs["all"], tmp_path, pdf=False, sample_ids=["nope"])
    with pytest.raises(RunError, match="no run"):
        build_report(["nope"], tmp_path, runs_root=runs["root"])


def test_split_shared_keeps_what_differs_apart():
    differing, shared = split_shared({"a": {"x": 1, "y": 2, "z": {"k": 1}},
                                      "b": {"x": 1, "y": 3, "z": {"k": 1}}})
    assert list(differing.columns) == ["run", "y"] and differing["y"].tolist() == [2, 3]
    assert shared == {"x": 1, "z": {"k": 1}}


def test_cli_report_prints_the_paths(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the CLI's default corpus cache (for baselines): ./cache
    out = tmp_path / "cli"
    assert main(["report", "--runs", str(runs["root"]), "--run", runs["lstm"][1].name,
                 "--run", str(runs["gru"][1]), "--out", str(out), "--no-pdf"]) == 0
    printed = capsys.readouterr().out
    assert f"html: {out / 'report.html'}" in printed and "pdf_skipped" in printed
    assert main(["report", "--runs", str(runs["root"]), "--run", "nope",
                 "--out", str(out)]) == 2
