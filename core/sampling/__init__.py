"""Trained networks -> generated sequences (the third stage).

decoding    the five decoding strategies: how the next symbol is chosen from a distribution
window      the thesis's generation: re-feed the whole window for every new symbol
stateful    one step per symbol, carrying the recurrent state
seeds       seed windows from a corpus piece or a user's file
generation  one generation path: lead and accompaniment runs -> saved samples
"""
