"""Poolside's one vocabulary for people: how numbers, configurations and verdicts read.

    engine / study / history ──numbers──► poolside.words ──text, colour keys──► CLI, window, exports

``core`` measures and returns numbers; this package is the one place where they
become words, so that the CLI, the window, the history and every export say the
same thing the same way.  No Qt here.

- ``configs``: a configuration's label, a backend's family and its colour key;
- ``runs``: a run's summary line, its insights as sentences, the history's run states;
- ``study``: a study's diagnoses, its *why*, its warnings and notes;
- ``units``: durations, sizes, counts, rates, moments, statuses and table cells.

``tests/words`` checks that each of these is defined here and nowhere else.
"""
