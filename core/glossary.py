"""The lab's words in plain language, in one place: every page's sidebar and the defense
report print this list, so a term means the same wherever a newcomer or a committee meets it.

Each entry is (term, explanation); explanations are Markdown-free plain text so the report can
escape them and a page can print them as they are.
"""
from __future__ import annotations

GLOSSARY: tuple[tuple[str, str], ...] = (
    # the encodings
    ("16th-step symbols (Model 1)",
     "Model 1 reads and writes music one 16th note at a time: each step is one symbol, the "
     "note or chord that starts there, a hold _ or a rest r."),
    ("pitch + duration events (Model 2)",
     "Model 2 writes each note or chord as two symbols predicted by two heads: its pitch and "
     "its duration in quarter notes."),
    ("pitch-class chord",
     "A chord written as its pitch classes (0 = C ... 11 = B) joined by dots, e.g. 0.4.7 for "
     "C major: the octave is dropped, as in the thesis."),
    ("hold _", "The previous note or chord goes on for one more 16th step."),
    ("rest r", "Silence starts at this step."),
    ("window", "How many symbols a network reads to predict the next one."),
    # training and measuring
    ("epoch", "One pass over every training window."),
    ("held-out pieces",
     "Whole pieces set aside before training and never trained on: scores on them show "
     "whether a network learnt music or memorised its training pieces."),
    ("cross-entropy loss (nats)",
     "How surprised the network is by the real next symbol: minus the natural log of the "
     "probability it gave it, averaged. 0 is a perfect prediction; lower is better."),
    ("accuracy",
     "The share of next symbols the network ranks first. Model 1's steps are mostly holds, "
     "so compare it with the baseline."),
    ("note accuracy",
     "Model 1: accuracy on the steps where something new happens (a note, chord or rest, "
     "not a hold): is it the right one? The baseline always answers the most frequent one."),
    ("onset accuracy",
     "Model 1: does the network answer 'something new' where a new event starts and 'hold' "
     "where the last one goes on? The mean of the two shares it gets right, so always "
     "answering 'hold' scores 0.5."),
    ("baseline",
     "What a network that ignores the music scores on the same held-out windows: always "
     "predicting the most frequent symbol (accuracy, note accuracy), any constant answer "
     "(onset accuracy, 0.5) or just the symbols' frequencies (unigram entropy, for the "
     "loss). A run that does not beat it learnt nothing."),
    ("LSTM / GRU",
     "The two recurrent cells the thesis compares: the LSTM has 4 gates, the GRU 3, so at "
     "equal width a GRU has about 3/4 of the parameters."),
    ("seed (training)",
     "The random start of a run; several seeds of one setting show how much a result varies "
     "by chance."),
    ("Welch interval",
     "The 95% confidence interval of the difference GRU - LSTM in best held-out loss across "
     "seeds; a winner is named only when it excludes zero."),
    # decoding
    ("greedy", "Always write the most likely next symbol (temperature 0)."),
    ("temperature",
     "Sample the next symbol after sharpening (t < 1) or flattening (t > 1) the network's "
     "probabilities; t = 0 is greedy."),
    ("top-k", "Sample among the k most likely next symbols only."),
    ("top-p (nucleus)",
     "Sample among the most likely next symbols whose probabilities add up to p."),
    ("beam search",
     "Keep the few most likely continuations at every step and return the likeliest whole "
     "one."),
    # music metrics
    ("pitch range", "Highest minus lowest pitch, in semitones."),
    ("scale consistency",
     "The largest share of notes that fit one major or minor scale; 1 = stays in one key."),
    ("polyphony", "How many pitches sound at once, on average, when any sound."),
    ("loop share",
     "The share of the lead's symbols inside an exact repeat of 8 or more; greedy decoding "
     "tends to 1."),
    ("consonance",
     "The share of lead notes that start consonant with the sounding accompaniment."),
    ("novelty / memorisation",
     "The share of the piece's n-grams found in no training piece, and the longest passage "
     "copied verbatim from one."),
    ("overlapping area",
     "How much a metric's distribution over generated pieces overlaps its distribution over "
     "the real held-out pieces: 1 = the same, 0 = nothing in common."),
    ("blind listening test",
     "Listeners hear a real continuation and a generated one from the same opening, in random "
     "order, and pick the real one; 50% right means they cannot tell them apart. The exact "
     "binomial test says whether a share differs from chance."),
)
