"""The dashboard in a real browser: `streamlit run app.py` as a server, Debian's Chromium
driven by Playwright.

One test, on the tiny runs of the `trained_runs` fixture (a private copy, since generating
writes samples into the runs), walks the way a newcomer at a defense does: the Start page
(what is ready, the path) and its button to Compare; on Compare it picks the lead LSTM and the
lead GRU run in "Runs to plot" and checks that the curves chart shows both in its legend (and
no other run); on Listen it picks the lead LSTM and the accompaniment run, asks for all five
decodings (six with the measured best, top-p 0.95, preselected beside them), presses Generate and checks that every score is whole inside its frame, that the
downloads read MIDI / MusicXML / WAV in full and that the WAVs download from the server; on
the listening test it prepares a pair and answers it under a listener's name.

Screenshots go to test-artifacts/ (ignored by git): browser-start.png, browser-compare.png,
browser-listen.png and browser-listening.png on success, browser-failure.png plus the
server's log (browser-server.log) when anything fails. Uses /usr/bin/chromium
(scripts/setup.sh --tests installs it); Playwright's own browsers are never downloaded. About a
minute on 2 cores, most of it the trained_runs fixture and generating (TensorFlow import).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.evidence.listening import read_answers
from core.runs.listing import list_runs, run_labels
from tests.apptest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HEALTH_TIMEOUT = 60        # seconds for the server to answer /_stcore/health
PAGE_TIMEOUT = 30_000      # ms: a page's first render, a chart after a selection
GENERATE_TIMEOUT = 180_000  # ms: Generate (TensorFlow import, six decodings, FluidSynth)
STRATEGIES = ("top-k sampling", "top-p (nucleus) sampling", "beam search")  # besides the two
DOWNLOAD_LABELS = ["MIDI", "MusicXML", "WAV"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def server(app_env, trained_runs, runs_copy, tmp_path):
    """The dashboard served on a free local port in app_env's folders, over a private copy of
    the tiny runs and of their corpus cache; yields (base URL, server log path). Always
    stopped afterwards."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing (scripts/setup.sh --tests installs it)"
    app_env.use_runs(runs_copy)
    app_env.use_cache(tmp_path / "cache")
    shutil.copytree(trained_runs.cache, app_env.cache)
    port = _free_port()
    env = {**os.environ,  # app_env has set the MUSIC_* folders here
           "TF_CPP_MIN_LOG_LEVEL": "2", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not _healthy(f"{base}/_stcore/health"):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n"
                            + log_path.read_text(errors="replace")[-4000:])
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health in {HEALTH_TIMEOUT} s:\n"
                            + log_path.read_text(errors="replace")[-4000:])
            time.sleep(0.25)
        yield base, log_path
    finally:
        _stop(process)


def _save_failure(page, log_path: Path) -> None:
    """Screenshot and server log into test-artifacts/; never hides the original error."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True,
                        timeout=10_000)
    except Exception as exc:  # noqa: BLE001 - the test's own failure matters more
        print(f"no failure screenshot: {exc}")
    try:
        shutil.copyfile(log_path, ARTIFACTS / "browser-server.log")
    except OSError as exc:
        print(f"no server log copy: {exc}")


def _open(page, title: str) -> None:
    """Click a page's link in the sidebar navigation."""
    page.get_by_test_id("stSidebarNavLink").and_(
        page.get_by_role("link", name=title, exact=True)).click()


def _settle(page) -> None:
    """Wait until the page's script run is over (Streamlit shows its status widget, "Running",
    only while a run is under way), so what is read next is the finished page."""
    from playwright.sync_api import expect

    page.wait_for_timeout(500)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=PAGE_TIMEOUT)


def _start(page, base: str) -> None:
    """The first page: what the lab is, what is ready, and its way on to Compare."""
    from playwright.sync_api import expect

    # Open the main page and navigate the way a user does (a cold server answers a deep
    # link such as /compare with a "Page not found" dialog before st.navigation has run).
    page.goto(base)
    expect(page.get_by_role("heading", name="LSTM vs GRU music lab")).to_be_visible(
        timeout=PAGE_TIMEOUT)
    _settle(page)
    expect(page.get_by_text("Next step: Compare.")).to_be_visible()
    expect(page.get_by_text("4 run(s) finished")).to_be_visible()
    # the Open buttons line up: one row, one height, whatever each card says
    boxes = [b.bounding_box() for b in
             page.get_by_role("button", name=re.compile(r"^Open ")).all()]
    assert len(boxes) == 5
    assert len({round(b["y"]) for b in boxes}) == 1
    assert len({round(b["height"]) for b in boxes}) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-start.png"))
    page.get_by_role("button", name="Open Compare").click()


