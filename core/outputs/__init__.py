"""Runs, samples and evidence -> what the lab shows about many runs at once (the last stage):
the figures the pages and the report draw, and the defense report. One piece's music files
are core.rendering's, one layer down.

figures      every chart, for the pages and the report (one colour per run everywhere)
report       the self-contained defense report (HTML, PDF through Chromium, a zip)
destination  where an output folder may be written without overwriting what it did not write
"""
