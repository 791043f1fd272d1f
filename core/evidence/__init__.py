"""Runs and samples -> numbers: curves, tables, metrics, evaluation and the verdict.

curves         history.csv as long rows (run x epoch x metric x split), smoothing (pandas'
               ewm, TensorBoard's bias-corrected average)
tables         the thesis's Tables 2 and 3, the hyperparameter table
metrics        music metrics of one piece (MusPy definitions, loops, consonance)
ngrams         novelty and memorisation against the training pieces
distributions  overlap of two metric distributions (Yang & Lerch; scipy's KDE)
measure        measuring a span of a piece or a saved sample
evaluation     generated pieces vs the real held-out continuations
conditioning   independent vs lead-conditioned accompaniment
experiments    seeds and parameter-matched (fair) LSTM vs GRU settings
grouping       runs grouped by setting, seed bands
statistics     Welch's interval and test, the exact binomial test (scipy.stats)
verdict        LSTM vs GRU per setting, in words
baselines      what a run's own held-out data scores when nothing is learnt (most frequent
               symbol, unigram entropy), beside its curves and Tables 2/3
quality        generated music against the held-out pieces, as a share of the Bach-against-
               Bach ceiling
listening      the blind listening test: real vs generated clip pairs (rendered as samples are,
               core.rendering), answers, binomial test
"""