def _compare(page, plotted: list[str], others: list[str]) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible(timeout=PAGE_TIMEOUT)
    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Runs to plot")
    expect(picker).to_be_visible()
    _settle(page)
    # No curve is drawn until runs are chosen.
    expect(page.get_by_text("Tick the runs to compare in the table above")).to_be_visible()
    box = picker.get_by_role("combobox")
    for label in plotted:
        box.click()
        box.fill(label)
        expect(page.get_by_role("option", name=label)).to_be_visible()
        box.press("Enter")
        box.press("Escape")
        expect(picker.get_by_text(label, exact=True)).to_be_visible()

    chart = page.locator(".js-plotly-plot").first
    expect(chart).to_be_visible(timeout=PAGE_TIMEOUT)
    legend = chart.locator(".legendtext")
    # by default one short entry per setting ("LSTM 8u"), never the runs' long labels
    expect(legend.filter(has_text=re.compile(r"^(LSTM|GRU) \d+u$"))).to_have_count(
        2, timeout=PAGE_TIMEOUT)
    expect(legend.filter(has_text=plotted[0])).to_have_count(0)
    # the choice survives a reload: Streamlit keeps it in the address
    assert "compare_selected=" in page.url
    page.reload()
    expect(picker.get_by_text(plotted[0], exact=True)).to_be_visible(timeout=PAGE_TIMEOUT)
    _settle(page)
    # a line per run, one click away
    page.get_by_text("One line per setting", exact=True).first.click()
    _settle(page)
    chart = page.locator(".js-plotly-plot").first
    legend = chart.locator(".legendtext")
    for label in plotted:
        expect(legend.filter(has_text=label).first).to_be_visible(timeout=PAGE_TIMEOUT)
    for label in others:
        expect(legend.filter(has_text=label)).to_have_count(0)
    # Streamlit scrolls inside its main container, so a full-page shot is the viewport:
    # bring what matters into it first.
    chart.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-compare.png"))


