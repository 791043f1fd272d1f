"""Inputs: music files -> encoded sequences (the first stage of the data flow).

symbols     one symbol of either thesis encoding (note, chord, rest, hold, duration)
encoding    a part as Model 1 steps or Model 2 pitch + duration events, and back
vocabulary  symbols numbered in order of first appearance (vocab.json)
nearest     the nearest symbol a vocabulary knows, for one it lacks (seeds from user files)
timeline    time arithmetic: where each symbol of a part sits, for either model; the 16th grid
notes       the one note-table builder (one row per sounding pitch) and its piano roll
tracks      a file's instruments as note arrays on the 16th grid, messy timing cleaned
midi        MIDI files read with symusic into grid tracks; plain reasons for bad files
scores      score files read with music21: the bundled chorales, a user's MusicXML / ABC
roles       which tracks become lead and accompaniment; the roles file of overrides
pieces      one file -> one encoded piece or one plain reason (prepare, uploads, seeds)
corpus      the Corpus / Piece / PartData records and the part names
prepare     a corpus prepared from files: read, encode, hold out, cache, with progress
cache       the prepared corpus on disk (.npz of symbol ids + a per-file CSV report)
uploads     saving uploaded files and zips safely
statistics  corpus tables the Corpus page shows before anyone trains
"""
