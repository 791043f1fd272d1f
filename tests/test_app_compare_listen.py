"""The Compare and Listen pages, rendered with Streamlit's AppTest on really trained runs
(the `trained_runs` fixture of conftest.py) and on hand-made run folders."""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Column

from core.evidence.baselines import run_baseline
from core.outputs.figures import series_colours
from core.runs.samples import list_samples
from core.sampling.decoding import MEASURED_BEST, MEASURED_TEMPERATURE
from scripts.synthetic_runs import write_synthetic_run
from tests.apptest import (
    TIMEOUT,
    chart,
    charts,
    click,
    downloads,
    frame_with,
    open_page,
    page_path,
    rerun,
    texts,
    values,
)

# --------------------------------------------------------------------------- Compare

def held_out(figure: dict, name: str) -> list[dict]:
    """The held-out curves (the right-hand panel) of the runs whose legend name contains
    `name`."""
    return [t for t in figure["data"] if name in t["name"] and t.get("xaxis") == "x2"]


def runs_only(figure: dict) -> dict:
    """A curve figure without its baselines' legend entries: the runs' traces."""
    return {**figure, "data": [t for t in figure["data"] if t.get("legendgroup") != "baseline"]}


def test_compare_opens_on_an_explicit_selection(app_env, trained_runs):
    app_env.use_runs(trained_runs.runs)
    at = open_page("compare")
    assert not [c for c in charts(at) if "compare_loss_chart" in c]   # nothing drawn unasked
    assert "Tick the runs to compare" in texts(at, "info")
    assert at.multiselect(key="compare_selected").value == []


