"""Polyphonic music generation with LSTM and GRU networks, after the thesis in shared/thesis.

Data flows one way: corpus -> encoding -> windows -> models/training -> runs -> generation ->
rendering; metrics and evaluation read what those stages write. No module here imports
Streamlit, so everything runs from the CLI (`python -m core`), tests and notebooks.
"""
