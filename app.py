"""The experiment-comparison dashboard: `streamlit run app.py` (or `make run`).

Pages only present and call `core`; every result shown comes from files under runs/. Each page
is one file in views/ whose body is `main()`, registered here from views.pages (the one page
list); st.navigation runs it after this script has set the page up (icon and styles from
assets/, the glossary in the sidebar).
The first page, Start, says what the lab is and leads to the next step.
"""
import streamlit as st

from core.assets import APP_STYLE, ICON, asset_path, read_asset
from views.common import glossary, restore_corpus_choice
from views.pages import PAGES

st.set_page_config(page_title="LSTM vs GRU music lab", page_icon=str(asset_path(ICON)),
                   layout="wide")
st.html(f"<style>{read_asset(APP_STYLE)}</style>")

pages = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=p == PAGES[0])
                       for p in PAGES])
restore_corpus_choice()  # a new session starts on the corpus last prepared
glossary()
pages.run()
