"""The dashboard's pages in the order of its path (Start, then Corpus -> Train -> Compare ->
Listen -> Listening test): each page's file, title and icon, which app.py registers
(st.navigation) and the Start page lists as its steps and buttons.
"""
from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    title: str
    path: str
    icon: str


PAGES = (Page("Start", "views/home.py", ":material/home:"),
         Page("Corpus", "views/corpus.py", ":material/library_music:"),
         Page("Train", "views/train.py", ":material/model_training:"),
         Page("Compare", "views/compare.py", ":material/monitoring:"),
         Page("Listen", "views/listen.py", ":material/headphones:"),
         Page("Listening test", "views/listening.py", ":material/hearing:"))


def page(title: str) -> Page:
    """The page with this title."""
    return next(p for p in PAGES if p.title == title)
