"""Poolside's benchmark suite: the same workloads through Poolside and its peers, in one run.

Run it with ``python -m benchmarks`` (``--help`` for the flags); README.md in
this folder says how to read the table.  Nothing here is a test: the numbers
are medians and ratios against the peers measured in the same run, never
absolute wall-clock limits.
"""
