"""Engraving: MusicXML to SVG pages with Verovio, each page scalable to any width."""
from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import verovio

from core.rendering.score import RenderError

verovio.enableLog(verovio.LOG_OFF)  # its warnings about MusicXML details would flood the log


_ROOT_SIZE = re.compile(r'<svg\b([^>]*?)\swidth="([\d.]+)px"\s+height="([\d.]+)px"')


def scalable_svg(svg: str) -> str:
    """An SVG page whose outer element has a viewBox, so CSS (or an <img>) can shrink it to
    a column and keep its proportions; Verovio gives the outer element a size only. Pages
    that already have one are returned as they are."""
    start = svg.find("<svg")
    if start < 0 or "viewBox" in svg[start:svg.find(">", start)]:
        return svg
    return _ROOT_SIZE.sub(lambda m: f'<svg{m.group(1)} width="{m.group(2)}px" '
                                    f'height="{m.group(3)}px" '
                                    f'viewBox="0 0 {m.group(2)} {m.group(3)}"', svg, count=1)


def _page_path(first: Path, page: int) -> Path:
    return first if page == 1 else first.with_name(f"{first.stem}-{page}{first.suffix}")


def _remove_stale_pages(first: Path, pages: int) -> None:
    """A shorter re-render must not leave pages of the previous score beside it."""
    pattern = re.compile(rf"{re.escape(first.stem)}-(\d+){re.escape(first.suffix)}")
    for candidate in first.parent.glob(f"{first.stem}-*{first.suffix}"):
        match = pattern.fullmatch(candidate.name)
        if match and int(match.group(1)) > pages:
            candidate.unlink()


def _toolkit() -> verovio.toolkit:
    """A Verovio toolkit that finds its fonts in any thread.

    verovio sets its default resource path (the fonts) at import, for the importing thread
    only; a toolkit made in another thread (Streamlit runs every page in a script thread)
    falls back to a build-time path, loads no font and reads no file. So the path is given
    to each toolkit explicitly.
    """
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(files("verovio") / "data"))
    return toolkit


def render_svg(musicxml_path: Path | str, svg_path: Path | str,
               page_width: int = 2100) -> list[Path]:
    """Engrave MusicXML with Verovio, one SVG per page (name.svg, name-2.svg, ...).

    Page height follows the content, so a short piece is one short image, not an A4 sheet.
    """
    musicxml_path, svg_path = Path(musicxml_path), Path(svg_path)
    toolkit = _toolkit()
    toolkit.setOptions({"pageWidth": page_width, "adjustPageHeight": True, "scale": 40,
                        "breaks": "auto", "footer": "none", "header": "none"})
    if not musicxml_path.is_file() or not toolkit.loadFile(str(musicxml_path)):
        raise RenderError(f"verovio could not read {musicxml_path}")
    count = toolkit.getPageCount()
    if count < 1:
        raise RenderError(f"verovio engraved no page from {musicxml_path}")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in range(1, count + 1):
        path = _page_path(svg_path, page)
        path.write_text(scalable_svg(toolkit.renderToSVG(page)), encoding="utf-8")
        paths.append(path)
    _remove_stale_pages(svg_path, count)
    return paths
