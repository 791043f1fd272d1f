"""Trained runs -> generated sequences, each saved and rendered as a sample (the third stage).

decoding    the five decoding strategies (Decoding, its label and title): how the next symbol
            is chosen from a distribution
window      engine 1, the thesis's generation: re-feed the whole window for every new symbol
stateful    engine 2: one step per symbol, carrying the recurrent state (models' own wiring)
context     what a network reads beside its symbols: the lead it follows, the bar position
seeds       seed windows from a corpus piece or a user's file
generation  the one generation path: every part for a batch of seed pieces (generate_parts;
            a saved sample is a batch of one), the engine chosen by continue_ids
saving      a generated piece saved as a sample: rendered (core.rendering), sample.json last
"""