def test_compare_table_and_curves_from_history(app_env, trained_runs):
    app_env.use_runs(trained_runs.runs)
    at = open_page("compare")
    table = at.dataframe[0].value
    assert set(table["run id"]) == {p.name for p in trained_runs.all}
    assert set(table["state"]) == {"finished"}
    # readable at 1400 px: the name, its state, then the held-out numbers it came for;
    # human headers, dates as dates, the full id last
    assert list(table.columns[:4]) == ["run", "state", "held-out loss", "note acc."]
    assert {"final training loss", "final held-out loss", "final held-out accuracy",
            "training time", "batch size"} <= set(table.columns)
    assert not [c for c in table.columns if "_" in c]
    assert table.columns[-1] == "run id"
    assert pd.api.types.is_datetime64_any_dtype(table["created"])
    assert not table["run"].str.match(r"\d{8}-").any()        # no timestamp in a name
    assert at.dataframe[0].proto.placeholder == "\u2013"      # a dash for a missing value

    at.session_state["compare_selected"] = [p.name for p in trained_runs.all]
    at.session_state["compare_group_seeds"] = False       # a line per run, one click away
    rerun(at)
    # lead and accompaniment runs (and Model 1 and 2) are never in one chart
    assert [s.value for s in at.subheader][:3] == ["Model 1 · lead · 2 run(s)",
                                                   "Model 1 · accompaniment · 1 run(s)",
                                                   "Model 2 · lead · 1 run(s)"]
    loss = runs_only(chart(at, "compare_loss_chart_m1_lead"))
    assert {t["legendgroup"] for t in loss["data"]} == {trained_runs.lead_lstm.name,
                                                        trained_runs.lead_gru.name}
    accompaniment = runs_only(chart(at, "compare_loss_chart_m1_accompaniment"))
    assert {t["legendgroup"] for t in accompaniment["data"]} == {trained_runs.accompaniment.name}
    # every run has a training and a held-out curve, side by side; LSTM solid, GRU dashed
    assert len(loss["data"]) == 2 * 2
    assert {t.get("xaxis") for t in loss["data"]} == {"x", "x2"}
    dashes = {t["legendgroup"]: t["line"]["dash"] for t in loss["data"]}
    assert dashes == {trained_runs.lead_lstm.name: "solid", trained_runs.lead_gru.name: "dash"}
    assert loss["layout"]["yaxis"]["title"]["text"] == "cross-entropy loss (nats)"
    # one legend entry and one colour per run, the colours the report gives the same runs
    entries = [t for t in loss["data"] if t.get("showlegend", True)]
    assert len(entries) == 2
    colours = series_colours(p.name for p in trained_runs.all)
    shown = {t["legendgroup"]: t["line"]["color"] for t in loss["data"]}
    assert shown == {k: colours[k] for k in shown}
    # the legend sits under the plot, not over it
    assert loss["layout"]["legend"]["y"] < 0
    # the curve is history.csv itself
    history = pd.read_csv(trained_runs.lead_gru / "history.csv")
    gru = held_out(loss, "lead-gru")
    assert len(gru) == 1
    assert values(gru[0]["y"]) == pytest.approx(history["val_loss"].tolist())
    assert values(gru[0]["x"]) == history["epoch"].tolist()
    # the baseline of the runs' data: a dotted line in the held-out panel named in the
    # legend (never words over the curves), and a column
    baseline = run_baseline(trained_runs.lead_lstm, trained_runs.cache).metrics()
    accuracy = chart(at, "compare_acc_chart_m1_lead")
    (line,) = accuracy["layout"]["shapes"]
    assert line["y0"] == pytest.approx(baseline["accuracy"]) and line["xref"] == "x2 domain"
    assert any("always “_”" in t["name"] for t in accuracy["data"])
    assert not any("always" in a["text"] for a in accuracy["layout"]["annotations"])
    assert accuracy["layout"]["xaxis"]["dtick"] == 1                  # whole epochs
    pitch = chart(at, "compare_pitch_chart")
    history2 = pd.read_csv(trained_runs.model2 / "history.csv")
    train_pitch = [t for t in pitch["data"] if t.get("xaxis") == "x"][0]
    assert values(train_pitch["y"]) == pytest.approx(history2["pitch_accuracy"].tolist())
    assert chart(at, "compare_duration_chart")
    assert chart(at, "compare_parallel_chart")
    summaries = [d for d in at.dataframe if "epochs done" in d.value.columns]
    assert len(summaries) == 3  # Table 2 of the lead and the accompaniment, Table 3
    table3 = summaries[2].value
    # the held-out numbers first, beside their baselines, then the thesis's training ones
    assert list(table3.columns[:3]) == ["run", "held-out loss", "held-out pitch acc"]
    assert {"training pitch acc", "held-out duration acc", "baseline pitch acc"} <= \
        set(table3.columns)
    lead = summaries[0].value.set_index("run")
    assert lead["baseline accuracy"].tolist() == pytest.approx([baseline["accuracy"]] * 2)
    for summary in summaries:    # a missing value is a dash, never "None" or "nan"
        assert summary.proto.placeholder == "\u2013"
        assert not summary.value.isin(["None", "nan"]).any().any()

    at.radio(key="compare_x").set_value("wall time")
    at.radio(key="compare_smooth_method").set_value("EMA")
    rerun(at)
    gru = held_out(chart(at, "compare_loss_chart_m1_lead"), "lead-gru")
    assert values(gru[0]["x"]) == pytest.approx(history["elapsed"].tolist())

    at.multiselect(key="compare_filter_cell").set_value(["gru"])
    at.run()
    assert at.dataframe[0].value["cell"].tolist() == ["gru"]


def test_verdict_covers_the_selected_runs_unless_asked_for_all(app_env, run_bank, tmp_path):
    ids = [run_bank.path(f"{cell}_seed_{i}").name for cell in ("lstm", "gru") for i in range(2)]
    app_env.use_runs(run_bank.folder(tmp_path / "runs", *(f"{c}_seed_{i}" for c in ("lstm", "gru")
                                                            for i in range(2))))
    at = open_page("compare", compare_selected=ids[:2])       # two LSTM seeds only
    assert "No LSTM/GRU pair to judge among the selected runs" in texts(at, "info")
    assert "Over the 2 selected run(s)." in texts(at, "caption")
    at.toggle(key="compare_verdict_all").set_value(True)
    rerun(at)
    assert "Over every run in the runs folder." in texts(at, "caption")
    assert frame_with(at, "verdict")["seeds LSTM / GRU"].tolist() == ["2 / 2"]


