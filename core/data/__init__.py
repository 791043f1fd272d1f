"""Inputs: music files -> encoded sequences (the first stage of the data flow).

symbols     one symbol of either thesis encoding (note, chord, rest, hold, duration)
encoding    a part as Model 1 steps or Model 2 pitch + duration events, and back
vocabulary  symbols numbered in order of first appearance (vocab.json)
timeline    time arithmetic: where each symbol of a part sits, for either model; the 16th grid
notes       the one note-table builder (one row per sounding pitch) and its piano roll
scores      one score file read with music21 and split into lead and accompaniment
corpus      the Corpus / Piece / PartData records and the part names
prepare     a corpus prepared from files: read, encode, hold out, cache
cache       the prepared corpus on disk (JSON + a per-file CSV report)
uploads     saving uploaded files and zips safely
statistics  corpus tables the Corpus page shows before anyone trains
"""
