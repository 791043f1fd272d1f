"""Polyphonic music generation with LSTM and GRU networks, after the thesis in shared/thesis.

The packages follow the flow of data, one way: music files -> encoded sequences -> networks
-> trained runs -> generated sequences -> music files, numbers, figures and the report.
STAGES lists them in that order, and a module imports only from its own stage or an earlier
one (tests/test_imports.py checks every import, those inside functions too): a stage uses
what the stages before it made and never reaches forward.

    base       folders, processes (children, identity), files (atomic writes, stamps),
               faults (pause points), assets, glossary: what every stage stands on
    data/      music files -> encoded sequences (symbols, encodings, corpus, uploads)
    nets/      encoded sequences -> networks (settings, windows, wiring, schedule)
    runs/      networks -> trained runs on disk (the record, training, the worker)
    rendering/ one piece's symbols -> score, MIDI, MusicXML, SVG, WAV (needs only data)
    sampling/  trained runs -> generated sequences, saved and rendered as samples
    evidence/  runs and samples -> curves, tables, metrics, evaluation, the verdict
    outputs/   runs and evidence -> the figures and the defense report
    sweeps/    many settings x seeds, each trial a run (Ray Tune)
    commands   `python -m core` (cli/) and the speed and memory figures (bench/)

The dashboard's pages (views/, app.py) stand above all of them and only present and call
core. No module here imports Streamlit, so everything runs from the CLI, tests and notebooks.
"""

# (stage, the modules and packages in it), earliest first.
STAGES = (
    ("base", ("core.folders", "core.processes", "core.files", "core.faults", "core.assets",
              "core.glossary")),
    ("data", ("core.data",)),
    ("nets", ("core.nets",)),
    ("runs", ("core.runs",)),
    ("rendering", ("core.rendering",)),
    ("sampling", ("core.sampling",)),
    ("evidence", ("core.evidence",)),
    ("outputs", ("core.outputs",)),
    ("sweeps", ("core.sweeps",)),
    ("commands", ("core.cli", "core.bench", "core.__main__")),
)
