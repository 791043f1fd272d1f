"""Screenshots for the defense walk-through: the first page, Listen with five decodings and the
report's curves, in Debian's Chromium at 1400 px wide (never `playwright install`).

    python scripts/defense_screens.py --runs RUNS --cache CACHE --out DIR [--app REPO]
        [--prefix before-]

`--app` is the checkout whose dashboard and CLI are photographed (default: this one), so the
same script shoots an older tree for a before/after pair. The runs folder should hold a lead
run and an accompaniment run (the newest of each is used on Listen) and a few more runs for
the report; generating on Listen writes samples into it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1400
STRATEGIES = ("top-k sampling", "top-p (nucleus) sampling", "beam search")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(app: Path, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=app, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return process, base
        except OSError:
            time.sleep(0.25)
    process.terminate()
    raise SystemExit(f"streamlit did not start; see {log}")


def _settle(page) -> None:
    page.wait_for_timeout(800)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=180_000)
    page.wait_for_timeout(800)


def _open(page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").and_(
        page.get_by_role("link", name=title, exact=True)).click()
    _settle(page)


def landing(page, base: str, out: Path) -> None:
    page.goto(base)
    page.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=60_000)
    _settle(page)
    page.screenshot(path=str(out))


def listen(page, out: Path) -> None:
    _open(page, "Listen")
    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Decodings to compare")
    box = picker.get_by_role("combobox")
    for title in STRATEGIES:
        box.click()
        page.get_by_role("option", name=title).click()
        _settle(page)
    box.press("Escape")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator("audio").first.wait_for(state="attached", timeout=300_000)
    _settle(page)
    page.set_viewport_size({"width": WIDTH, "height": 2600})
    page.wait_for_timeout(1500)
    page.locator("audio").first.scroll_into_view_if_needed()
    page.get_by_text("Music metrics of the generated continuation").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(out))
    side_by_side = page.get_by_text("side by side (scores shrunk to their column)")
    if side_by_side.count():  # the layout choice, where the checkout has one
        side_by_side.click()
        _settle(page)
        page.get_by_text("Music metrics of the generated continuation").scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out.with_name(f"{out.stem}-columns{out.suffix}")))
    page.set_viewport_size({"width": WIDTH, "height": 900})


BUILD = """
import inspect, sys
from core.outputs.report import build_report
out, runs, cache, *ids = sys.argv[1:]
extra = {"cache_dir": cache} if "cache_dir" in inspect.signature(build_report).parameters else {}
build_report(ids, out, pdf=False, runs_root=runs, **extra)
"""


def report(app: Path, runs: Path, cache: Path, browser, out: Path, env: dict) -> None:
    """The report of every Model 1 lead run, built in `app`'s tree; its curves section."""
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")
                 and "-m1-lead-" in p.name)
    folder = Path(tempfile.mkdtemp(prefix="report-"))
    subprocess.run([sys.executable, "-c", BUILD, str(folder), str(runs), str(cache), *ids],
                   cwd=app, env=env, check=True, capture_output=True)
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.goto((folder / "report.html").as_uri())
    page.wait_for_timeout(2500)
    page.locator("#curves").screenshot(path=str(out))
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--app", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screens-"))
    env = {**os.environ, "MUSIC_RUNS_DIR": str(args.runs.resolve()),
           "MUSIC_CACHE_DIR": str(args.cache.resolve()),
           "MUSIC_UPLOADS_DIR": str(work / "uploads"), "MUSIC_REPORTS_DIR": str(work / "reports"),
           "TF_CPP_MIN_LOG_LEVEL": "2", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process, base = _serve(args.app, env, work / "server.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.set_default_timeout(60_000)
            landing(page, base, args.out / f"{args.prefix}landing.png")
            listen(page, args.out / f"{args.prefix}listen-5-decodings.png")
            report(args.app, args.runs.resolve(), args.cache.resolve(), browser,
                   args.out / f"{args.prefix}report-curves.png", env)
            browser.close()
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