def test_compare_broken_runs_show_as_broken(app_env, runs_copy, trained_runs):
    app_env.use_runs(runs_copy)
    garbage = runs_copy / "20260101-000000-garbage"
    garbage.mkdir()
    (garbage / "config.json").write_text("\x00 this is not json {")
    (garbage / "status.json").write_text(json.dumps({"state": "finished"}))
    bad_history = runs_copy / trained_runs.lead_gru.name / "history.csv"
    bad_history.write_text("epoch,loss\n1,2.0\n2,\"oops\nnot,a,csv,,,\n")
    at = open_page("compare")
    table = at.dataframe[0].value.set_index("run id")
    assert table.loc[garbage.name, "state"] == "broken"
    assert table.loc[trained_runs.lead_gru.name, "state"] == "broken"
    assert "broken" in texts(at)
    at.session_state["compare_selected"] = [garbage.name, trained_runs.lead_gru.name,
                                            trained_runs.lead_lstm.name]
    rerun(at)
    assert "history unreadable" in texts(at)
    assert chart(at, "compare_loss_chart_m1_lead")  # the readable run is still drawn


def test_compare_and_listen_with_only_a_broken_run(app_env, tmp_path):
    runs = tmp_path / "runs"
    (runs / "20260101-000000-bad").mkdir(parents=True)
    (runs / "20260101-000000-bad" / "config.json").write_text("not json")
    app_env.use_runs(runs)
    at = open_page("compare")
    assert at.dataframe[0].value["state"].tolist() == ["broken"]
    assert "No run in the table has finished an epoch" in texts(at)
    at = open_page("listen")
    assert "No run has saved weights yet" in texts(at)


def test_compare_and_listen_without_runs_say_what_to_do(app_env, tmp_path):
    app_env.use_runs(tmp_path / "no-runs-yet")
    for name in ("compare", "listen"):
        at = open_page(name)
        assert "No runs yet" in texts(at)
        assert "Train" in texts(at)


def test_compare_follows_a_running_run(app_env, runs_copy, trained_runs):
    app_env.use_runs(runs_copy)
    status = runs_copy / trained_runs.lead_lstm.name / "status.json"
    data = json.loads(status.read_text())
    data.update(state="running", pid=os.getpid(), host=socket.gethostname())
    status.write_text(json.dumps(data))
    at = open_page("compare")
    at.session_state["compare_selected"] = [trained_runs.lead_lstm.name]
    rerun(at)
    assert "refresh every" in texts(at)
    assert chart(at, "compare_loss_chart")


def test_compare_with_200_runs_renders(app_env, tmp_path, trained_runs):
    """Hundreds of runs still give a whole page; its speed is a `python -m core bench`
    figure (scripts/time_compare_page.py), not an assertion here."""
    runs = tmp_path / "many"
    for i in range(200):
        write_synthetic_run(runs, i)
    app_env.use_runs(runs)
    at = rerun(open_page("compare"))
    assert len(at.dataframe[0].value) == 200
    at.session_state["compare_selected"] = sorted(p.name for p in runs.iterdir())[-12:]
    rerun(at)
    loss = chart(at, "compare_loss_chart_m1_lead")
    assert len({t["legendgroup"] for t in loss["data"]}) == 12


# --------------------------------------------------------------------------- Listen

