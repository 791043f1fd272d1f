"""The report beyond its HTML: report.pdf printed by headless Chromium, offline, where Debian's
chromium is installed, and the report folder as a zip for the dashboard's download.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

PDF_FILE = "report.pdf"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium")
PDF_TIMEOUT_S = 120
PRINT_WINDOW_PX = 720


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = PDF_TIMEOUT_S) -> str | None:
    """Print the report with headless chromium, fully offline (no network, no profile of
    the user's: a fresh one in a temporary folder). None when it worked, else why not."""
    chromium = find_chromium()
    if chromium is None:
        return "chromium is not installed (apt-get install chromium), so no PDF was made"
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
                   # plotly sizes its charts to the window when the page loads: a window
                   # narrower than A4's printable width (~700 px) keeps them on the page
                   f"--window-size={PRINT_WINDOW_PX},1000",
                   f"--user-data-dir={profile}", f"--print-to-pdf={pdf_path}",
                   html_path.resolve().as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"chromium did not finish printing within {timeout:g} s"
        except OSError as exc:
            return f"chromium could not be started: {exc}"
    if not pdf_path.is_file() or not pdf_path.read_bytes()[:4] == b"%PDF":
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return f"chromium wrote no PDF (exit {result.returncode}): {' / '.join(tail)}"
    return None


def zip_report(folder: Path | str) -> bytes:
    """A report folder as a zip, in memory, its files under the folder's own name (what
    the dashboard offers as a download)."""
    folder = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return buffer.getvalue()

