"""Polyphonic music generation with LSTM and GRU networks, after the thesis in shared/thesis.

The packages follow the flow of data, one way:

    data/      music files -> encoded sequences (symbols, encodings, corpus, uploads)
    nets/      encoded sequences -> trained networks (config, windows, models, training)
    sampling/  trained networks -> generated sequences (decoding, window / stateful, seeds)
    outputs/   generated sequences -> score, MIDI, MusicXML, WAV, SVG, the defense report
    runs/      the on-disk record every stage reads and writes (runs/<id>/...), the worker
    evidence/  runs and samples -> curves, tables, metrics, evaluation, the LSTM vs GRU verdict

`cli` is `python -m core`; `bench` prints the speed and memory figures; `glossary` holds the
lab's terms in plain words for every page and the report. No module here imports
Streamlit, so everything runs from the CLI, tests and notebooks.
"""
