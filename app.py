"""The experiment-comparison dashboard: `streamlit run app.py` (or `make run`).

Pages only present and call `core`; every result shown comes from files under runs/.
"""
import streamlit as st

st.set_page_config(page_title="LSTM vs GRU music lab", page_icon=":material/music_note:", layout="wide")

pages = st.navigation([
    st.Page("views/corpus.py", title="Corpus", icon=":material/library_music:", default=True),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/compare.py", title="Compare", icon=":material/monitoring:"),
    st.Page("views/listen.py", title="Listen", icon=":material/headphones:"),
])
pages.run()