def test_listen_generates_greedy_and_temperature_side_by_side(app_env, runs_copy, trained_runs):
    app_env.use_runs(runs_copy)
    at = open_page("listen")
    at.selectbox(key="listen_lead").set_value(trained_runs.lead_lstm.name)
    at.selectbox(key="listen_accompaniment").set_value(trained_runs.accompaniment.name)
    held_out = json.loads((trained_runs.lead_lstm / "config.json").read_text())
    assert at.selectbox(key="listen_seed_piece").options == held_out["corpus"]["held_out"]
    # the decodings measured closest to held-out music, beside greedy (as the thesis compares)
    assert at.multiselect(key="listen_strategies").value == ["greedy", "temperature"]
    assert at.slider(key="listen_temperature").value == MEASURED_TEMPERATURE
    assert at.text_input(key="listen_extra").value == MEASURED_BEST.spec == "top_p:0.95"
    at.number_input(key="listen_steps").set_value(32)
    at.button(key="listen_generate").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("audio")) == 3
    svgs = [m.value for m in at.markdown if "<svg" in m.value]
    assert len(svgs) == 3
    assert len([c for c in charts(at) if "listen_roll" in c]) == 3
    titles = ["greedy", "temperature t=0.9", "top_p p=0.95 t=1"]
    assert [s.value for s in at.subheader][:3] == titles
    made = [c.value for c in at.caption if "made " in c.value]  # local time, not ISO
    assert len(made) == 3 and not any("+00:00" in c or "T" in c.split("made ")[1] for c in made)
    metrics = [d.value for d in at.dataframe if "decoding" in d.value.columns][0]
    assert metrics["decoding"].tolist() == titles
    assert "scale consistency" in metrics.columns
    samples = sorted((runs_copy / trained_runs.lead_lstm.name / "samples").iterdir())
    assert len(samples) == 3
    for folder in samples:
        files = json.loads((folder / "sample.json").read_text())["files"]
        assert {"midi", "musicxml", "wav", "svg", "notes"} <= set(files)
    side_by_side_reads(at)

    # a reload (a new session on the same address) shows the same runs, decodings and samples:
    # the browser writes each kept widget's value into the address (tests/test_browser.py
    # walks that), the page the samples shown
    assert sorted(at.query_params["samples"]) == sorted(
        f"{trained_runs.lead_lstm.name}/{f.name}" for f in samples)
    gru = next(o for o in at.selectbox(key="listen_lead").options if "gru" in o)  # as shown
    address = {"listen_lead": gru, "listen_accompaniment": "none", "listen_steps": "24",
               "listen_strategies": ["greedy (argmax)", "top-k sampling"],
               "samples": at.query_params["samples"]}
    reloaded = open_at(address)
    assert (reloaded.selectbox(key="listen_lead").value,
            reloaded.selectbox(key="listen_accompaniment").value,
            reloaded.multiselect(key="listen_strategies").value,
            reloaded.number_input(key="listen_steps").value) == (
        trained_runs.lead_gru.name, "none", ["greedy", "top_k"], 24)
    assert [s.value for s in reloaded.subheader][:3] == titles
    assert len(reloaded.get("audio")) == 3

    # a fresh session reopens them from the run folder
    again = open_page("listen")
    again.selectbox(key="listen_lead").set_value(trained_runs.lead_lstm.name)
    again.run()
    earlier = [c for c in again.checkbox if c.key and c.key.startswith("listen_earlier_0_")]
    assert len(earlier) == 3
    again.checkbox(key=f"listen_earlier_0_{samples[0]}").check()
    again.run()
    again.button(key="listen_open").click()
    rerun(again)
    assert len(again.get("audio")) == 1
    assert any("<svg" in m.value for m in again.markdown)

    # a link naming a deleted sample, or a path, shows the others without a word
    shutil.rmtree(samples[0])
    address["samples"] = [*address["samples"], "../../etc/x", "/etc/passwd"]
    assert len(open_at(address).get("audio")) == 2


def test_listen_keeps_its_runs_decodings_and_samples_across_pages(app_env, runs_copy,
                                                                  trained_runs):
    """Listen -> Compare -> Listen in one session: the runs, the decodings and the sample
    just generated are still there (Streamlit forgets a widget once another page has run)."""
    app_env.use_runs(runs_copy)
    at = open_page("app")
    at.switch_page("views/listen.py")
    rerun(at)
    newest = at.selectbox(key="listen_lead").value
    lead = next(r for r in (trained_runs.lead_lstm.name, trained_runs.lead_gru.name)
                if r != newest)                                  # not the default
    at.selectbox(key="listen_lead").set_value(lead)
    at.selectbox(key="listen_accompaniment").set_value("none")
    at.multiselect(key="listen_strategies").set_value(["greedy"])
    at.text_input(key="listen_extra").set_value("")
    at.number_input(key="listen_steps").set_value(8)
    rerun(at)
    click(at, "listen_generate")
    assert len(at.get("audio")) == 1
    for page in ("compare", "listen"):
        at.switch_page(f"views/{page}.py")
        rerun(at)
    assert (at.selectbox(key="listen_lead").value, at.selectbox(key="listen_accompaniment").value,
            at.multiselect(key="listen_strategies").value, at.text_input(key="listen_extra").value,
            at.number_input(key="listen_steps").value) == (lead, "none", ["greedy"], "", 8)
    assert len(at.get("audio")) == 1 and [s.value for s in at.subheader][0] == "greedy"


