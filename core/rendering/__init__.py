"""Generated sequences -> one piece's music files: score, MIDI, MusicXML, SVG pages, note
table and WAV. It needs only data's decoders, so generation (every saved sample) and the
listening test (every clip) render through it alike; the figures and the report that show
many runs at once are core.outputs'.

score      the two parts as one piano score; MIDI and MusicXML files
audio      WAV through FluidSynth (midi2audio), loudness matched between clips
engraving  SVG pages through Verovio
piece      generated symbols as one score (lead over accompaniment), every output of one
           piece in one folder
"""
