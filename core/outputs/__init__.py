"""Generated sequences -> score, MIDI, MusicXML, audio, pictures and the report (the last
stage).

score      the two generated parts as one score; MIDI and MusicXML files
audio      WAV through FluidSynth (midi2audio)
engraving  SVG pages through Verovio
rendering  every output of one piece in one folder
report     the self-contained defense report (HTML, PDF through Chromium)
"""