def open_at(address: dict) -> AppTest:
    """The Listen page opened on an address (query parameters), as a reload or a link does."""
    at = AppTest.from_file(page_path("listen"), default_timeout=TIMEOUT)
    at.query_params.update(address)
    return rerun(at)


def side_by_side_reads(at: AppTest) -> None:
    """Three samples side by side: each aspect (title, score, roll, player, downloads) is one
    row of three columns, so they line up; every roll has the same pitch axis and length;
    scores keep their size and scroll; each player spans its column (room for a seek bar)."""
    assert at.radio(key="listen_layout").value == "columns"
    rows = [list(b.children.values()) for b in at if isinstance(b, Block) and b.children
            and all(isinstance(c, Column) for c in b.children.values())]
    for aspect in (lambda c: len(c.subheader) == 1, lambda c: len(c.get("plotly_chart")) == 1,
                   lambda c: any("score-frame" in m.value for m in c.markdown),
                   lambda c: len(c.get("audio")) == 1):
        assert len([r for r in rows if len(r) == 3 and all(map(aspect, r))]) == 1
    rolls = [spec["layout"] for key, spec in charts(at).items() if "listen_roll" in key]
    assert len(rolls) == 3
    assert len({tuple(r["yaxis"]["range"]) for r in rolls}) == 1
    assert len({tuple(r["xaxis"]["range"]) for r in rolls}) == 1
    scores = [m.value for m in at.markdown if "score-frame" in m.value]
    assert len(scores) == 3 and all("score-frame scroll" in s for s in scores)
    assert all(a.proto.width_config.use_stretch for a in at.get("audio"))


def test_listen_seeds_from_the_bundled_demo_midi(app_env, runs_copy, trained_runs):
    app_env.use_runs(runs_copy)
    at = open_page("listen")
    at.selectbox(key="listen_lead").set_value(trained_runs.lead_lstm.name)
    at.selectbox(key="listen_accompaniment").set_value(trained_runs.accompaniment.name)
    at.multiselect(key="listen_strategies").set_value(["greedy"])
    at.text_input(key="listen_extra").set_value("")
    at.radio(key="listen_seed_source").set_value("demo MIDI file")
    at.number_input(key="listen_steps").set_value(16)
    rerun(at)
    assert "Download demo-seed.mid" in downloads(at)
    click(at, "listen_generate")
    assert not at.error, [e.value for e in at.error]
    (sample,) = list_samples(runs_copy / trained_runs.lead_lstm.name)
    assert sample["seed_source"] == "file:demo-seed.mid"
    assert len(at.get("audio")) == 1


def test_listen_shows_run_errors_clearly(app_env, runs_copy, trained_runs):
    app_env.use_runs(runs_copy)
    (runs_copy / trained_runs.lead_gru.name / "vocab.json").write_text("{broken")
    at = open_page("listen")
    at.selectbox(key="listen_lead").set_value(trained_runs.lead_gru.name)
    at.selectbox(key="listen_accompaniment").set_value("none")
    at.button(key="listen_generate").click()
    rerun(at)
    assert at.error and "Cannot generate" in at.error[0].value
    assert trained_runs.lead_gru.name in at.error[0].value


def test_engraving_works_outside_the_main_thread(tmp_path, trained_runs):
    """Streamlit runs pages in a script thread; Verovio must still find its fonts there."""
    from music21 import note, stream

    from core.rendering.engraving import render_svg
    from core.rendering.score import write_musicxml

    score = stream.Score([stream.Part([note.Note("C4"), note.Note("E4")])])
    xml = write_musicxml(score, tmp_path / "x.musicxml")
    result = {}

    def engrave():
        try:
            result["paths"] = render_svg(xml, tmp_path / "x.svg")
        except Exception as exc:  # noqa: BLE001
            result["error"] = exc
    worker = threading.Thread(target=engrave)
    worker.start()
    worker.join()
    assert "error" not in result, result.get("error")
    assert "<svg" in result["paths"][0].read_text()