def _choose(page, title: str, label: str) -> None:
    """Pick `label` in the selectbox titled `title` (unless it is already chosen)."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=title, exact=True)
    expect(box).to_be_visible(timeout=PAGE_TIMEOUT)
    if box.input_value() != label:
        box.click()
        page.get_by_role("option", name=label, exact=True).click()
    expect(box).to_have_value(label)


def _listen(page, lead: str, accompaniment: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Listen")
    expect(page.get_by_role("heading", name="Listen")).to_be_visible(timeout=PAGE_TIMEOUT)
    _choose(page, "Lead run", lead)
    _choose(page, "Accompaniment run", accompaniment)
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Decodings to compare") \
        .get_by_role("combobox")
    for title in STRATEGIES:
        box.click()
        page.get_by_role("option", name=title).click()
        _settle(page)
    box.press("Escape")
    expect(page.get_by_text("Comparing 6 decoding(s)")).to_be_visible()
    generate = page.get_by_role("button", name="Generate", exact=True)
    expect(generate).to_be_enabled(timeout=PAGE_TIMEOUT)
    generate.click()

    audio = page.locator("audio")
    error = page.get_by_test_id("stAlertContentError").or_(page.get_by_test_id("stException"))
    # The page reports a failed generation with st.error: stop waiting as soon as one shows.
    expect(audio.first.or_(error.first)).to_be_attached(timeout=GENERATE_TIMEOUT)
    assert not error.count(), f"Generate failed: {error.first.inner_text()}"
    expect(audio).to_have_count(6, timeout=PAGE_TIMEOUT)
    _settle(page)
    _scores_are_whole(page)
    _downloads_read_in_full(page)
    sources = [a.evaluate("element => element.currentSrc || element.src")
               for a in audio.all()]
    assert sources and all(sources), f"an <audio> element has no src: {sources}"
    for src in sources:
        response = page.request.get(src)
        assert response.status == 200, f"{src} answered {response.status}"
        body = response.body()
        assert len(body) > 10_000, f"{src} is only {len(body)} bytes"
        assert body[:4] == b"RIFF" and body[8:12] == b"WAVE", f"{src} is not a WAV file"
    page.locator(".score-frame").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-listen.png"))
    # a reload keeps the runs, the decodings and the six samples: the address holds them
    page.reload()
    expect(audio).to_have_count(6, timeout=PAGE_TIMEOUT)
    expect(page.get_by_role("combobox", name="Lead run", exact=True)).to_have_value(lead)
    expect(page.get_by_text("Comparing 6 decoding(s)")).to_be_visible()


def _scores_are_whole(page) -> None:
    """Six engraved scores, each drawn inside its frame's width (shrunk, not cut to its
    first bar) and tall enough to read."""
    frames = page.locator(".score-frame")
    assert frames.count() == 6
    for i in range(6):
        sizes = frames.nth(i).evaluate(
            "frame => { const svg = frame.querySelector('svg').getBoundingClientRect();"
            " return [svg.width, svg.height, frame.clientWidth, frame.scrollWidth]; }")
        width, height, frame_width, scroll_width = sizes
        assert width <= frame_width + 1 and scroll_width <= frame_width + 1, sizes
        assert height > 60 and width > 200, sizes


def _downloads_read_in_full(page) -> None:
    """Every download button says MIDI / MusicXML / WAV, and its label is not cut off."""
    buttons = page.get_by_test_id("stDownloadButton").locator("button")
    labels = [b.inner_text().strip() for b in buttons.all()]
    assert [label.split()[-1] for label in labels] == DOWNLOAD_LABELS * 6, labels
    for button in buttons.all():
        cut = button.evaluate("b => [...b.querySelectorAll('p, span, div')].some("
                              "e => e.scrollWidth > e.clientWidth + 1)")
        assert not cut, f"the label of {button.inner_text()!r} is cut off"


def _listening(page, runs, lead: str) -> None:
    """Prepare one pair, answer it under a listener's name: the answer is saved."""
    from playwright.sync_api import expect

    _open(page, "Listening test")
    expect(page.get_by_role("heading", name="Blind listening test")).to_be_visible(
        timeout=PAGE_TIMEOUT)
    page.get_by_role("tab", name="Prepare pairs").click()
    _choose(page, "Lead run", lead)
    steps = page.get_by_role("spinbutton", name="Steps generated after the opening")
    steps.fill("16")
    steps.press("Enter")
    _settle(page)
    page.get_by_role("button", name="Prepare pairs").click()
    expect(page.get_by_text("Prepared 1 pair(s)")).to_be_visible(timeout=GENERATE_TIMEOUT)
    page.get_by_role("tab", name="Take the test").click()
    name = page.get_by_role("textbox", name="Your name")
    name.fill("Committee member")
    name.press("Enter")
    _settle(page)
    page.get_by_role("button", name="Start").click()
    expect(page.locator("audio")).to_have_count(2, timeout=PAGE_TIMEOUT)
    page.screenshot(path=str(ARTIFACTS / "browser-listening.png"))
    page.get_by_role("button", name="A is the real one").click()
    expect(page.get_by_text("you have answered every pair")).to_be_visible(
        timeout=PAGE_TIMEOUT)
    answers = read_answers(runs)
    assert answers[["listener", "answer"]].values.tolist() == [["Committee member", "A"]]


def test_start_compare_listen_and_the_listening_test_in_chromium(server, trained_runs,
                                                                 runs_copy):
    from playwright.sync_api import sync_playwright

    base, log_path = server
    labels = run_labels(list_runs(trained_runs.runs))
    name = {path: labels[path.name] for path in trained_runs.all}
    plotted = [name[trained_runs.lead_lstm], name[trained_runs.lead_gru]]
    others = [name[trained_runs.accompaniment], name[trained_runs.model2]]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT)
            try:
                _start(page, base)
                _compare(page, plotted, others)
                _listen(page, name[trained_runs.lead_lstm], name[trained_runs.accompaniment])
                _listening(page, runs_copy, name[trained_runs.lead_lstm])
            except BaseException:
                _save_failure(page, log_path)
                raise
        finally:
            browser.close()
