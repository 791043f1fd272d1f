"""The experiment-comparison dashboard: `streamlit run app.py` (or `make run`).

Pages only present and call `core`; every result shown comes from files under runs/. Each page
is one file in views/ whose body is `main()`, registered here; st.navigation runs it after
this script has set the page up (icon and styles from assets/, the glossary in the sidebar).
The first page, Start, says what the lab is and leads to the next step.
"""
import streamlit as st

from core.assets import APP_STYLE, ICON, asset_path, read_asset
from views.common import glossary, restore_corpus_choice

st.set_page_config(page_title="LSTM vs GRU music lab", page_icon=str(asset_path(ICON)),
                   layout="wide")
st.html(f"<style>{read_asset(APP_STYLE)}</style>")

pages = st.navigation([
    st.Page("views/home.py", title="Start", icon=":material/home:", default=True),
    st.Page("views/corpus.py", title="Corpus", icon=":material/library_music:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/compare.py", title="Compare", icon=":material/monitoring:"),
    st.Page("views/listen.py", title="Listen", icon=":material/headphones:"),
    st.Page("views/listening.py", title="Listening test", icon=":material/hearing:"),
])
restore_corpus_choice()  # a new session starts on the corpus last prepared
glossary()
pages.run()
